// Package rumor is the gossip payloads of the ring and their merge rules,
// pure data: what a member says about its services, a group's config and
// files, departures and leader elections. The ring carries them; the census folds them.
package rumor

// Kind names a rumor type.
type Kind string

const (
	KindService   Kind = "service"
	KindConfig    Kind = "config"
	KindFile      Kind = "file"
	KindDeparture Kind = "departure"
	KindElection  Kind = "election"
	// KindElectionUpdate is a group's update-leader election (Habitat's
	// ElectionUpdate rumor): an Election payload, merged like one.
	KindElectionUpdate Kind = "election_update"
	// KindUpdate is a group's rolling-update target.
	KindUpdate Kind = "update"
)

// Sys is where a member listens (Habitat's butterfly SysInfo).
type Sys struct {
	IP              string `json:"ip"`
	Hostname        string `json:"hostname"`
	GossipIP        string `json:"gossip_ip"`
	GossipPort      int    `json:"gossip_port"`
	HTTPGatewayIP   string `json:"http_gateway_ip"`
	HTTPGatewayPort int    `json:"http_gateway_port"`
	CtlGatewayIP    string `json:"ctl_gateway_ip"`
	CtlGatewayPort  int    `json:"ctl_gateway_port"`
}

// Service is one member's view of one of its own services. The member
// raises Incarnation each time anything in it changes; the higher wins.
type Service struct {
	MemberID     string         `json:"member_id"`
	ServiceGroup string         `json:"service_group"` // name.group[@org]
	Package      string         `json:"package"`       // origin/name/version/release
	Incarnation  uint64         `json:"incarnation"`
	Cfg          map[string]any `json:"cfg"` // exported config only (EXPORTS)
	Sys          Sys            `json:"sys"`
	Initialized  bool           `json:"initialized"`
	Health       string         `json:"health"` // OK | WARNING | CRITICAL | UNKNOWN
	Up           bool           `json:"up"`     // the run process is running
	// NotReady: the package has a readiness protocol and its process has
	// not said it is ready (or is not running). A strict bind waits for a
	// member without it. Absent from older rumors: ready, as before.
	NotReady bool `json:"not_ready,omitempty"`
	// Gone is set when the member unloaded the service; it keeps the
	// rumor's key so the higher incarnation still wins.
	Gone bool `json:"gone,omitempty"`
}

// Config is a group's config pushed with `config apply`; Incarnation is
// the VERSION given, and must grow.
type Config struct {
	ServiceGroup string `json:"service_group"`
	Incarnation  uint64 `json:"incarnation"`
	FromID       string `json:"from_id"`
	Config       []byte `json:"config"` // TOML, at most 64 KiB
}

// File is a file pushed to a group with `file upload`.
type File struct {
	ServiceGroup string `json:"service_group"`
	Filename     string `json:"filename"` // a base name
	Incarnation  uint64 `json:"incarnation"`
	FromID       string `json:"from_id"`
	Body         []byte `json:"body"` // at most 64 KiB
}

// Departure says a member has left for good (`sup depart`).
type Departure struct {
	MemberID string `json:"member_id"`
}

// Update is the package a rolling update moves a group to, published by
// its update leader: Package is fully qualified, Incarnation grows with
// each new target (the higher wins).
type Update struct {
	ServiceGroup string `json:"service_group"`
	Package      string `json:"package"`
	Incarnation  uint64 `json:"incarnation"`
	FromID       string `json:"from_id"`
}

// Rumor is one piece of gossip: exactly one of the pointers is set.
type Rumor struct {
	Kind      Kind       `json:"kind"`
	Service   *Service   `json:"service,omitempty"`
	Config    *Config    `json:"config,omitempty"`
	File      *File      `json:"file,omitempty"`
	Departure *Departure `json:"departure,omitempty"`
	Election  *Election  `json:"election,omitempty"` // KindElection and KindElectionUpdate
	Update    *Update    `json:"update,omitempty"`
}

// IsElection reports whether the rumor is an election of either kind:
// they merge by MergeElection, not by version.
func (r Rumor) IsElection() bool { return r.Kind == KindElection || r.Kind == KindElectionUpdate }
