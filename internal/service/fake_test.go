package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/service/servicetest"
	"github.com/tend-sh/tend/internal/spec"
)

// testPkg is a package with the given hooks (run included when missing).
func testPkg(t *testing.T, hooks map[string]string) *pkg.Package {
	t.Helper()
	if _, ok := hooks["run"]; !ok {
		hooks["run"] = "#!/bin/sh\nexec sleep 1000\n"
	}
	return &pkg.Package{
		Ident: ident.Ident{Origin: "test", Name: "svc", Version: "1.0.0", Release: "20260101000000"},
		Path:  t.TempDir(), Hooks: hooks,
		ShutdownSignal: "TERM", ShutdownTimeout: 8 * time.Second,
	}
}

// fixture is one runner over a fake starter, its Run started.
type fixture struct {
	t      *testing.T
	f      *servicetest.Starter
	r      *Runner
	cancel context.CancelFunc
	ran    chan error
	log    *lockedBuf
}

// lockedBuf is the runner's log, checked for bugs it reports.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fixtureOpt func(*Options)

func withSpec(f func(*spec.Spec)) fixtureOpt { return func(o *Options) { f(&o.Spec) } }

func newFixture(t *testing.T, f *servicetest.Starter, p *pkg.Package, opts ...fixtureOpt) *fixture {
	t.Helper()
	return newGroupFixture(t, f, p, nil, opts...)
}

// newGroupFixture is newFixture with the service's processes in g, as a
// Tracker would give it.
func newGroupFixture(t *testing.T, f *servicetest.Starter, p *pkg.Package, g procGroup, opts ...fixtureOpt) *fixture {
	t.Helper()
	fx := newIdleFixture(t, f, p, g, opts...)
	fx.run()
	return fx
}

// newIdleFixture is newGroupFixture with Run not started yet, for a test
// to set up what a runner finds at its start (run starts it).
func newIdleFixture(t *testing.T, f hook.Starter, p *pkg.Package, g procGroup, opts ...fixtureOpt) *fixture {
	t.Helper()
	sp := spec.New(p.Ident.Origin + "/" + p.Ident.Name)
	logBuf := &lockedBuf{}
	o := Options{
		Spec: sp, Pkg: p, SpecFile: filepath.Join(t.TempDir(), "svc.spec"),
		Deps: Deps{
			Reaper: f, Log: slog.New(slog.NewTextHandler(logBuf, nil)),
			Output: func(string, byte, []byte) {},
			Root:   t.TempDir(), MemberID: "m1",
			Backoff: Backoff{Min: time.Second, Max: 10 * time.Second, Cooldown: time.Minute},
			Getenv:  func(string) string { return "" },
			Env:     []string{"PATH=/usr/bin:/bin"},
		},
	}
	for _, opt := range opts {
		opt(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if g != nil {
		r.st.group = g
	}
	fs, _ := f.(*servicetest.Starter)
	return &fixture{t: t, f: fs, r: r, ran: make(chan error, 1), log: logBuf}
}

// run starts the runner's Run.
func (fx *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	fx.cancel = cancel
	go func() { fx.ran <- fx.r.Run(ctx) }()
}

// close ends Run and waits for it.
func (fx *fixture) close() {
	fx.cancel()
	if err := <-fx.ran; err != nil {
		fx.t.Errorf("Run: %v", err)
	}
	if l := fx.log.String(); strings.Contains(l, "not in the table") {
		fx.t.Errorf("a phase change the table does not have:\n%s", l)
	}
}

// phaseOf reads the runner's phase on its loop.
func (fx *fixture) phaseOf() phase {
	fx.t.Helper()
	ch := make(chan phase, 1)
	if err := fx.r.do(context.Background(), func(_ context.Context, st *state) { ch <- st.phase }); err != nil {
		fx.t.Fatal(err)
	}
	return <-ch
}
