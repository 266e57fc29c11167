package httpgw

import "github.com/tend-sh/tend/internal/api"

// The census of a member that is not (yet) on a ring: one census group per
// loaded service, each with this member as its only, alive, population. It
// has the shape of Habitat's CensusRingProxy so that /census validates
// against http_gateway_census_schema.json before the ring exists. The ring
// supplies the real census (api.Ring.Census) once it runs.

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
	ServiceGroup         string                      `json:"service_group"`
	ElectionStatus       string                      `json:"election_status"`
	UpdateElectionStatus string                      `json:"update_election_status"`
	PkgIncarnation       uint64                      `json:"pkg_incarnation"`
	LeaderID             *string                     `json:"leader_id"`
	ServiceConfig        any                         `json:"service_config"` // null: no config was gossiped
	LocalMemberID        string                      `json:"local_member_id"`
	Population           map[string]censusMemberJSON `json:"population"`
	UpdateLeaderID       *string                     `json:"update_leader_id"`
	ChangedServiceFiles  []string                    `json:"changed_service_files"`
	ServiceFiles         map[string]any              `json:"service_files"`
}

// censusMemberJSON is Habitat's CensusMemberProxy (24 keys).
type censusMemberJSON struct {
	MemberID                 string           `json:"member_id"`
	Pkg                      packageIdentJSON `json:"pkg"`
	PkgIncarnation           uint64           `json:"pkg_incarnation"`
	Package                  string           `json:"package"`
	Service                  string           `json:"service"`
	Group                    string           `json:"group"`
	Org                      *string          `json:"org"`
	Persistent               bool             `json:"persistent"`
	Leader                   bool             `json:"leader"`
	Follower                 bool             `json:"follower"`
	UpdateLeader             bool             `json:"update_leader"`
	UpdateFollower           bool             `json:"update_follower"`
	ElectionIsRunning        bool             `json:"election_is_running"`
	ElectionIsNoQuorum       bool             `json:"election_is_no_quorum"`
	ElectionIsFinished       bool             `json:"election_is_finished"`
	UpdateElectionIsRunning  bool             `json:"update_election_is_running"`
	UpdateElectionIsNoQuorum bool             `json:"update_election_is_no_quorum"`
	UpdateElectionIsFinished bool             `json:"update_election_is_finished"`
	Sys                      sysBasicJSON     `json:"sys"`
	Alive                    bool             `json:"alive"`
	Suspect                  bool             `json:"suspect"`
	Confirmed                bool             `json:"confirmed"`
	Departed                 bool             `json:"departed"`
	Cfg                      map[string]any   `json:"cfg"`
}

// localCensus describes this one member from Sup and Services.
func localCensus(s *api.Snapshot) censusJSON {
	me := s.Sup.MemberID
	c := censusJSON{
		CensusGroups:  make(map[string]censusGroupJSON, len(s.Services)),
		LocalMemberID: me,
	}
	for i := range s.Services {
		svc := &s.Services[i]
		m := censusMemberJSON{
			MemberID:   me,
			Pkg:        memberPkg(svc),
			Package:    svc.Pkg.Ident,
			Service:    svc.Name,
			Group:      svc.Group,
			Persistent: s.Sup.Sys.Permanent,
			Sys:        sysBasic(s.Sup.Sys),
			Alive:      true,
			Cfg:        exportedCfg(svc),
		}
		if svc.Org != "" {
			org := svc.Org
			m.Org = &org
		}
		c.CensusGroups[svc.ServiceGroup] = censusGroupJSON{
			ServiceGroup:         svc.ServiceGroup,
			ElectionStatus:       "None",
			UpdateElectionStatus: "None",
			LocalMemberID:        me,
			Population:           map[string]censusMemberJSON{me: m},
			ChangedServiceFiles:  []string{},
			ServiceFiles:         map[string]any{},
		}
	}
	return c
}

// memberPkg is the package a member runs, split; a service whose package is
// unknown (its spec could not be read) is named by its service name alone.
func memberPkg(svc *api.Service) packageIdentJSON {
	if svc.Pkg.Ident != "" {
		return parseIdent(svc.Pkg.Ident)
	}
	return packageIdentJSON{Origin: svc.Pkg.Origin, Name: svc.Name}
}
