// Package pkg reads, installs and finds packages: directories laid out as
// installed Habitat packages (IDENT, hooks, default.toml, config templates
// and the metadata files around them), kept under ROOT/pkgs.
package pkg

import (
	"errors"
	"fmt"
	"time"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/tmpl"
)

// ErrNotFound is wrapped by Find and Resolve when no installed package
// matches.
var ErrNotFound = errors.New("package not found")

// ErrMalformed matches (with errors.Is) every *MalformedError, so callers
// can report a broken package as the user's mistake.
var ErrMalformed = errors.New("malformed package")

// Package is one package directory, read and checked.
type Package struct {
	Ident ident.Ident
	Path  string // absolute directory it was read from

	// Hooks maps a hook name ("run", "init", "post-run", "health-check",
	// ...) to its template source. "run" is always there: from hooks/run,
	// else from the plain run file.
	Hooks map[string]string

	DefaultTOML     []byte            // raw default.toml; nil if none
	ConfigTemplates map[string]string // slash-separated path under config/ -> template source; nil if none

	Exports       map[string]string   // export key -> cfg path; nil if none
	Binds         map[string][]string // required bind name -> export keys it needs; nil if none
	BindsOptional map[string][]string // likewise for optional binds
	Exposes       []string            // ports

	SvcUser, SvcGroup string // empty when the package does not say

	ShutdownSignal  string        // a name from the signal table, without "SIG"; "TERM" by default
	ShutdownTimeout time.Duration // 8s by default

	// TemplateDialect is the whitespace rules Hooks and ConfigTemplates
	// are written for (TEMPLATE_DIALECT): Habitat 1.x unless it says
	// handlebars. See docs/TEMPLATES.md.
	TemplateDialect tmpl.Dialect

	// NotificationFD is the descriptor the run process writes a newline to
	// once ready (NOTIFICATION_FD, s6's protocol); 0: none. Notify: the run
	// process sends READY=1 to its NOTIFY_SOCKET (NOTIFY, sd_notify). At
	// most one of them is set (readiness.go).
	NotificationFD int
	Notify         bool

	Env  []EnvVar      // RUNTIME_ENVIRONMENT, in file order
	Deps []ident.Ident // DEPS, fully qualified, in file order
}

// EnvVar is one line of RUNTIME_ENVIRONMENT.
type EnvVar struct{ Key, Value string }

// Defaults Habitat uses when a package does not say.
const (
	DefaultShutdownSignal  = "TERM"
	DefaultShutdownTimeout = 8 * time.Second
)

// Hook names a package may carry under hooks/. "run" may also be a plain
// file at the top of the package.
var hookNames = map[string]bool{
	"run":          true,
	"init":         true,
	"post-run":     true,
	"health-check": true,
	"reconfigure":  true,
	"suitability":  true,
	"file-updated": true,
	"post-stop":    true,
}

// deprecatedHooks maps the spellings Habitat used before its hooks were
// renamed to the current names. core-plans still ship them beside the
// current ones for older Supervisors (core/postgresql has both health_check
// and health-check), and Habitat runs such a package, so tend must not
// refuse it: the current spelling is used when both are there, the old one
// stands in for it otherwise.
var deprecatedHooks = map[string]string{
	"health_check": "health-check",
	"file_updated": "file-updated",
	"post_run":     "post-run",
	"post_stop":    "post-stop",
}

// knownHooks lists hookNames for messages.
const knownHooks = "run, init, post-run, health-check, reconfigure, suitability, file-updated, post-stop"

// MalformedError says what is wrong with a package, and where: one line,
// "FILE:LINE: what" (or "FILE: what" when no single line is at fault).
type MalformedError struct {
	File string // absolute path of the offending file
	Line int    // 1-based; 0 when the file as a whole is wrong
	Msg  string
	Err  error // the underlying error, if any (a TOML decode error, ...)
}

func (e *MalformedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Unwrap gives the underlying error, if any.
func (e *MalformedError) Unwrap() error { return e.Err }

// Is makes every MalformedError match ErrMalformed.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(file string, line int, format string, args ...any) *MalformedError {
	return &MalformedError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
