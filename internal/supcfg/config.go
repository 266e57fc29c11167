// Package supcfg holds every option of `tend sup run` and reads them from
// four layers: defaults, a YAML file (--config or TEND_CONFIG), environment
// variables TEND_<NAME> and command-line flags, each later layer winning.
//
// The layering is written out by hand (see load.go) rather than borrowed from
// viper or koanf, so that precedence is visible in one place, every error can
// name the exact flag, variable or file line it came from, and secrets never
// reach an error message.
//
// One table (options.go) describes every option; flags, environment names,
// YAML keys and docs/CONFIG.md are all derived from it.
package supcfg

import (
	"os"
	"path/filepath"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// Config is the supervisor's configuration after all layers were applied and
// validated. Its zero value is not useful; start from Default or Load.
//
// Printing a Config (fmt, slog, encoding/json) never shows a token: token
// fields have type Secrets, which prints masked.
type Config struct {
	// ConfigFile is the YAML file that was read, "" when none was.
	ConfigFile string

	ListenHTTP   string // host:port of the Habitat-compatible HTTP gateway
	ListenCtl    string // host:port of the control gateway
	ListenGossip string // host:port of the gossip ring (UDP and TCP)

	// TLS of the control gateway, Habitat's --ctl-server-certificate,
	// --ctl-server-key and --ctl-client-ca-certificate: each a PEM file or
	// a directory of ctl-gateway-*.pem files (the newest is used). A client
	// CA makes client certificates mandatory.
	CtlServerCertificate, CtlServerKey, CtlClientCACertificate string

	// Peers are host:port of members to join, the port filled in (9638)
	// when it was left off.
	Peers         []string
	PermanentPeer bool
	RingKey       string // path of the ring encryption key file; "" = no encryption
	Org           string // appended to every service group as @ORG
	OverrideName  string // name of the state directory under ROOT/sup
	Root          string // absolute
	SysIPAddress  string // "" = detect
	JSONLogging   bool
	// Cgroups is "auto" or "off": how service processes are tracked
	// (internal/cgroup).
	Cgroups string

	// Restart backoff of crashed services: the first restart after a healthy
	// run is immediate, later ones wait MinBackoff, doubling up to MaxBackoff
	// (with jitter); a service that stayed up for Cooldown starts over.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Cooldown   time.Duration

	// Each log file under svc/NAME/logs/ is rotated once it would pass
	// LogMaxBytes (0: never), LogBackups rotated files kept; a service's
	// spec may set its own.
	LogMaxBytes uint64
	LogBackups  uint64

	// UpdateSource is a directory of package directories and .tar.gz
	// archives of them that services with an update strategy follow; ""
	// = none (only packages installed under the root count).
	// UpdatePeriod is how often it and the root are looked at, plus a
	// random splay of up to a quarter of it.
	UpdateSource string
	UpdatePeriod time.Duration

	HTTP    HTTPConfig
	Monitor MonitorConfig

	// Services are loaded at start-up, from the YAML file only. Each has
	// Force set: the file is the source of truth over a spec already stored,
	// as with Habitat's `hab sup run PKG`.
	Services []api.LoadRequest
}

// HTTPConfig is the Habitat-compatible HTTP gateway.
type HTTPConfig struct {
	Disable bool
	// TLS files (PEM). Key and Certs go together; CACerts makes client
	// certificates mandatory.
	Key, Certs, CACerts string
	// Tokens are every accepted bearer token: the inline ones and those read
	// from TokenFiles. Empty means no authentication.
	Tokens     Secrets
	TokenFiles []string
	// Redact hides service config: no cfg in /services, /config null,
	// /census and /butterfly 404.
	Redact bool
}

// MonitorConfig is the monitoring endpoints (SPEC §8).
type MonitorConfig struct {
	// Listen is host:port of a listener of their own; "" serves them on the
	// HTTP gateway (behind its tokens).
	Listen string
	// APIKeys are accepted on the monitoring listener only: the inline keys
	// and those read from APIKeyFiles. Empty means no authentication there.
	APIKeys     Secrets
	APIKeyFiles []string

	ReadyEnabled   bool
	HealthyEnabled bool
	StatusEnabled  bool
	MetricsEnabled bool
	// UIEnabled serves the web page, GET /ui, where the monitoring
	// endpoints are served.
	UIEnabled bool

	// /healthy thresholds. Disk: unhealthy when free space on the root's
	// filesystem drops below Lower, healthy again once above Upper. Services:
	// unhealthy once Upper or more services are down or CRITICAL, healthy
	// again at Lower or fewer. A zero Lower (disk) or Upper (services)
	// turns the check off.
	DiskFreeBytes  Threshold
	DiskFreeInodes Threshold
	ServicesDown   Threshold
}

// Threshold is a pair of limits with hysteresis between them.
type Threshold struct {
	Lower, Upper uint64
}

// Defaults that are not obvious from the option table.
const (
	defaultMinBackoff = 1 * time.Second
	defaultMaxBackoff = 60 * time.Second
	defaultCooldown   = 60 * time.Second
	// defaultUpdatePeriod is Habitat's --service-update-period.
	defaultUpdatePeriod = 60 * time.Second
	// Service logs: supervisord's logfile_maxbytes and logfile_backups.
	defaultLogMaxBytes = 10 << 20
	defaultLogBackups  = 5

	defaultGossipPort = "9638"
	rootAsRoot        = "/var/lib/tend"
)

// Default returns the configuration with no file, variable or flag given.
// Root is chosen from the effective user and the process environment.
func Default() Config {
	return defaults(os.Getenv, os.Geteuid())
}

func defaults(getenv func(string) string, euid int) Config {
	return Config{
		ListenHTTP:   "0.0.0.0:9631",
		ListenCtl:    "127.0.0.1:9632",
		ListenGossip: "0.0.0.0:9638",
		OverrideName: "default",
		Cgroups:      "auto",
		Root:         defaultRoot(getenv, euid),
		MinBackoff:   defaultMinBackoff,
		MaxBackoff:   defaultMaxBackoff,
		Cooldown:     defaultCooldown,
		LogMaxBytes:  defaultLogMaxBytes,
		LogBackups:   defaultLogBackups,
		UpdatePeriod: defaultUpdatePeriod,
		Monitor: MonitorConfig{
			ReadyEnabled:   true,
			HealthyEnabled: true,
			StatusEnabled:  true,
			MetricsEnabled: true,
			UIEnabled:      true,
			DiskFreeBytes:  Threshold{Lower: 100 << 20, Upper: 200 << 20},
			DiskFreeInodes: Threshold{Lower: 1000, Upper: 2000},
			ServicesDown:   Threshold{Lower: 0, Upper: 1},
		},
	}
}

// DefaultRoot is the root when neither --root nor TEND_ROOT is given; the
// CLI finds a supervisor's CTL_SECRET through it.
func DefaultRoot(getenv func(string) string, euid int) string { return defaultRoot(getenv, euid) }

// defaultRoot follows the XDG base directory spec for ordinary users, so a
// supervisor run without root privileges works out of the box. It returns ""
// when there is no way to tell (no HOME); Load then asks for --root.
func defaultRoot(getenv func(string) string, euid int) string {
	if euid == 0 {
		return rootAsRoot
	}
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "tend")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "share", "tend")
	}
	return ""
}

// StateDir is ROOT/sup/NAME, the directory of this supervisor's own state
// (CTL_SECRET, LOCK, MEMBER_ID, specs/, data/).
func (c Config) StateDir() string {
	return filepath.Join(c.Root, "sup", c.OverrideName)
}
