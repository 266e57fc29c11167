package api

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// LoadRequest is `tend svc load` as sent over the control gateway. Zero values
// mean "not given": the supervisor fills in defaults (and, with Force, keeps
// the loaded spec's value).
type LoadRequest struct {
	// Pkg is a fuzzy ident ("core/redis", "core/redis/1.2") or an absolute
	// path to a package directory on the supervisor's host.
	Pkg             string   `json:"pkg"`
	Group           string   `json:"group,omitempty"`
	Topology        string   `json:"topology,omitempty"`
	Strategy        string   `json:"strategy,omitempty"`
	UpdateCondition string   `json:"update_condition,omitempty"`
	Binds           []string `json:"binds,omitempty"`
	BindingMode     string   `json:"binding_mode,omitempty"`
	// HealthCheckInterval and ShutdownTimeout in whole seconds; nil = not given.
	HealthCheckInterval *int `json:"health_check_interval,omitempty"`
	ShutdownTimeout     *int `json:"shutdown_timeout,omitempty"`
	// HookTimeout in whole seconds bounds each run of the init,
	// reconfigure, file-updated and post-stop hooks; nil = not given.
	HookTimeout *int `json:"hook_timeout,omitempty"`
	// HealthCheckGrace in whole seconds: failing health checks report
	// UNKNOWN until one passes or this long after a start; nil = not given.
	HealthCheckGrace *int `json:"health_check_grace,omitempty"`
	Force            bool `json:"force,omitempty"`
	// Wait asks the call to return only once the service is running (or has
	// failed to start), streaming progress meanwhile.
	Wait bool `json:"wait,omitempty"`
	// LogMaxBytes and LogBackups bound the service's log files; nil = the
	// supervisor's.
	LogMaxBytes *uint64 `json:"log_max_bytes,omitempty"`
	LogBackups  *int    `json:"log_backups,omitempty"`
}

// MaxSeconds is the most seconds a time.Duration holds (about 292 years):
// a longer interval or timeout would wrap around to a negative one.
const MaxSeconds = math.MaxInt64 / int64(time.Second)

// CheckSeconds refuses a count of seconds that is negative or that no
// time.Duration can hold.
func CheckSeconds(n int64) error {
	switch {
	case n < 0:
		return fmt.Errorf("%d must not be negative", n)
	case n > MaxSeconds:
		return fmt.Errorf("%d is more than the limit of %d seconds (about 292 years)", n, MaxSeconds)
	}
	return nil
}

// Check refuses second counts that are negative or would overflow; the
// other fields are checked where their meaning is known.
func (r LoadRequest) Check() error {
	for _, f := range []struct {
		name string
		n    *int
	}{{"health_check_interval", r.HealthCheckInterval}, {"shutdown_timeout", r.ShutdownTimeout}} {
		if f.n == nil {
			continue
		}
		if err := CheckSeconds(int64(*f.n)); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// ServiceStatus is one row of `tend svc status`.
type ServiceStatus struct {
	Ident        string  `json:"ident"` // origin/name/version/release of the package
	Type         string  `json:"type"`  // topology
	DesiredState string  `json:"desired_state"`
	State        string  `json:"state"` // up | down
	Elapsed      float64 `json:"elapsed_s"`
	PID          int     `json:"pid,omitempty"`
	ServiceGroup string  `json:"service_group"`
	Health       Health  `json:"health"`
	Restarts     int     `json:"restart_count"`
	Error        string  `json:"error,omitempty"`
}

// Stats is `tend sup stats`.
type Stats struct {
	MemberID  string         `json:"member_id"`
	PID       int            `json:"pid"`
	Uptime    float64        `json:"uptime_s"`
	Ready     bool           `json:"ready"`
	Healthy   bool           `json:"healthy"`
	Reasons   []string       `json:"reasons,omitempty"`
	Services  int            `json:"services"`
	ByState   map[string]int `json:"by_state"` // up, down, stopped(desired down)
	StartedAt time.Time      `json:"started_at"`
	// HandoverError is why the last `sup restart` failed after its check
	// passed (the re-execution itself); "" when none did.
	HandoverError string `json:"handover_error,omitempty"`
}

// ErrorKind is the type of a control-gateway error; each maps to an HTTP
// status on the wire and to an exit code in the CLI.
type ErrorKind string

const (
	NotFound     ErrorKind = "not_found"
	Conflict     ErrorKind = "conflict"
	BadRequest   ErrorKind = "bad_request"
	Unauthorized ErrorKind = "unauthorized"
	Internal     ErrorKind = "internal"
	TooLarge     ErrorKind = "too_large"
)

// Error is a typed error that crosses the control gateway.
type Error struct {
	Kind ErrorKind `json:"kind"`
	Msg  string    `json:"message"`
}

func (e *Error) Error() string { return e.Msg }

// Errorf makes a typed error.
func Errorf(kind ErrorKind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, Internal when it carries none.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ConfigApply is `tend config apply`: TOML for every member of a group.
type ConfigApply struct {
	ServiceGroup string `json:"service_group"`
	Version      uint64 `json:"version"`
	Config       []byte `json:"config"`
}

// FileUpload is `tend file upload`: a file for every member of a group.
type FileUpload struct {
	ServiceGroup string `json:"service_group"`
	Version      uint64 `json:"version"`
	Filename     string `json:"filename"`
	Body         []byte `json:"body"`
}

// UpdateRequest is `tend svc update` (Habitat's hab svc update): the
// options of a loaded service to change at runtime. Nil or empty fields
// are left as they are; at least one must be given.
type UpdateRequest struct {
	Pkg             string    `json:"pkg"`
	Strategy        string    `json:"strategy,omitempty"`
	UpdateCondition string    `json:"update_condition,omitempty"`
	Binds           *[]string `json:"binds,omitempty"` // replaces every bind
	// HealthCheckInterval and ShutdownTimeout in whole seconds.
	HealthCheckInterval *int `json:"health_check_interval,omitempty"`
	ShutdownTimeout     *int `json:"shutdown_timeout,omitempty"`
}

// Check refuses a request that changes nothing and second counts that
// are negative or would overflow.
func (r UpdateRequest) Check() error {
	if r.Strategy == "" && r.UpdateCondition == "" && r.Binds == nil && r.HealthCheckInterval == nil && r.ShutdownTimeout == nil {
		return errors.New("nothing to update: give --strategy, --update-condition, --bind, --health-check-interval or --shutdown-timeout")
	}
	return LoadRequest{HealthCheckInterval: r.HealthCheckInterval, ShutdownTimeout: r.ShutdownTimeout}.Check()
}
