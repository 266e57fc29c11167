// Package hook runs one lifecycle hook (init, health-check, post-stop, ...)
// of a service to completion through the supervisor's process.Reaper.
package hook

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/process"
)

// killGrace is how long a timed-out or cancelled hook's group has between
// SIGTERM and SIGKILL.
const killGrace = time.Second

// Spec describes one run of a hook.
type Spec struct {
	Name       string // "init", "health-check", "post-stop", ...; names the log files
	Path       string // rendered hook file: executable, with a shebang
	Env        []string
	Dir        string
	Credential *syscall.Credential // nil: run as the supervisor's user
	// Timeout 0 means none. On timeout the hook's group gets SIGTERM, then
	// SIGKILL after a second, and the result is TimedOut.
	Timeout time.Duration
	// LogDir receives NAME.stdout.log and NAME.stderr.log, truncated at each
	// run so they hold the latest one. "" writes no files.
	LogDir string
	// LogLimits rotates each log file by size within a run; the zero
	// value never rotates.
	LogLimits logfile.Limits
	// Log gets each output line too, stream 'O' or 'E', for the supervisor's
	// log (may be nil). The line is only valid during the call, and the two
	// streams may call it at the same time.
	Log func(stream byte, line []byte)
	// Group is the service's group: the hook is born in its cgroup, so
	// what it leaves running stops with the service. nil: none.
	Group process.Group
}

// Result is how a run ended.
type Result struct {
	// Exit is the hook's exit; when it failed to start, Code is -1 so that
	// it never reads as success.
	Exit     process.Exit
	Duration time.Duration
	TimedOut bool
	Output   string // the last 1 KiB or less of stdout and stderr, interleaved
	Err      error  // the hook could not be started (or its log files opened)
}

// OK reports whether the hook ran and exited 0.
func (r Result) OK() bool {
	return r.Err == nil && !r.TimedOut && r.Exit.Signal == 0 && r.Exit.Code == 0
}

// String describes the outcome for logs and the API.
func (r Result) String() string {
	switch {
	case r.Err != nil:
		return "failed to start: " + r.Err.Error()
	case r.TimedOut:
		return fmt.Sprintf("timed out after %v, %v", r.Duration.Round(time.Millisecond), r.Exit)
	}
	return r.Exit.String()
}

// Run runs the hook until it exits, times out, or ctx is done; the last two
// kill its process group.
func Run(ctx context.Context, rp Starter, s Spec) Result {
	if s.Name == "" || strings.ContainsRune(s.Name, '/') {
		return failed(fmt.Errorf("hook: bad name %q", s.Name))
	}
	out, err := newOutput(s)
	if err != nil {
		return failed(err)
	}
	defer out.close()

	begin := time.Now()
	p, err := rp.Start(process.Spec{
		Path:       s.Path,
		Env:        s.Env,
		Dir:        s.Dir,
		Credential: s.Credential,
		Stdout:     out.stdout,
		Stderr:     out.stderr,
		Group:      s.Group,
	})
	if err != nil {
		return failed(fmt.Errorf("hook %s: %w", s.Name, err))
	}

	var res Result
	var timeout <-chan time.Time
	if s.Timeout > 0 {
		t := time.NewTimer(s.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-p.Done():
	case <-timeout:
		res.TimedOut = true
		p.Stop(context.Background(), syscall.SIGTERM, killGrace)
	case <-ctx.Done():
		p.Stop(context.Background(), syscall.SIGTERM, killGrace)
	}
	// Done is closed: the pumps have delivered every line.
	res.Exit = p.Exit()
	res.Duration = res.Exit.At.Sub(begin)
	res.Output = out.excerpt()
	return res
}

func failed(err error) Result {
	return Result{Exit: process.Exit{Code: -1, At: time.Now()}, Err: err}
}
