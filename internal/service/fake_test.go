package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/spec"
)

// life is what a fake process does: exit with code after d (d < 0: run
// until stopped), and whether it ignores the shutdown signal.
type life struct {
	d          time.Duration
	code       int
	ignoreTerm bool
}

var forever = life{d: -1}

// fakeStarter starts fake processes: the hook or run process a spec names
// lives as behave says (forever when it does not say).
type fakeStarter struct {
	mu      sync.Mutex
	behave  map[string]func(n int) life // by hook name, "run" for the run process
	starts  map[string]int
	procs   map[string][]*fakeProc
	nextPID int
	err     error // Start fails with it when set
}

func newFakeStarter() *fakeStarter {
	return &fakeStarter{behave: map[string]func(int) life{}, starts: map[string]int{}, procs: map[string][]*fakeProc{}, nextPID: 1000}
}

// nameOf tells a hook from the run process by the rendered file it runs.
func nameOf(s process.Spec) string {
	if filepath.Base(filepath.Dir(s.Path)) == "hooks" {
		return filepath.Base(s.Path)
	}
	return "run"
}

func (f *fakeStarter) Start(s process.Spec) (hook.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	name := nameOf(s)
	n := f.starts[name]
	f.starts[name]++
	l := forever
	if b := f.behave[name]; b != nil {
		l = b(n)
	}
	f.nextPID++
	p := &fakeProc{pid: f.nextPID, done: make(chan struct{}), kill: make(chan syscall.Signal, 1), ignoreTerm: l.ignoreTerm}
	f.procs[name] = append(f.procs[name], p)
	if s.Stdout != nil {
		s.Stdout([]byte(name + " says hello"))
		s.Stderr([]byte(name + " complains"))
	}
	go p.live(l)
	return p, nil
}

func (f *fakeStarter) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[name]
}

func (f *fakeStarter) last(name string) *fakeProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := f.procs[name]
	if len(ps) == 0 {
		return nil
	}
	return ps[len(ps)-1]
}

// alive counts the processes that have not exited.
func (f *fakeStarter) alive() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ps := range f.procs {
		for _, p := range ps {
			select {
			case <-p.done:
			default:
				n++
			}
		}
	}
	return n
}

type fakeProc struct {
	pid        int
	done       chan struct{}
	kill       chan syscall.Signal
	exit       process.Exit
	ignoreTerm bool
}

func (p *fakeProc) live(l life) {
	var t <-chan time.Time
	if l.d >= 0 {
		t = time.After(l.d)
	}
	select {
	case <-t:
		p.exit = process.Exit{Code: l.code, At: time.Now()}
	case sig := <-p.kill:
		p.exit = process.Exit{Code: -1, Signal: sig, At: time.Now()}
	}
	close(p.done)
}

func (p *fakeProc) signal(sig syscall.Signal) {
	select {
	case p.kill <- sig:
	default:
	}
}

// crash ends the process on its own with code.
func (p *fakeProc) crash() { p.signal(syscall.SIGSEGV) }

func (p *fakeProc) PID() int                { return p.pid }
func (p *fakeProc) Done() <-chan struct{}   { return p.done }
func (p *fakeProc) Exit() process.Exit      { return p.exit }
func (p *fakeProc) Signal(s syscall.Signal) { p.signal(s) }
func (p *fakeProc) Stop(_ context.Context, sig syscall.Signal, timeout time.Duration) process.Exit {
	if !p.ignoreTerm {
		p.signal(sig)
	}
	select {
	case <-p.done:
		return p.exit
	case <-time.After(timeout):
	}
	p.signal(syscall.SIGKILL)
	<-p.done
	return p.exit
}

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
	f      *fakeStarter
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

func newFixture(t *testing.T, f *fakeStarter, p *pkg.Package, opts ...fixtureOpt) *fixture {
	t.Helper()
	return newGroupFixture(t, f, p, nil, opts...)
}

// newGroupFixture is newFixture with the service's processes in g, as a
// Tracker would give it.
func newGroupFixture(t *testing.T, f *fakeStarter, p *pkg.Package, g procGroup, opts ...fixtureOpt) *fixture {
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
	r.st.group = g
	ctx, cancel := context.WithCancel(context.Background())
	fx := &fixture{t: t, f: f, r: r, cancel: cancel, ran: make(chan error, 1), log: logBuf}
	go func() { fx.ran <- r.Run(ctx) }()
	return fx
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
