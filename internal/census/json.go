package census

import (
	"slices"
	"strings"
)

// The /census document, Habitat's CensusRingProxy (habitat.md §1.6), with
// the field order and types of the gateway's single-member census.

type censusJSON struct {
	Changed                  bool                       `json:"changed"`
	CensusGroups             map[string]censusGroupJSON `json:"census_groups"`
	LocalMemberID            string                     `json:"local_member_id"`
	LastServiceCounter       uint64                     `json:"last_service_counter"`
	LastElectionCounter      uint64                     `json:"last_election_counter"`
	LastElectionUpdateCount  uint64                     `json:"last_election_update_counter"`
	LastMembershipCounter    uint64                     `json:"last_membership_counter"`
	LastServiceConfigCounter uint64                     `json:"last_service_config_counter"`
	LastServiceFileCounter   uint64                     `json:"last_service_file_counter"`
}

type censusGroupJSON struct {
	ServiceGroup         string                    `json:"service_group"`
	ElectionStatus       string                    `json:"election_status"`
	UpdateElectionStatus string                    `json:"update_election_status"`
	PkgIncarnation       uint64                    `json:"pkg_incarnation"`
	LeaderID             *string                   `json:"leader_id"`
	ServiceConfig        *serviceConfigJSON        `json:"service_config"` // null: none gossiped
	LocalMemberID        string                    `json:"local_member_id"`
	Population           map[string]map[string]any `json:"population"`
	UpdateLeaderID       *string                   `json:"update_leader_id"`
	ChangedServiceFiles  []string                  `json:"changed_service_files"`
	ServiceFiles         map[string]censusFileJSON `json:"service_files"`
}

type serviceConfigJSON struct {
	Incarnation uint64         `json:"incarnation"`
	Value       map[string]any `json:"value"`
}

type censusFileJSON struct {
	Filename    string `json:"filename"`
	Incarnation uint64 `json:"incarnation"`
	Body        []int  `json:"body"` // bytes, as serde writes a Vec<u8>
}

// JSON is the /census document. changed_service_files is always empty: it
// lists what changed since the previous census, which a stateless fold
// does not know (Files gives the files themselves).
func (c *Census) JSON() any {
	doc := censusJSON{
		CensusGroups:             make(map[string]censusGroupJSON, len(c.groups)),
		LocalMemberID:            c.localID,
		LastServiceCounter:       c.counters.service,
		LastElectionCounter:      c.counters.election,
		LastElectionUpdateCount:  c.counters.electionUpdate,
		LastMembershipCounter:    c.counters.membership,
		LastServiceConfigCounter: c.counters.config,
		LastServiceFileCounter:   c.counters.file,
	}
	for sg, g := range c.groups {
		gj := censusGroupJSON{
			ServiceGroup:         sg,
			ElectionStatus:       g.electionStatus(),
			UpdateElectionStatus: statusName(g.updateElection),
			LocalMemberID:        c.localID,
			Population:           make(map[string]map[string]any, len(g.members)),
			ChangedServiceFiles:  []string{},
			ServiceFiles:         make(map[string]censusFileJSON, len(g.files)),
		}
		for _, m := range g.members {
			gj.Population[m.id] = g.memberMap(m)
		}
		if id := g.LeaderID(); id != "" {
			gj.LeaderID = &id
		}
		if id := g.UpdateLeaderID(); id != "" {
			gj.UpdateLeaderID = &id
		}
		if g.target != nil {
			gj.PkgIncarnation = g.target.Incarnation
		}
		if g.config != nil {
			gj.ServiceConfig = &serviceConfigJSON{Incarnation: g.config.incarnation, Value: g.config.value}
		}
		for _, f := range g.files {
			gj.ServiceFiles[f.Filename] = censusFileJSON{Filename: f.Filename, Incarnation: f.Incarnation, Body: byteList(f.Body)}
		}
		doc.CensusGroups[sg] = gj
	}
	return doc
}

// memberMap is a member as Habitat's CensusMemberProxy writes it (24 keys),
// in the normal form templates use: maps, []any, string, bool, int64,
// float64, nil. The same map is the census's population entry and the
// template's svc.me / svc.members[i] / bind.X.members[i]. Its cfg is
// shared with the census: callers must not modify it.
func (g *Group) memberMap(m *member) map[string]any {
	var org any
	if g.id.hasOrg {
		org = g.id.org
	}
	s := m.sys
	out := map[string]any{
		"member_id":                    m.id,
		"pkg":                          pkgMap(m.svc.Package, g.id.service),
		"pkg_incarnation":              int64(0),
		"package":                      m.svc.Package,
		"service":                      g.id.service,
		"group":                        g.id.group,
		"org":                          org,
		"persistent":                   m.persistent,
		"leader":                       false,
		"follower":                     false,
		"update_leader":                false,
		"update_follower":              false,
		"election_is_running":          false,
		"election_is_no_quorum":        false,
		"election_is_finished":         false,
		"update_election_is_running":   false,
		"update_election_is_no_quorum": false,
		"update_election_is_finished":  false,
		"sys": map[string]any{
			"ip":                s.IP,
			"hostname":          s.Hostname,
			"gossip_ip":         s.GossipIP,
			"gossip_port":       int64(s.GossipPort),
			"http_gateway_ip":   s.HTTPGatewayIP,
			"http_gateway_port": int64(s.HTTPGatewayPort),
			"ctl_gateway_ip":    s.CtlGatewayIP,
			"ctl_gateway_port":  int64(s.CtlGatewayPort),
		},
		"alive":     m.health == Alive,
		"suspect":   m.health == Suspect,
		"confirmed": m.health == Confirmed,
		"departed":  m.health == Departed,
		"cfg":       m.cfg,
	}
	g.electionFlags(m, out)
	g.updateFlags(m, out)
	return out
}

// pkgMap splits origin/name/version/release; an unknown package (empty)
// is named by the service alone, as the gateway's local census does.
func pkgMap(ident, service string) map[string]any {
	p := splitPkg(ident, service)
	out := map[string]any{"origin": p.origin, "name": p.name, "version": nil, "release": nil}
	if p.hasVersion {
		out["version"] = p.version
	}
	if p.hasRelease {
		out["release"] = p.release
	}
	return out
}

// pkgParts is a package identifier split; a version or release the
// identifier does not have is null in the census ("" when it is empty).
type pkgParts struct {
	origin, name, version, release string
	hasVersion, hasRelease         bool
}

func splitPkg(ident, service string) pkgParts {
	p := pkgParts{name: service}
	if ident == "" {
		return p
	}
	// strings.SplitN(ident, "/", 4) without the slice: the last part
	// keeps any further slashes.
	origin, rest, ok := strings.Cut(ident, "/")
	if !ok {
		p.name = ident
		return p
	}
	p.origin = origin
	p.name, rest, ok = strings.Cut(rest, "/")
	if !ok {
		return p
	}
	p.hasVersion = true
	p.version, p.release, p.hasRelease = strings.Cut(rest, "/")
	return p
}

func byteList(b []byte) []int {
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

// ---- template data ----

// active is the members templates see: alive or suspect, by member id.
func (g *Group) active() []*member {
	var out []*member
	for _, m := range g.members {
		if m.health == Alive || m.health == Suspect {
			out = append(out, m)
		}
	}
	return out
}

// SvcData is the template data "svc" for a service of this group running
// on member localID (habitat.md §6.3): the election flags are the
// group's election's, leader the leader of a finished election (else
// null), first the leader if any, else the first active member by id;
// the update flags and update_leader are the update election's likewise
// (null while none finished). me is null when localID has no live
// service rumor in the group; first is null when no member is active.
func (g *Group) SvcData(localID string) map[string]any {
	var org any
	if g.id.hasOrg {
		org = g.id.org
	}
	members, first := g.memberList()
	leader := g.leaderMap()
	if leader != nil {
		first = leader
	}
	var me any
	if i := slices.IndexFunc(g.members, func(m *member) bool { return m.id == localID }); i >= 0 {
		me = g.memberMap(g.members[i])
	}
	out := map[string]any{
		"service":                      g.id.service,
		"group":                        g.id.group,
		"org":                          org,
		"election_is_running":          false,
		"election_is_no_quorum":        false,
		"election_is_finished":         false,
		"update_election_is_running":   false,
		"update_election_is_no_quorum": false,
		"update_election_is_finished":  false,
		"me":                           me,
		"members":                      members,
		"leader":                       leader,
		"first":                        first,
		"update_leader":                nil,
	}
	g.svcElection(out)
	g.svcUpdate(out)
	return out
}

// BindData is the template data bind.<name> for a bind to this group:
// first (the leader if any, else the first active member; null when no
// member is active), leader (null while the group has none) and the
// active members by id.
func (g *Group) BindData() map[string]any {
	members, first := g.memberList()
	leader := g.leaderMap()
	if leader != nil {
		first = leader
	}
	return map[string]any{"first": first, "leader": leader, "members": members}
}

func (g *Group) memberList() (members []any, first any) {
	act := g.active()
	members = make([]any, len(act))
	for i, m := range act {
		members[i] = g.memberMap(m)
	}
	if len(members) > 0 {
		first = members[0]
	}
	return members, first
}

// Satisfies reports whether the group can serve a bind that needs exports:
// an alive or suspect member exports every one of them (the strict bind
// check), and is not waiting for its service to say it is ready. With no
// exports, any active member will do.
func (g *Group) Satisfies(exports []string) bool {
	for _, m := range g.members {
		if m.health != Alive && m.health != Suspect || m.svc != nil && m.svc.NotReady {
			continue
		}
		ok := true
		for _, e := range exports {
			if _, has := m.cfg[e]; !has {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
