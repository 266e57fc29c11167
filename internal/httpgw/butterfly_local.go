package httpgw

import "github.com/tend-sh/tend/internal/api"

// The gossip layer of a member that is not (yet) on a ring: one member
// (itself, alive) and one service rumor per loaded service, with every other
// rumor store empty. It has the shape of Habitat's butterfly ServerProxy so
// that /butterfly validates against http_gateway_butterfly_schema.json; the
// ring supplies the real one (api.Ring.Butterfly) once it runs.

type butterflyJSON struct {
	Member               memberStoreJSON                      `json:"member"`
	Membership           map[string]membershipJSON            `json:"membership"`
	Service              rumorStoreJSON[map[string]rumorJSON] `json:"service"`
	Services             map[string]map[string]rumorJSON      `json:"services"`
	ServiceConfig        rumorStoreJSON[any]                  `json:"service_config"`
	LatestServiceConfig  map[string]any                       `json:"latest_service_config"`
	ServiceFile          rumorStoreJSON[any]                  `json:"service_file"`
	ServiceFiles         map[string]any                       `json:"service_files"`
	Election             rumorStoreJSON[any]                  `json:"election"`
	LatestElection       map[string]any                       `json:"latest_election"`
	ElectionUpdate       rumorStoreJSON[any]                  `json:"election_update"`
	LatestElectionUpdate map[string]any                       `json:"latest_election_update"`
	Departure            rumorStoreJSON[any]                  `json:"departure"`
	DepartedMembers      []string                             `json:"departed_members"`
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

// rumorStoreJSON is a legacy rumor store: rumors by key, and a counter.
type rumorStoreJSON[T any] struct {
	List          map[string]T `json:"list"`
	UpdateCounter uint64       `json:"update_counter"`
}

// rumorJSON is a service rumor.
type rumorJSON struct {
	MemberID           string         `json:"member_id"`
	ServiceGroup       string         `json:"service_group"`
	Package            string         `json:"package"`
	PackageIncarnation uint64         `json:"package_incarnation"`
	Incarnation        uint64         `json:"incarnation"`
	Cfg                map[string]any `json:"cfg"`
	Sys                sysBasicJSON   `json:"sys"`
	Initialized        bool           `json:"initialized"`
}

// localButterfly describes this one member from Sup and Services.
func localButterfly(s *api.Snapshot) butterflyJSON {
	me := s.Sup.MemberID
	sys := s.Sup.Sys
	// A member's address is where its peers reach it: the host's IP unless
	// gossip is bound to a specific one.
	addr := sys.GossipIP
	if addr == "" || addr == "0.0.0.0" || addr == "::" {
		addr = sys.IP
	}
	b := butterflyJSON{
		Member: memberStoreJSON{
			Members: map[string]memberJSON{me: {
				ID: me, Address: addr, SwimPort: sys.GossipPort, GossipPort: sys.GossipPort,
				Persistent: sys.Permanent,
			}},
			Health: map[string]string{me: "Alive"},
		},
		Membership: map[string]membershipJSON{me: {
			Address: addr, GossipPort: sys.GossipPort, SwimPort: sys.GossipPort,
			Persistent: sys.Permanent, Health: "Alive",
		}},
		Service:              rumorStoreJSON[map[string]rumorJSON]{List: make(map[string]map[string]rumorJSON, len(s.Services))},
		Services:             make(map[string]map[string]rumorJSON, len(s.Services)),
		ServiceConfig:        rumorStoreJSON[any]{List: map[string]any{}},
		LatestServiceConfig:  map[string]any{},
		ServiceFile:          rumorStoreJSON[any]{List: map[string]any{}},
		ServiceFiles:         map[string]any{},
		Election:             rumorStoreJSON[any]{List: map[string]any{}},
		LatestElection:       map[string]any{},
		ElectionUpdate:       rumorStoreJSON[any]{List: map[string]any{}},
		LatestElectionUpdate: map[string]any{},
		Departure:            rumorStoreJSON[any]{List: map[string]any{}},
		DepartedMembers:      []string{},
	}
	for i := range s.Services {
		svc := &s.Services[i]
		rumors := map[string]rumorJSON{me: {
			MemberID:     me,
			ServiceGroup: svc.ServiceGroup,
			Package:      svc.Pkg.Ident,
			Cfg:          exportedCfg(svc),
			Sys:          sysBasic(sys),
			Initialized:  svc.Initialized,
		}}
		b.Service.List[svc.ServiceGroup] = rumors
		b.Services[svc.ServiceGroup] = rumors
	}
	return b
}
