package census

import (
	"slices"
	"strings"

	"github.com/tend-sh/tend/internal/rumor"
)

// The /butterfly document, Habitat's butterfly ServerProxy (habitat.md
// §1.7), with the field order and types of the gateway's single-member one.

type butterflyJSON struct {
	Member               memberStoreJSON                          `json:"member"`
	Membership           map[string]membershipJSON                `json:"membership"`
	Service              rumorStoreJSON[map[string]serviceJSON]   `json:"service"`
	Services             map[string]map[string]serviceJSON        `json:"services"`
	ServiceConfig        rumorStoreJSON[configEntryJSON]          `json:"service_config"`
	LatestServiceConfig  map[string]configJSON                    `json:"latest_service_config"`
	ServiceFile          rumorStoreJSON[map[string]fileJSON]      `json:"service_file"`
	ServiceFiles         map[string]map[string]fileJSON           `json:"service_files"`
	Election             rumorStoreJSON[any]                      `json:"election"`
	LatestElection       map[string]any                           `json:"latest_election"`
	ElectionUpdate       rumorStoreJSON[any]                      `json:"election_update"`
	LatestElectionUpdate map[string]any                           `json:"latest_election_update"`
	Departure            rumorStoreJSON[map[string]departureJSON] `json:"departure"`
	DepartedMembers      []string                                 `json:"departed_members"`
}

type memberStoreJSON struct {
	Members       map[string]memberJSON `json:"members"`
	Health        map[string]string     `json:"health"`
	UpdateCounter uint64                `json:"update_counter"`
}

type memberJSON struct {
	ID          string `json:"id"`
	Incarnation uint64 `json:"incarnation"`
	Address     string `json:"address"`
	SwimPort    int    `json:"swim_port"`
	GossipPort  int    `json:"gossip_port"`
	Persistent  bool   `json:"persistent"`
	Departed    bool   `json:"departed"`
}

type membershipJSON struct {
	Address     string `json:"address"`
	GossipPort  int    `json:"gossip_port"`
	Incarnation uint64 `json:"incarnation"`
	Persistent  bool   `json:"persistent"`
	SwimPort    int    `json:"swim_port"`
	Health      string `json:"health"`
}

type rumorStoreJSON[T any] struct {
	List          map[string]T `json:"list"`
	UpdateCounter uint64       `json:"update_counter"`
}

type serviceJSON struct {
	MemberID           string         `json:"member_id"`
	ServiceGroup       string         `json:"service_group"`
	Package            string         `json:"package"`
	PackageIncarnation uint64         `json:"package_incarnation"`
	Incarnation        uint64         `json:"incarnation"`
	Cfg                map[string]any `json:"cfg"`
	Sys                rumor.Sys      `json:"sys"`
	Initialized        bool           `json:"initialized"`
}

type configEntryJSON struct {
	ServiceConfig configJSON `json:"service_config"`
}

type configJSON struct {
	FromID       string `json:"from_id"`
	ServiceGroup string `json:"service_group"`
	Incarnation  uint64 `json:"incarnation"`
	Encrypted    bool   `json:"encrypted"`
	Config       []int  `json:"config"`
}

type fileJSON struct {
	FromID       string `json:"from_id"`
	ServiceGroup string `json:"service_group"`
	Incarnation  uint64 `json:"incarnation"`
	Encrypted    bool   `json:"encrypted"`
	Filename     string `json:"filename"`
	Body         []int  `json:"body"`
}

type departureJSON struct {
	MemberID string `json:"member_id"`
}

// Butterfly is the /butterfly document: the ring's members and what its
// rumor stores keep after their merge rules (the highest incarnation per
// key), with unloaded (Gone) services left out. Update counters are the census's (see
// Census.JSON).
func Butterfly(in Input) any {
	st := fold(in)
	c := st.counters
	b := butterflyJSON{
		Member: memberStoreJSON{
			Members:       make(map[string]memberJSON, len(st.members)),
			Health:        make(map[string]string, len(st.members)),
			UpdateCounter: c.membership,
		},
		Membership:           make(map[string]membershipJSON, len(st.members)),
		Service:              rumorStoreJSON[map[string]serviceJSON]{List: map[string]map[string]serviceJSON{}, UpdateCounter: c.service},
		ServiceConfig:        rumorStoreJSON[configEntryJSON]{List: map[string]configEntryJSON{}, UpdateCounter: c.config},
		LatestServiceConfig:  map[string]configJSON{},
		ServiceFile:          rumorStoreJSON[map[string]fileJSON]{List: map[string]map[string]fileJSON{}, UpdateCounter: c.file},
		Election:             rumorStoreJSON[any]{List: map[string]any{}, UpdateCounter: c.election},
		LatestElection:       map[string]any{},
		ElectionUpdate:       rumorStoreJSON[any]{List: map[string]any{}, UpdateCounter: c.electionUpdate},
		LatestElectionUpdate: map[string]any{},
		Departure:            rumorStoreJSON[map[string]departureJSON]{List: map[string]map[string]departureJSON{}, UpdateCounter: c.departure},
		DepartedMembers:      []string{},
	}
	for sg, e := range st.elections {
		// from_id is who sent the rumor, which the store does not keep:
		// the candidate stands in.
		ej := map[string]any{
			"from_id": e.MemberID, "member_id": e.MemberID, "service_group": sg,
			"term": e.Term, "suitability": e.Suitability, "status": e.Status, "votes": append([]string{}, e.Votes...),
		}
		b.Election.List[sg] = map[string]any{"election": ej}
		b.LatestElection[sg] = ej
	}
	for sg, e := range st.updates {
		ej := map[string]any{
			"from_id": e.MemberID, "member_id": e.MemberID, "service_group": sg,
			"term": e.Term, "suitability": e.Suitability, "status": e.Status, "votes": append([]string{}, e.Votes...),
		}
		b.ElectionUpdate.List[sg] = map[string]any{"election": ej}
		b.LatestElectionUpdate[sg] = ej
	}
	for id, m := range st.members {
		health := st.healthOf(id, m.Health, in.LocalID)
		b.Member.Members[id] = memberJSON{
			ID: id, Incarnation: m.Incarnation, Address: m.Address,
			SwimPort: m.Port, GossipPort: m.Port, Persistent: m.Permanent,
			Departed: health == Departed,
		}
		b.Member.Health[id] = title(health)
		b.Membership[id] = membershipJSON{
			Address: m.Address, GossipPort: m.Port, SwimPort: m.Port,
			Incarnation: m.Incarnation, Persistent: m.Permanent, Health: title(health),
		}
	}
	for k, s := range st.services {
		if s.Gone {
			continue
		}
		bySG := b.Service.List[k.sg]
		if bySG == nil {
			bySG = make(map[string]serviceJSON)
			b.Service.List[k.sg] = bySG
		}
		bySG[k.member] = serviceJSON{
			MemberID: s.MemberID, ServiceGroup: s.ServiceGroup, Package: s.Package,
			Incarnation: s.Incarnation, Cfg: cleanCfg(s.Cfg), Sys: s.Sys, Initialized: s.Initialized,
		}
	}
	b.Services = b.Service.List
	for sg, cs := range st.configs {
		r := latestRumor(cs)
		cj := configJSON{FromID: r.FromID, ServiceGroup: r.ServiceGroup, Incarnation: r.Incarnation, Config: byteList(r.Config)}
		b.ServiceConfig.List[sg] = configEntryJSON{ServiceConfig: cj}
		b.LatestServiceConfig[sg] = cj
	}
	for sg, byName := range st.files {
		m := make(map[string]fileJSON, len(byName))
		for name, f := range byName {
			m[name] = fileJSON{
				FromID: f.FromID, ServiceGroup: f.ServiceGroup, Incarnation: f.Incarnation,
				Filename: f.Filename, Body: byteList(f.Body),
			}
		}
		b.ServiceFile.List[sg] = m
	}
	b.ServiceFiles = b.ServiceFile.List
	if len(st.departed) > 0 {
		deps := make(map[string]departureJSON, len(st.departed))
		for id := range st.departed {
			deps[id] = departureJSON{MemberID: id}
			b.DepartedMembers = append(b.DepartedMembers, id)
		}
		slices.Sort(b.DepartedMembers)
		b.Departure.List["departure"] = deps
	}
	return b
}

// title is a health as butterfly spells it: Alive, Suspect, ...
func title(h string) string { return strings.ToUpper(h[:1]) + h[1:] }
