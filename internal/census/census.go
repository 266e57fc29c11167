// Package census folds what the ring knows — its members and the rumors in
// its store — into Habitat's census: service groups, each with the members
// running the service, its gossiped config and its files. It is a pure
// function of its input: no I/O, no goroutines, no state between builds.
// The ring rebuilds the census whenever its members or rumors change; the
// gateway serves it as /census (JSON) and /butterfly (Butterfly), the
// service renders templates with SvcData and BindData and waits on binds
// with Satisfies.
package census

import (
	"bytes"
	"github.com/tend-sh/tend/internal/spec"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/svccfg"
)

// Member health, as the ring reports it.
const (
	Alive     = "alive"
	Suspect   = "suspect"
	Confirmed = "confirmed"
	Departed  = "departed"
)

// Member is one member of the ring.
type Member struct {
	ID          string
	Health      string // alive | suspect | confirmed | departed
	Address     string // where peers reach it (gossip)
	Port        int    // its gossip port
	Permanent   bool
	Incarnation uint64
}

// Input is everything the census is folded from.
type Input struct {
	LocalID string
	Members []Member      // every member the ring knows, the local one included
	Rumors  []rumor.Rumor // every rumor in the store
}

// Census is the folded view of the ring. It is read-only once built.
type Census struct {
	localID  string
	groups   map[string]*Group
	names    []string // sorted keys of groups
	health   map[string]int
	byID     map[string]string // every member the ring knows or a departure names -> health
	counters counters
}

// Group is one service group of the census.
type Group struct {
	sg      string
	id      groupID
	localID string
	members []*member // every member with a live service rumor, by id
	config  *config   // nil: no (parsable) config was gossiped
	files   []rumor.File
	// election is the group's leader election; nil when none was gossiped.
	election *rumor.Election
	// updateElection is the group's update-leader election (rolling
	// updates), target the package its update leader published; nil when
	// none was gossiped.
	updateElection *rumor.Election
	target         *rumor.Update
	digest         string
}

// member is one member's entry in a group's population.
type member struct {
	id         string
	health     string
	persistent bool
	svc        *rumor.Service
	sys        rumor.Sys
	cfg        map[string]any // cleaned copy of svc.Cfg
}

type config struct {
	incarnation uint64
	toml        []byte
	value       map[string]any
}

// counters stand in for Habitat's store update counters, which a stateless
// fold cannot have: each is the sum of the incarnations in one store (plus
// the number of entries), so it moves whenever that store changes.
type counters struct {
	membership, service, config, file, departure, election, electionUpdate uint64
}

// Build folds in into a census.
//
// Service rumors: the highest incarnation per (group, member) wins, and one
// with Gone set drops the member from the group. A group exists while at
// least one member runs it and its group name parses (name.group[@org]).
// Health comes from the member list (a member the ring does not know is
// confirmed; the local member is alive if absent), and a Departure rumor
// makes a member departed whatever the ring says. Config rumors: the
// highest incarnation whose TOML parses. File rumors: the highest
// incarnation per file name; names that are not plain base names are
// ignored.
func Build(in Input) *Census {
	st := fold(in)
	c := &Census{
		localID:  in.LocalID,
		groups:   make(map[string]*Group),
		health:   map[string]int{Alive: 0, Suspect: 0, Confirmed: 0, Departed: 0},
		byID:     make(map[string]string, len(st.members)),
		counters: st.counters,
	}
	for id, m := range st.members {
		h := st.healthOf(id, m.Health, in.LocalID)
		c.health[h]++
		c.byID[id] = h
	}
	for id := range st.departed {
		c.byID[id] = Departed
	}
	for key, svc := range st.services {
		if svc.Gone {
			continue
		}
		gid, ok := parseGroup(key.sg)
		if !ok {
			continue
		}
		g := c.groups[key.sg]
		if g == nil {
			g = &Group{sg: key.sg, id: gid, localID: in.LocalID}
			c.groups[key.sg] = g
		}
		m := &member{id: key.member, svc: svc, sys: svc.Sys, cfg: cleanCfg(svc.Cfg)}
		rec, known := st.members[key.member]
		m.health = st.healthOf(key.member, rec.Health, in.LocalID)
		if known {
			m.persistent = rec.Permanent
			// As Habitat does, the gossip address is the one the ring
			// actually reaches the member at.
			if rec.Address != "" {
				m.sys.GossipIP = rec.Address
			}
			if rec.Port > 0 {
				m.sys.GossipPort = rec.Port
			}
		}
		g.members = append(g.members, m)
	}
	for sg, g := range c.groups {
		slices.SortFunc(g.members, func(a, b *member) int { return strings.Compare(a.id, b.id) })
		g.config = latestConfig(st.configs[sg])
		g.election = st.elections[sg]
		g.updateElection = st.updates[sg]
		g.target = st.targets[sg]
		for _, f := range st.files[sg] {
			if validFilename(f.Filename) {
				g.files = append(g.files, *f)
			}
		}
		slices.SortFunc(g.files, func(a, b rumor.File) int { return strings.Compare(a.Filename, b.Filename) })
		g.digest = g.makeDigest()
		c.names = append(c.names, sg)
	}
	slices.Sort(c.names)
	return c
}

// Groups is the service groups, sorted.
func (c *Census) Groups() []string { return slices.Clone(c.names) }

// Group is one service group, nil if the census has no such group.
func (c *Census) Group(sg string) *Group { return c.groups[sg] }

// Health is what the ring says of a member (alive, suspect, confirmed,
// departed), "" when it knows nothing of it.
func (c *Census) Health(id string) string { return c.byID[id] }

// LocalID is the local member's id.
func (c *Census) LocalID() string { return c.localID }

// MemberHealth counts the ring's members by health (alive, suspect,
// confirmed, departed; every key present), for metrics.
func (c *Census) MemberHealth() map[string]int {
	out := make(map[string]int, len(c.health))
	for k, v := range c.health {
		out[k] = v
	}
	return out
}

// Name is the group's full name, name.group[@org].
func (g *Group) Name() string { return g.sg }

// Config is the group's latest gossiped config: its incarnation (the
// version given to `config apply`) and TOML. ok is false when none was
// gossiped or the latest ones do not parse.
func (g *Group) Config() (incarnation uint64, toml []byte, ok bool) {
	if g.config == nil {
		return 0, nil, false
	}
	return g.config.incarnation, bytes.Clone(g.config.toml), true
}

// Files is the group's files, the latest of each name, sorted by name.
// Bodies are shared with the census and must not be modified.
func (g *Group) Files() []rumor.File { return slices.Clone(g.files) }

// ---- the fold ----

type serviceKey struct{ sg, member string }

type state struct {
	members   map[string]Member
	departed  map[string]bool
	services  map[serviceKey]*rumor.Service
	configs   map[string][]*rumor.Config // by group, all of them
	files     map[string]map[string]*rumor.File
	elections map[string]*rumor.Election
	updates   map[string]*rumor.Election // update-leader elections
	targets   map[string]*rumor.Update
	counters  counters
}

// fold applies the stores' merge rules to in: what survives of each kind.
func fold(in Input) *state {
	st := &state{
		members:   make(map[string]Member, len(in.Members)),
		departed:  make(map[string]bool),
		services:  make(map[serviceKey]*rumor.Service),
		configs:   make(map[string][]*rumor.Config),
		files:     make(map[string]map[string]*rumor.File),
		elections: make(map[string]*rumor.Election),
		updates:   make(map[string]*rumor.Election),
		targets:   make(map[string]*rumor.Update),
	}
	for _, m := range in.Members {
		if cur, ok := st.members[m.ID]; ok && cur.Incarnation > m.Incarnation {
			continue
		}
		st.members[m.ID] = m
	}
	for i := range in.Rumors {
		r := &in.Rumors[i]
		switch r.Kind {
		case rumor.KindService:
			s := r.Service
			if s == nil {
				continue
			}
			k := serviceKey{s.ServiceGroup, s.MemberID}
			cur, ok := st.services[k]
			// Higher incarnation wins; on a tie a tombstone wins, so an
			// unload is never undone by a duplicate.
			if !ok || s.Incarnation > cur.Incarnation || (s.Incarnation == cur.Incarnation && s.Gone && !cur.Gone) {
				st.services[k] = s
			}
		case rumor.KindConfig:
			if c := r.Config; c != nil {
				st.configs[c.ServiceGroup] = append(st.configs[c.ServiceGroup], c)
			}
		case rumor.KindFile:
			f := r.File
			if f == nil {
				continue
			}
			byName := st.files[f.ServiceGroup]
			if byName == nil {
				byName = make(map[string]*rumor.File)
				st.files[f.ServiceGroup] = byName
			}
			if cur, ok := byName[f.Filename]; !ok || f.Incarnation > cur.Incarnation {
				byName[f.Filename] = f
			}
		case rumor.KindDeparture:
			if d := r.Departure; d != nil {
				st.departed[d.MemberID] = true
			}
		case rumor.KindElection:
			if e := r.Election; e != nil {
				st.elections[e.ServiceGroup] = rumor.MergeElection(st.elections[e.ServiceGroup], e)
			}
		case rumor.KindElectionUpdate:
			if e := r.Election; e != nil {
				st.updates[e.ServiceGroup] = rumor.MergeElection(st.updates[e.ServiceGroup], e)
			}
		case rumor.KindUpdate:
			if u := r.Update; u != nil {
				if cur := st.targets[u.ServiceGroup]; cur == nil || u.Incarnation > cur.Incarnation {
					st.targets[u.ServiceGroup] = u
				}
			}
		}
	}
	for _, m := range st.members {
		st.counters.membership += 1 + m.Incarnation
	}
	for _, s := range st.services {
		st.counters.service += 1 + s.Incarnation
	}
	for _, cs := range st.configs {
		if c := latestRumor(cs); c != nil {
			st.counters.config += 1 + c.Incarnation
		}
	}
	for _, byName := range st.files {
		for _, f := range byName {
			st.counters.file += 1 + f.Incarnation
		}
	}
	st.counters.departure = uint64(len(st.departed))
	for _, e := range st.elections {
		st.counters.election += 1 + e.Term + uint64(len(e.Votes))
	}
	for _, e := range st.updates {
		st.counters.electionUpdate += 1 + e.Term + uint64(len(e.Votes))
	}
	return st
}

// healthOf is a member's health: departed if a Departure rumor says so,
// else what the ring says; a member the ring does not list is confirmed
// (gone from the ring) unless it is the local one.
func (st *state) healthOf(id, ringHealth, localID string) string {
	if st.departed[id] {
		return Departed
	}
	if _, known := st.members[id]; !known {
		if id == localID {
			return Alive
		}
		return Confirmed
	}
	switch strings.ToLower(ringHealth) {
	case Alive:
		return Alive
	case Suspect:
		return Suspect
	case Departed, "left":
		return Departed
	default: // confirmed, dead, or anything unknown
		return Confirmed
	}
}

// latestRumor is the config rumor the store keeps: the highest
// incarnation, the first of equals (a lower or equal one is ignored).
func latestRumor(cs []*rumor.Config) *rumor.Config {
	var best *rumor.Config
	for _, c := range cs {
		if best == nil || c.Incarnation > best.Incarnation {
			best = c
		}
	}
	return best
}

// latestConfig is the census's config: the highest incarnation whose TOML
// parses, as Habitat's census skips a config it cannot decode.
func latestConfig(cs []*rumor.Config) *config {
	var best *config
	for _, c := range cs {
		if best != nil && c.Incarnation <= best.incarnation {
			continue
		}
		v, err := svccfg.ParseTOML(c.ServiceGroup, c.Config)
		if err != nil {
			continue
		}
		best = &config{incarnation: c.Incarnation, toml: c.Config, value: cleanCfg(v)}
	}
	return best
}

// validFilename accepts a plain base name, which is all `file upload`
// sends; anything else could escape the service's files directory.
func validFilename(name string) bool {
	return rumor.CheckFilename(name) == nil
}

// cleanCfg copies a config for JSON: non-finite floats (which JSON cannot
// carry) become null, as serde_json writes them, and top-level nulls are
// left out (the census schema allows none there, and Habitat leaves out an
// export without a value).
func cleanCfg(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if v = clean(v); v != nil {
			out[k] = v
		}
	}
	return out
}

func clean(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clean(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clean(e)
		}
		return s
	case []map[string]any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clean(e)
		}
		return s
	case []float64:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clean(e)
		}
		return s
	}
	return v
}

// ---- service groups ----

// groupID is a parsed service group name.
type groupID struct {
	service, group, org string
	hasOrg              bool
}

// parseGroup splits name.group[@org] with Habitat's ServiceGroup rules.
func parseGroup(sg string) (groupID, bool) {
	svc, group, org, err := spec.ParseServiceGroup(sg)
	if err != nil {
		return groupID{}, false
	}
	return groupID{service: svc, group: group, org: org, hasOrg: org != ""}, true
}

// Digest names everything a group's views are made of: members with their
// health, rumor incarnations and gossip addresses, the config version, the
// files' versions, both elections and the rolling target. A rumor's
// content changes only with its incarnation, so two folds giving a group
// the same digest give it the same template data, config and files, and a
// caller holding a view built from one need not build it again.
func (g *Group) Digest() string { return g.digest }

func (g *Group) makeDigest() string {
	b := make([]byte, 0, 64*len(g.members)+32)
	for _, m := range g.members {
		b = append(b, m.id...)
		b = append(b, ' ')
		b = append(b, m.health...)
		b = strconv.AppendBool(append(b, ' '), m.persistent)
		b = strconv.AppendUint(append(b, ' '), m.svc.Incarnation, 10)
		b = append(append(b, ' '), m.sys.GossipIP...)
		b = strconv.AppendInt(append(b, ' '), int64(m.sys.GossipPort), 10)
		b = append(b, ';')
	}
	if g.config != nil {
		b = strconv.AppendUint(append(b, "config "...), g.config.incarnation, 10)
	}
	for _, f := range g.files {
		b = append(append(b, " file "...), f.Filename...)
		b = strconv.AppendUint(append(b, ' '), f.Incarnation, 10)
	}
	if e := g.election; e != nil {
		// Votes are left out: they change the view of no template.
		b = strconv.AppendUint(append(b, " election "...), e.Term, 10)
		b = append(append(append(append(b, ' '), e.Status...), ' '), e.MemberID...)
	}
	// The update election and the rolling target are template data too
	// (svc.update_election_*, svc.update_leader, pkg_incarnation).
	if e := g.updateElection; e != nil {
		b = strconv.AppendUint(append(b, " update "...), e.Term, 10)
		b = append(append(append(append(b, ' '), e.Status...), ' '), e.MemberID...)
	}
	if t := g.target; t != nil {
		b = strconv.AppendUint(append(b, " target "...), t.Incarnation, 10)
		b = append(append(b, ' '), t.Package...)
	}
	return string(b)
}
