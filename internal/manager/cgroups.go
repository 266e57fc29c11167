package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
)

// trackProcesses chooses how the services' processes are tracked (a
// cgroup each, or /proc: internal/cgroup) and, before any service starts,
// deals with what a supervisor killed with SIGKILL left running: the
// processes of a service whose spec says up are left for its runner,
// which adopts its run process when it still runs (service.Runner's
// adoptable) and else stops them with the service's shutdown signal and
// timeout before its first start; everything else (a service unloaded or stopped while
// that supervisor was killed: its spec was already removed or rewritten)
// is killed now. Either way, no service ever runs twice.
func (m *Manager) trackProcesses(ctx context.Context) error {
	t, err := cgroup.Open(cgroup.Options{
		Mode: m.cfg.Cgroups, MemberID: m.cfg.MemberID, StateDir: m.cfg.StateDir,
		SvcDir: filepath.Join(m.cfg.Root, "svc"), Log: m.log,
	})
	if err != nil {
		return err
	}
	m.tracker = t
	// The run processes' output FIFOs: the supervisor's alone, as the
	// state directory is; a mode left by an older tend is put right.
	dir := filepath.Join(m.cfg.StateDir, "output")
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("output fifos: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("output fifos: %w", err)
	}
	m.outputDir = dir
	mech := t.Mechanism()
	m.tracking.Store(&mech)
	m.log.Info("tracking service processes", "mechanism", t.Mechanism())
	t.Sweep(ctx, m.specUp)
	return nil
}

// specUp reports whether name will have a runner that stops its leftovers:
// its spec file asks for it to run and its package can be loaded (else
// loadPersisted makes no runner, and nothing would stop them). Only the
// file counts: the start-up YAML's services have one once start-up is
// over, and a leftover of one that has not is killed rather than kept,
// which still leaves one copy. Called only for services that left
// something running, so a restart after a clean shutdown reads nothing.
func (m *Manager) specUp(name string) bool {
	path := filepath.Join(m.specsDir, name+".spec")
	data, err := os.ReadFile(path)
	if err != nil || strings.HasPrefix(name, ".") {
		return false
	}
	sp, err := spec.Parse(path, data)
	if err != nil || sp.Name() != name || !sp.Up() {
		return false
	}
	p, err := m.findPackage(sp.Ident)
	if err != nil {
		return false
	}
	_, err = service.Check(p, m.cfg.Privileged)
	return err == nil
}

// untrackProcesses removes the supervisor's cgroup subtree once every
// service has stopped. What a runner never started for is killed first:
// a supervisor told to stop during its start-up, before its runners
// adopted the services a predecessor left (after a SIGKILL or a
// hand-over), stops them too, as `sup term` says.
func (m *Manager) untrackProcesses() {
	if m.tracker == nil {
		return
	}
	m.tracker.SweepAtStop(context.Background())
	if err := m.tracker.Close(); err != nil {
		m.log.Warn("cgroup subtree not removed", "err", err)
	}
}

// trackingText is the tracker's mechanism, "" until it is chosen.
func (m *Manager) trackingText() string {
	if p := m.tracking.Load(); p != nil {
		return *p
	}
	return ""
}
