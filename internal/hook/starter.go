package hook

import (
	"context"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/process"
)

// Process is what the supervisor holds of a child it started: a hook or a
// service's run process. *process.Proc is one; tests use fakes.
type Process interface {
	PID() int
	// Done is closed once the process has exited and its output is read.
	Done() <-chan struct{}
	// Exit is how it ended; valid once Done is closed.
	Exit() process.Exit
	// Stop signals the process's group, waits up to timeout, then kills it,
	// and returns once it has exited.
	Stop(ctx context.Context, sig syscall.Signal, timeout time.Duration) process.Exit
}

// Starter starts child processes: the supervisor's *process.Reaper (see
// Reaper), or a fake in tests, so that what runs hooks and services can be
// tested without forking.
type Starter interface {
	Start(process.Spec) (Process, error)
}

// Adopter takes over a running process (process.Reaper.Adopt): what a
// Starter that can adopt also is.
type Adopter interface {
	Adopt(process.Adoption) (p Process, missing []string, err error)
}

// Reaper is the Starter that starts real children through rp, whose Run
// must be running.
func Reaper(rp *process.Reaper) Starter { return reaperStarter{rp} }

type reaperStarter struct{ rp *process.Reaper }

func (s reaperStarter) Start(sp process.Spec) (Process, error) {
	p, err := s.rp.Start(sp)
	if err != nil {
		return nil, err // not a typed nil in an interface
	}
	return p, nil
}

func (s reaperStarter) Adopt(a process.Adoption) (Process, []string, error) {
	p, missing, err := s.rp.Adopt(a)
	if err != nil {
		return nil, nil, err
	}
	return p, missing, nil
}
