// Package api holds the data the supervisor publishes to its edges (HTTP
// gateway, monitoring, control gateway). A Snapshot is immutable once
// published: the manager builds a fresh one on every change and swaps it in
// atomically, so readers never hold a lock the supervisor needs.
//
// These are tend's own shapes, not Habitat's JSON: the HTTP gateway renders
// Habitat's field names from them.
package api

import (
	"sync"
	"time"
)

// Snapshot is everything the edges may read about one supervisor at one moment.
type Snapshot struct {
	// Generation grows by one with every published snapshot.
	Generation uint64
	Taken      time.Time

	// Ready is false until start-up has finished (specs read, services
	// started). It never goes back to false.
	Ready        bool
	ShuttingDown bool

	Sup Supervisor
	// Services is sorted by ServiceGroup. Each is the runner's published
	// status itself, shared by every snapshot until it changes: never
	// written.
	Services []*Service

	// Ring is what the gossip layer knows. `sup run` always has a ring, but
	// its first census is folded a moment after the first snapshot: until
	// then Ring is nil, and the edges that serve it answer 503.
	Ring *Ring

	// StoreRecords are timestamped events of the state store (spec writes,
	// corrupt spec files), for /status.
	StoreRecords []Record

	cache sync.Map // per-snapshot memo for encoders (see Memo)
}

// Memo returns the value cached under key for this snapshot, computing it
// once with f. Edges use it to encode a response once per snapshot instead of
// once per request.
func (s *Snapshot) Memo(key string, f func() any) any {
	if v, ok := s.cache.Load(key); ok {
		return v
	}
	v, _ := s.cache.LoadOrStore(key, f())
	return v
}

// Supervisor describes the supervisor process itself.
type Supervisor struct {
	MemberID  string
	PID       int
	StartedAt time.Time
	Version   string // tend's version, "VERSION/BUILD" like Habitat's sys.version
	Org       string

	Root         string // --root
	StateDir     string // ROOT/sup/NAME (Habitat's sup_root)
	SpecsPath    string
	DataPath     string
	MemberIDFile string
	LockFile     string

	Sys Sys

	// Unhealthy set by hand (tend health set --unhealthy).
	ManualUnhealthy bool
	ManualReason    string

	// Backoff defaults of sup run, shown per service as restart_config.
	MinBackoff, MaxBackoff, Cooldown time.Duration

	// ProcessTracking says how the services' processes are tracked: "cgroup
	// v2 PATH", or the subreaper and /proc with the reason; "" before the
	// supervisor has chosen.
	ProcessTracking string
}

// Sys is Habitat's sys: where this member listens.
type Sys struct {
	IP              string
	Hostname        string
	GossipIP        string
	GossipPort      int
	HTTPGatewayIP   string
	HTTPGatewayPort int
	CtlGatewayIP    string
	CtlGatewayPort  int
	Permanent       bool
}

// Health is a health-check result.
type Health string

const (
	HealthOK       Health = "OK"
	HealthWarning  Health = "WARNING"
	HealthCritical Health = "CRITICAL"
	HealthUnknown  Health = "UNKNOWN"
)

// Service is one loaded service, running or not.
type Service struct {
	Name         string // package name, also the service's directory name
	Group        string
	Org          string
	ServiceGroup string // name.group or name.group@org

	// From the spec.
	SpecIdent       string // as loaded, may be fuzzy: "core/redis"
	SpecFile        string
	DesiredUp       bool
	Topology        string // standalone | leader
	UpdateStrategy  string // none | at-once | rolling
	UpdateCondition string // latest | track-channel
	BindingMode     string // strict | relaxed
	Binds           []string
	HealthInterval  time.Duration
	ShutdownTimeout time.Duration

	// SpecError is set when the spec file on disk could not be read; the
	// service is then reported down with this reason and nothing else is known.
	SpecError string

	Pkg         Pkg
	AllPkgBinds []PkgBind
	Hooks       map[string]Hook // rendered hooks by name: run, init, health-check, ...
	Cfg         map[string]any  // merged config; nil when unknown
	// Exported is the part of Cfg the package exports (EXPORTS): what this
	// member gossips to binders, by export name.
	Exported map[string]any

	// Process.
	Running      bool // the run hook's process is up
	PID          int  // 0 when not running
	StateEntered time.Time
	LastExit     *Exit
	RestartCount int
	NextRestart  time.Time // zero when no restart is pending
	Initialized  bool      // init hook has succeeded at least once (see Ready)
	// Readiness is how the run process tells it is ready: "" (it is ready
	// once up), ReadinessFD (s6's notification fd) or ReadinessNotify
	// (sd_notify's READY=1 on a socket of its own).
	Readiness string
	// Ready: the run process is up and, with a Readiness protocol, has
	// said it is ready. Without one it equals Running.
	Ready bool
	// StartError is why the last start failed (init failed, template error, ...).
	StartError string
	// RestartStreak and LastBackoff are the restart backoff's state: the
	// restarts in a row since the service last stayed up for the cooldown,
	// and the last delay, from which the next is drawn. `sup restart`
	// hands them over.
	RestartStreak int
	LastBackoff   time.Duration

	Health        Health
	HealthHistory []HealthResult // oldest first, at most a few dozen
	// HealthOutput is what the health-check hook printed in the check that
	// set Health; nil when Health was set by no check (before the first,
	// after a stop or a crash), so /health never pairs one with the other.
	HealthOutput *HookOutput

	UserConfigUpdated bool

	// Records are this service's timestamped events for /status, oldest first.
	Records []Record

	// Usage reads what the service's processes use now, all of them
	// together; nil, or false, where that is not known (no cgroup).
	Usage func() (Usage, bool)
}

// Readiness protocols a package may choose (see Service.Readiness).
const (
	ReadinessFD     = "notification-fd"
	ReadinessNotify = "sd_notify"
)

// Usage is what a service's processes use: CPU time since the service
// was loaded, and memory now (the cgroup's, or the members' RssAnon).
type Usage struct {
	CPUSeconds  float64
	MemoryBytes uint64
}

// Pkg is the installed package a service runs from.
type Pkg struct {
	Ident   string // origin/name/version/release
	Origin  string
	Name    string
	Version string
	Release string
	Path    string // ROOT/pkgs/o/n/v/r

	SvcPath       string // ROOT/svc/NAME
	SvcConfigPath string
	SvcDataPath   string
	SvcFilesPath  string
	SvcStaticPath string
	SvcVarPath    string
	SvcPIDFile    string
	SvcRun        string
	SvcUser       string
	SvcGroup      string

	Exposes         []string
	Exports         map[string]string // export key -> cfg path
	Env             map[string]string // RUNTIME_ENVIRONMENT
	Deps            []string          // idents
	ShutdownSignal  string            // "TERM"
	ShutdownTimeout time.Duration
}

// PkgBind is a bind a package declares.
type PkgBind struct {
	Service  string
	Exports  []string
	Optional bool
}

// Hook is a rendered hook and its log files.
type Hook struct {
	Path       string
	StdoutPath string
	StderrPath string
}

// Exit is how a process ended.
type Exit struct {
	PID    int
	Code   int    // exit status; -1 when killed by a signal
	Signal string // "SIGKILL", empty when it exited
	At     time.Time
	Reason string // Habitat's termination_reason: run_hook_failed, init_hook_failed, app_config_updated, ...; ExitStopped for a stop asked for
}

// ExitStopped is the reason of an exit that was asked for (svc stop, unload,
// sup term): tend's own, as none of Habitat's termination reasons fits.
const ExitStopped = "stopped"

// HookOutput is the tail of one hook run's stdout and stderr.
type HookOutput struct {
	Stdout, Stderr string
}

// HealthResult is one health check.
type HealthResult struct {
	At       time.Time
	Status   Health
	Duration time.Duration
	Output   string // excerpt of stdout+stderr, at most 1 KiB
}

// Record is one timestamped line for /status.
type Record struct {
	At   time.Time
	OK   bool // [ok] or [error]
	Text string
}

// Ring is the gossip layer's view; filled in by the ring.
type Ring struct {
	Members []Member
	// Census and Butterfly are the Habitat JSON documents of /census and
	// /butterfly, built from the same fold as Members.
	Census    *Doc
	Butterfly *Doc
	Records   []Record
	// Messages and bytes by kind, for /metrics.
	MsgsSent, MsgsRecv, BytesSent, BytesRecv map[string]uint64
	// Elections is the leader election of each group this member runs a
	// leader-topology service of, sorted by group.
	Elections []Election
}

// Election is one group's leader election as this member sees it, and
// how long the ones it saw finish took, for /metrics.
type Election struct {
	Group  string
	Term   uint64
	Status string // Running | NoQuorum | Finished
	Leader string // "" until finished
	// Durations: count and sum of the elections seen from start to
	// finish here, and cumulative counts by upper bound (seconds).
	Count   uint64
	Sum     float64
	Buckets map[float64]uint64
}

// Member is one supervisor in the ring.
type Member struct {
	ID        string
	Address   string
	Port      int
	Health    string // alive | suspect | confirmed | departed
	Permanent bool
}

// LogLine is one line of a service's output, as `tend svc logs` and the
// gateway's /logs show it.
type LogLine struct {
	// At is when the supervisor read the line; zero (left out) for a
	// line read back from a log file, which records no time.
	At time.Time `json:"time,omitzero"`
	// Stream is stdout or stderr (the run hook's), or hooks (any other
	// hook's output, both streams; Hook names it).
	Stream string `json:"stream"`
	Hook   string `json:"hook,omitempty"`
	Text   string `json:"line"`
}

// Log streams.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
	StreamHooks  = "hooks"
)
