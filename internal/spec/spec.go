// Package spec is the desired state of one loaded service, persisted as one
// TOML file per service in Habitat's format (ServiceSpec in
// components/sup/src/manager/service/spec.rs): its field names, key order
// and TOML style, so a spec directory Habitat wrote runs under tend and
// one tend wrote reads the same to Habitat and to an operator who knows it.
package spec

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Spec is one service's desired state. The file's key order is Encode's,
// not this struct's.
type Spec struct {
	Ident           string   `toml:"ident"`
	Group           string   `toml:"group"`
	BldrURL         string   `toml:"bldr_url"`
	Channel         string   `toml:"channel"`
	Topology        string   `toml:"topology"`
	UpdateStrategy  string   `toml:"update_strategy"`
	UpdateCondition string   `toml:"update_condition"`
	Binds           []string `toml:"binds"`
	BindingMode     string   `toml:"binding_mode"`
	// ConfigFrom is Habitat's development option (config and hooks from a
	// directory instead of the package). tend keeps it and does not use it.
	ConfigFrom   *string `toml:"config_from"`
	DesiredState string  `toml:"desired_state"`
	// ShutdownTimeout in seconds; nil means the package's value.
	ShutdownTimeout *int `toml:"shutdown_timeout"`
	// SvcEncryptedPassword is Habitat's (Windows) service password: kept
	// as written, never used or logged.
	SvcEncryptedPassword *string `toml:"svc_encrypted_password"`
	// LogMaxBytes and LogBackups bound each of the service's log files
	// (tend's own keys); nil means the supervisor's
	// --service-log-max-bytes and --service-log-backups.
	LogMaxBytes *uint64 `toml:"log_max_bytes"`
	LogBackups  *int    `toml:"log_backups"`
	// HookTimeout in seconds bounds each run of the init, reconfigure,
	// file-updated and post-stop hooks; nil means DefaultHookTimeout.
	// (health-check is bounded by the health-check interval.)
	HookTimeout *int `toml:"hook_timeout"`
	// HealthCheckGrace in seconds (tend's own) is the start-up grace of
	// the health check: until a check passes or this long after the start,
	// a failing check reports UNKNOWN, not WARNING or CRITICAL; nil or 0
	// means none, as in Habitat.
	HealthCheckGrace *int `toml:"health_check_grace"`
	// HealthCheckInterval is a table, or a number of seconds, in the file:
	// Parse reads it itself.
	HealthCheckInterval Duration `toml:"-"`

	// kept holds what the file had that tend does not know, as written
	// (see kept.go). Never changed in place: copies of a Spec share it.
	kept []keptEntry
}

// Duration is Habitat's {secs, nanos}.
type Duration struct {
	Secs  int64 `toml:"secs"`
	Nanos int64 `toml:"nanos"`
}

// D converts to a time.Duration.
func (d Duration) D() time.Duration {
	return time.Duration(d.Secs)*time.Second + time.Duration(d.Nanos)
}

// FromD converts from a time.Duration.
func FromD(d time.Duration) Duration {
	return Duration{Secs: int64(d / time.Second), Nanos: int64(d % time.Second)}
}

// Defaults Habitat uses for a freshly loaded service.
const (
	DefaultGroup       = "default"
	DefaultChannel     = "base"
	DefaultBldrURL     = "https://bldr.habitat.sh"
	DefaultTopology    = "standalone"
	DefaultStrategy    = "none"
	DefaultCondition   = "latest"
	DefaultBindingMode = "strict"
	DefaultInterval    = 30 * time.Second
	// DefaultHookTimeout: Habitat has no hook timeout, but a hook that
	// never returns must not hold its service forever.
	DefaultHookTimeout = time.Minute
	// MaxHookTimeout is a day; more is a typo.
	MaxHookTimeout = 24 * time.Hour
	Up             = "up"
	Down           = "down"
)

// Limits of the log settings, for the spec file and `svc load` alike.
const (
	MaxLogBytes   = 1 << 40
	MaxLogBackups = 1000
)

// New returns a spec for ident with every default filled in.
func New(ident string) Spec {
	return Spec{
		Ident:               ident,
		Group:               DefaultGroup,
		BldrURL:             DefaultBldrURL,
		Channel:             DefaultChannel,
		Topology:            DefaultTopology,
		UpdateStrategy:      DefaultStrategy,
		UpdateCondition:     DefaultCondition,
		BindingMode:         DefaultBindingMode,
		DesiredState:        Up,
		HealthCheckInterval: FromD(DefaultInterval),
	}
}

// Name is the service's name: the ident's second part.
func (s Spec) Name() string {
	// Cut, not Split: every start asks for the name several times.
	_, rest, ok := strings.Cut(s.Ident, "/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// HealthCheckGraceD is the start-up grace of the health check; 0 is none.
func (s Spec) HealthCheckGraceD() time.Duration {
	if s.HealthCheckGrace != nil {
		return time.Duration(*s.HealthCheckGrace) * time.Second
	}
	return 0
}

// HookTimeoutD is how long one run of a bounded hook may take.
func (s Spec) HookTimeoutD() time.Duration {
	if s.HookTimeout != nil {
		return time.Duration(*s.HookTimeout) * time.Second
	}
	return DefaultHookTimeout
}

// Up reports whether the service should run.
func (s Spec) Up() bool { return s.DesiredState == Up }

// ServiceGroup is name.group, with @org when the supervisor has an org.
func (s Spec) ServiceGroup(org string) string {
	sg := s.Name() + "." + s.Group
	if org != "" {
		sg += "@" + org
	}
	return sg
}

// groupName reports whether g is non-empty UTF-8 and holds no '.', '#',
// '@', '/' or ASCII space (what `[^.#@/\s]+` matches), without a regexp:
// every spec read at start-up is validated. UTF-8, as the service group is
// gossiped in JSON: a peer would read another byte as U+FFFD.
func groupName(g string) bool {
	if g == "" || !utf8.ValidString(g) {
		return false
	}
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case '.', '#', '@', '/', ' ', '\t', '\n', '\f', '\r':
			return false
		}
	}
	return true
}

// A bind is name:svc.group[@org].
var bindRe = regexp.MustCompile(`^([A-Za-z0-9_-]+):([^.#@/\s:]+)\.([^.#@/\s:]+)(@[^.#@/\s:]+)?$`)

// ParseBind splits "name:svc.group[@org]" into name and service group.
func ParseBind(b string) (name, sg string, err error) {
	m := bindRe.FindStringSubmatch(b)
	if m == nil {
		return "", "", fmt.Errorf("bind %q is not NAME:SERVICE.GROUP[@ORG]", b)
	}
	return m[1], b[len(m[1])+1:], nil
}

// Validate checks every field; the error names the field.
func (s Spec) Validate() error {
	parts := strings.Split(s.Ident, "/")
	if len(parts) < 2 || len(parts) > 4 || slices.Contains(parts, "") {
		return fmt.Errorf("ident %q is not ORIGIN/NAME[/VERSION[/RELEASE]]", s.Ident)
	}
	if !groupName(s.Group) {
		return fmt.Errorf("group %q must be non-empty UTF-8 and contain no '.', '#', '@', '/' or space", s.Group)
	}
	if err := oneOf("topology", s.Topology, "standalone", "leader"); err != nil {
		return err
	}
	if err := oneOf("update_strategy", s.UpdateStrategy, "none", "at-once", "rolling"); err != nil {
		return err
	}
	if err := oneOf("update_condition", s.UpdateCondition, "latest", "track-channel"); err != nil {
		return err
	}
	if err := oneOf("binding_mode", s.BindingMode, "strict", "relaxed"); err != nil {
		return err
	}
	if err := oneOf("desired_state", s.DesiredState, Up, Down); err != nil {
		return err
	}
	for _, b := range s.Binds {
		if _, _, err := ParseBind(b); err != nil {
			return err
		}
	}
	if s.ShutdownTimeout != nil && *s.ShutdownTimeout < 0 {
		return fmt.Errorf("shutdown_timeout %d must not be negative", *s.ShutdownTimeout)
	}
	// The runner turns it into a time.Duration, which must not wrap around.
	if s.ShutdownTimeout != nil && int64(*s.ShutdownTimeout) > maxSeconds {
		return fmt.Errorf("shutdown_timeout %d is more than the limit of %d seconds", *s.ShutdownTimeout, maxSeconds)
	}
	if hc := s.HealthCheckInterval; hc.Nanos < 0 || hc.Nanos >= int64(time.Second) {
		return fmt.Errorf("health_check_interval nanos %d must be from 0 to 999999999", hc.Nanos)
	} else if hc.Secs > (math.MaxInt64-hc.Nanos)/int64(time.Second) {
		return fmt.Errorf("health_check_interval %d s is more than the limit of %d seconds", hc.Secs, maxSeconds)
	}
	if s.LogMaxBytes != nil && *s.LogMaxBytes > MaxLogBytes {
		return fmt.Errorf("log_max_bytes %d is over the limit of %d (1 TiB)", *s.LogMaxBytes, uint64(MaxLogBytes))
	}
	if s.LogBackups != nil && (*s.LogBackups < 0 || *s.LogBackups > MaxLogBackups) {
		return fmt.Errorf("log_backups %d must be from 0 to %d", *s.LogBackups, MaxLogBackups)
	}
	if t := s.HookTimeout; t != nil && (*t < 1 || time.Duration(*t) > MaxHookTimeout/time.Second) {
		return fmt.Errorf("hook_timeout %d must be between 1 and %d seconds", *t, int(MaxHookTimeout/time.Second))
	}
	if g := s.HealthCheckGrace; g != nil && (*g < 0 || time.Duration(*g) > MaxHookTimeout/time.Second) {
		return fmt.Errorf("health_check_grace %d must be between 0 and %d seconds", *g, int(MaxHookTimeout/time.Second))
	}
	if d := s.HealthCheckInterval.D(); d < time.Second {
		return fmt.Errorf("health_check_interval %s must be at least 1s", d)
	}
	return nil
}

// maxSeconds is the most whole seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s %q must be one of %s", field, v, strings.Join(allowed, ", "))
}
