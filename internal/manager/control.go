package manager

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service"
)

// Restart stops a running service and starts it again (svc restart), and
// reports the new start as svc start does. A stopped service (desired
// down) is refused: svc start is what starts it and records that it
// should run.
func (m *Manager) Restart(ctx context.Context, pkgArg string, progress func(string)) error {
	e, done, err := m.beginFound(ctx, pkgArg)
	if err != nil {
		return err
	}
	defer done()
	if e.specErr != "" {
		return api.Errorf(api.BadRequest, "service %s cannot be restarted: %s", e.name, e.specErr)
	}
	var up bool
	m.call(func(*owned) { up = e.spec.Up() })
	if !up {
		return api.Errorf(api.Conflict, "service %s is stopped; start it with svc start", e.name)
	}
	sg := e.runner.Status().ServiceGroup
	n := e.runner.Attempts()
	progress(fmt.Sprintf("Restarting %s", sg))
	if err := e.runner.Restart(ctx); err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	return m.reportStart(ctx, e, n, progress)
}

// Signal sends a signal to a service's run process (svc signal), the main
// process alone, as supervisorctl signal does.
func (m *Manager) Signal(ctx context.Context, pkgArg, sigName string, progress func(string)) error {
	sig, err := ParseSignal(sigName)
	if err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	e, done, err := m.beginFound(ctx, pkgArg)
	if err != nil {
		return err
	}
	defer done()
	sg := e.runner.Status().ServiceGroup
	pid, err := e.runner.Signal(ctx, sig)
	switch {
	case errors.Is(err, service.ErrNotRunning):
		return api.Errorf(api.Conflict, "%s is not running: no process to signal", sg)
	case err != nil:
		return api.Errorf(api.Internal, "signal %s: %v", sg, err)
	}
	progress(fmt.Sprintf("%s sent to %s (pid %d)", unix.SignalName(sig), sg, pid))
	return nil
}

// ParseSignal reads a signal name as kill(1) takes it: HUP, SIGHUP, hup,
// or a number.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 || unix.SignalName(syscall.Signal(n)) == "" {
			return 0, fmt.Errorf("signal %d: no such signal", n)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("signal %q: no such signal (HUP, USR1, TERM, ...)", s)
	}
	return sig, nil
}
