package service

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tend-sh/tend/internal/api"
)

// ErrNotRunning is Signal's error when the service has no run process.
var ErrNotRunning = errors.New("not running")

// Restart stops the service and starts it again (svc restart): asked for,
// so the backoff starts over, as after svc stop and svc start. A service
// waiting to restart, or for its binds, is started now; one starting or
// stopping is left to the start that follows. The manager refuses a
// service whose desired state is down.
func (r *Runner) Restart(ctx context.Context) error {
	return r.do(ctx, func(ctx context.Context, st *state) {
		switch st.phase {
		case phaseUp:
			r.restart(st, api.ExitStopped) // stopped starts it again; records why
			r.publish(st)
		case phaseDown, phaseBackingOff, phaseWaitingBinds:
			r.stopRestartTimer(st)
			st.w().NextRestart = time.Time{}
			st.restarts.reset()
			r.start(ctx, st)
		default:
			r.publish(st)
		}
	})
}

// leaderSignaller is a run process that can be signalled alone, not with
// its group (*process.Proc).
type leaderSignaller interface {
	SignalLeader(syscall.Signal) error
}

// Signal sends sig to the service's run process, the main process only (as
// supervisorctl signal does; the process may pass it on), and returns its
// pid. ErrNotRunning when the service has no run process.
func (r *Runner) Signal(ctx context.Context, sig syscall.Signal) (int, error) {
	type res struct {
		pid int
		err error
	}
	out := make(chan res, 1)
	err := r.do(ctx, func(_ context.Context, st *state) {
		if st.phase != phaseUp || st.proc == nil {
			out <- res{err: ErrNotRunning}
			return
		}
		p, ok := st.proc.(leaderSignaller)
		if !ok {
			out <- res{err: fmt.Errorf("the run process of %s cannot be signalled", r.sg)}
			return
		}
		pid := st.proc.PID()
		err := p.SignalLeader(sig)
		if err == nil {
			r.record(st, true, "%s sent to pid %d: asked for", unix.SignalName(sig), pid)
			r.publish(st)
		}
		out <- res{pid, err}
	})
	if err != nil {
		return 0, err
	}
	select {
	case v := <-out:
		return v.pid, v.err
	case <-r.done:
		return 0, ErrGone
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
