package census

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/tend-sh/tend/internal/jsonenc"
	"github.com/tend-sh/tend/internal/rumor"
)

// EncodeJSON is the /census document: byte for byte what encoding/json,
// with HTML characters left unescaped (api.Doc), makes of JSON(), written
// straight from the census instead. While a ring forms every census
// differs from the last one served, so each poll of /census is a fresh
// encode; through encoding/json's reflection over the population's maps
// that took 4.2 ms at 200 members, ten times what Build does. Key order
// is encoding/json's: struct fields as json.go declares them, map keys
// sorted. TestEncodeJSONIsEncodingJSON and FuzzEncodeJSON hold the two
// equal.
func (c *Census) EncodeJSON() ([]byte, error) {
	n := 512
	for _, g := range c.groups {
		n += 512 + 900*len(g.members)
	}
	return c.appendJSON(make([]byte, 0, n))
}

func (c *Census) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"changed":false,"census_groups":{`...)
	for i, sg := range c.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, sg)
		b = append(b, ':')
		if b, err = c.groups[sg].appendJSON(b, c.localID); err != nil {
			return nil, err
		}
	}
	b = append(b, `},"local_member_id":`...)
	b = appendString(b, c.localID)
	b = strconv.AppendUint(append(b, `,"last_service_counter":`...), c.counters.service, 10)
	b = strconv.AppendUint(append(b, `,"last_election_counter":`...), c.counters.election, 10)
	b = strconv.AppendUint(append(b, `,"last_election_update_counter":`...), c.counters.electionUpdate, 10)
	b = strconv.AppendUint(append(b, `,"last_membership_counter":`...), c.counters.membership, 10)
	b = strconv.AppendUint(append(b, `,"last_service_config_counter":`...), c.counters.config, 10)
	b = strconv.AppendUint(append(b, `,"last_service_file_counter":`...), c.counters.file, 10)
	return append(b, '}'), nil
}

// appendJSON is the group's censusGroupJSON.
func (g *Group) appendJSON(b []byte, localID string) ([]byte, error) {
	var err error
	b = append(b, `{"service_group":`...)
	b = appendString(b, g.sg)
	b = append(b, `,"election_status":`...)
	b = appendString(b, g.electionStatus())
	b = append(b, `,"update_election_status":`...)
	b = appendString(b, statusName(g.updateElection))
	var inc uint64
	if g.target != nil {
		inc = g.target.Incarnation
	}
	b = strconv.AppendUint(append(b, `,"pkg_incarnation":`...), inc, 10)
	b = appendOptString(append(b, `,"leader_id":`...), g.LeaderID())
	b = append(b, `,"service_config":`...)
	if g.config == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(append(b, `{"incarnation":`...), g.config.incarnation, 10)
		if b, err = appendValue(append(b, `,"value":`...), g.config.value); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	b = append(b, `,"local_member_id":`...)
	b = appendString(b, localID)
	b = append(b, `,"population":{`...)
	for i, m := range g.members { // sorted by id, as the map's keys
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, m.id), ':')
		if b, err = g.appendMember(b, m); err != nil {
			return nil, err
		}
	}
	b = append(b, '}')
	b = appendOptString(append(b, `,"update_leader_id":`...), g.UpdateLeaderID())
	b = append(b, `,"changed_service_files":[],"service_files":{`...)
	for i, f := range g.files { // sorted by name, one of each
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.Filename), `:{"filename":`...)
		b = appendString(b, f.Filename)
		b = strconv.AppendUint(append(b, `,"incarnation":`...), f.Incarnation, 10)
		b = append(b, `,"body":[`...)
		for j, c := range f.Body {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		b = append(b, "]}"...)
	}
	return append(b, "}}"...), nil
}

// appendMember is memberMap(m) encoded: its 24 keys in sorted order.
func (g *Group) appendMember(b []byte, m *member) ([]byte, error) {
	var err error
	el, up := flagsOf(g.election, m), flagsOf(g.updateElection, m)
	b = appendBool(append(b, `{"alive":`...), m.health == Alive)
	if b, err = appendValue(append(b, `,"cfg":`...), m.cfg); err != nil {
		return nil, err
	}
	b = appendBool(append(b, `,"confirmed":`...), m.health == Confirmed)
	b = appendBool(append(b, `,"departed":`...), m.health == Departed)
	b = appendBool(append(b, `,"election_is_finished":`...), el.finished)
	b = appendBool(append(b, `,"election_is_no_quorum":`...), el.noQuorum)
	b = appendBool(append(b, `,"election_is_running":`...), el.running)
	b = appendBool(append(b, `,"follower":`...), el.follower)
	b = appendString(append(b, `,"group":`...), g.id.group)
	b = appendBool(append(b, `,"leader":`...), el.leader)
	b = appendString(append(b, `,"member_id":`...), m.id)
	b = append(b, `,"org":`...)
	if g.id.hasOrg {
		b = appendString(b, g.id.org)
	} else {
		b = append(b, "null"...)
	}
	b = appendString(append(b, `,"package":`...), m.svc.Package)
	b = appendBool(append(b, `,"persistent":`...), m.persistent)
	p := splitPkg(m.svc.Package, g.id.service)
	b = appendString(append(b, `,"pkg":{"name":`...), p.name)
	b = appendString(append(b, `,"origin":`...), p.origin)
	b = appendPart(append(b, `,"release":`...), p.release, p.hasRelease)
	b = appendPart(append(b, `,"version":`...), p.version, p.hasVersion)
	var inc int64 // the target's, on a member that runs it (updateFlags)
	if t := g.target; t != nil && m.svc.Package == t.Package {
		inc = int64(t.Incarnation)
	}
	b = strconv.AppendInt(append(b, `},"pkg_incarnation":`...), inc, 10)
	b = appendString(append(b, `,"service":`...), g.id.service)
	b = appendBool(append(b, `,"suspect":`...), m.health == Suspect)
	s := m.sys
	b = appendString(append(b, `,"sys":{"ctl_gateway_ip":`...), s.CtlGatewayIP)
	b = strconv.AppendInt(append(b, `,"ctl_gateway_port":`...), int64(s.CtlGatewayPort), 10)
	b = appendString(append(b, `,"gossip_ip":`...), s.GossipIP)
	b = strconv.AppendInt(append(b, `,"gossip_port":`...), int64(s.GossipPort), 10)
	b = appendString(append(b, `,"hostname":`...), s.Hostname)
	b = appendString(append(b, `,"http_gateway_ip":`...), s.HTTPGatewayIP)
	b = strconv.AppendInt(append(b, `,"http_gateway_port":`...), int64(s.HTTPGatewayPort), 10)
	b = appendString(append(b, `,"ip":`...), s.IP)
	b = appendBool(append(b, `},"update_election_is_finished":`...), up.finished)
	b = appendBool(append(b, `,"update_election_is_no_quorum":`...), up.noQuorum)
	b = appendBool(append(b, `,"update_election_is_running":`...), up.running)
	b = appendBool(append(b, `,"update_follower":`...), up.follower)
	b = appendBool(append(b, `,"update_leader":`...), up.leader)
	return append(b, '}'), nil
}

// electionFlags are a member's keys of one election, as memberFlags sets
// them: all false without an election.
type electionFlags struct{ running, noQuorum, finished, leader, follower bool }

func flagsOf(e *rumor.Election, m *member) electionFlags {
	if e == nil {
		return electionFlags{}
	}
	f := electionFlags{running: e.Status == rumor.Running, noQuorum: e.Status == rumor.NoQuorum, finished: e.Finished()}
	if f.finished {
		f.leader, f.follower = m.id == e.MemberID, m.id != e.MemberID
	}
	return f
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendOptString is s, or null when it is empty (a *string left nil).
func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendPart(b []byte, s string, has bool) []byte {
	if !has {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendValue is v as encoding/json writes it: the types a cleaned cfg
// holds directly, anything else through encoding/json itself.
func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return appendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		return appendFloat(b, x)
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		var small [16]string // most cfgs: no allocation for the sort
		keys := small[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			if b, err = appendValue(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	// TOML dates, other number types: rare enough to hand over.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendFloat writes a float64 as encoding/json does (jsonenc), and
// refuses what it refuses.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	return jsonenc.AppendFloat(b, f), nil
}

// appendString writes s quoted as encoding/json does without HTML
// escaping (api.Doc's encoder).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, false) }
