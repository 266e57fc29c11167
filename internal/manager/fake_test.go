package manager

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/service"
)

// fakeStarter starts fake processes: each runs until stopped, except the
// hooks named in exit, which exit at once with that code.
type fakeStarter struct {
	mu     sync.Mutex
	exit   map[string]int // hook name -> exit code; other hooks and run: until stopped
	starts map[string]int
	pid    int
	procs  []*fakeProc
}

func newFakeStarter() *fakeStarter {
	return &fakeStarter{exit: map[string]int{}, starts: map[string]int{}, pid: 100}
}

func (f *fakeStarter) Start(s process.Spec) (hook.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := "run"
	if filepath.Base(filepath.Dir(s.Path)) == "hooks" {
		name = filepath.Base(s.Path)
	}
	f.starts[name]++
	f.pid++
	p := &fakeProc{pid: f.pid, done: make(chan struct{})}
	f.procs = append(f.procs, p)
	if code, ok := f.exit[name]; ok {
		p.end(process.Exit{Code: code, At: time.Now()})
	}
	return p, nil
}

func (f *fakeStarter) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[name]
}

func (f *fakeStarter) alive() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.procs {
		select {
		case <-p.done:
		default:
			n++
		}
	}
	return n
}

type fakeProc struct {
	pid  int
	once sync.Once
	done chan struct{}
	exit process.Exit
}

func (p *fakeProc) end(e process.Exit) {
	p.once.Do(func() { p.exit = e; close(p.done) })
}
func (p *fakeProc) PID() int              { return p.pid }
func (p *fakeProc) Done() <-chan struct{} { return p.done }
func (p *fakeProc) Exit() process.Exit    { return p.exit }
func (p *fakeProc) Stop(_ context.Context, sig syscall.Signal, _ time.Duration) process.Exit {
	p.end(process.Exit{Code: -1, Signal: sig, At: time.Now()})
	return p.exit
}

// fakeRing is a ring of members and rumors the test sets; it records what
// the manager publishes.
type fakeRing struct {
	mu        sync.Mutex
	members   []ring.Member
	rumors    []rumor.Rumor
	published []rumor.Rumor
	changed   chan struct{}
	departed  chan struct{}
}

func newFakeRing() *fakeRing {
	return &fakeRing{changed: make(chan struct{}, 1), departed: make(chan struct{})}
}

func (r *fakeRing) Rumors() []rumor.Rumor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rumor.Rumor(nil), r.rumors...)
}

func (r *fakeRing) Members() []ring.Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ring.Member(nil), r.members...)
}

func (r *fakeRing) Stats() ring.Stats {
	return ring.Stats{Kinds: map[string]ring.Traffic{"service": {MsgsSent: 1}}}
}

func (r *fakeRing) Publish(rm rumor.Rumor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, rm)
	return nil
}

func (r *fakeRing) Changed() <-chan struct{}  { return r.changed }
func (r *fakeRing) Departed() <-chan struct{} { return r.departed }

// set replaces the ring's members and rumors and says it changed.
func (r *fakeRing) set(members []ring.Member, rumors []rumor.Rumor) {
	r.mu.Lock()
	r.members, r.rumors = members, rumors
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// serviceRumors lists the service rumors published for sg.
func (r *fakeRing) serviceRumors(sg string) []rumor.Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rumor.Service
	for _, rm := range r.published {
		if rm.Kind == rumor.KindService && rm.Service.ServiceGroup == sg {
			out = append(out, *rm.Service)
		}
	}
	return out
}

// testPkg writes a package directory with hooks (run added when missing).
func testPkg(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if files == nil {
		files = map[string]string{}
	}
	files["IDENT"] = "test/" + name + "/1.0.0/20260101000000"
	if _, ok := files["hooks/run"]; !ok {
		files["hooks/run"] = "#!/bin/sh\nexec sleep 1000\n"
	}
	for rel, body := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fixture is a running manager over fakes.
type fixture struct {
	t      *testing.T
	m      *Manager
	f      *fakeStarter
	ring   *fakeRing
	root   string
	cancel context.CancelFunc
	ran    chan error
	terms  chan struct{}
}

func newFixture(t *testing.T, change func(*Config)) *fixture {
	t.Helper()
	root := t.TempDir()
	fx := &fixture{t: t, f: newFakeStarter(), root: root, ran: make(chan error, 1), terms: make(chan struct{}, 1)}
	cfg := Config{
		Root: root, StateDir: filepath.Join(root, "sup", "default"), MemberID: "m1", Version: "test",
		Backoff: service.Backoff{Min: time.Second, Max: time.Second, Cooldown: time.Minute},
		Env:     []string{"PATH=/usr/bin:/bin"}, Getenv: func(string) string { return "" },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Output: func(string, byte, []byte) {},
		Reaper: fx.f,
		// The fake's processes are in no cgroup: track them through /proc
		// (internal/cgroup and e2e test the cgroups).
		Cgroups: "off",
		Term: func() {
			select {
			case fx.terms <- struct{}{}:
			default:
			}
		},
	}
	fx.ring = newFakeRing()
	cfg.Ring = fx.ring
	if change != nil {
		change(&cfg)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil { // sup run makes it
		t.Fatal(err)
	}
	fx.m = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	fx.cancel = cancel
	go func() { fx.ran <- fx.m.Run(ctx) }()
	fx.waitFor("ready", func() bool {
		select {
		case err := <-fx.ran:
			t.Fatalf("Run returned before ready: %v", err)
		default:
		}
		return fx.m.Snapshot().Ready
	})
	t.Cleanup(fx.stop)
	return fx
}

// stop ends Run and waits for it; every fake process must have ended.
func (fx *fixture) stop() {
	if fx.cancel == nil {
		return
	}
	fx.cancel()
	fx.cancel = nil
	select {
	case err := <-fx.ran:
		if err != nil {
			fx.t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		fx.t.Fatal("Run did not return")
	}
	if n := fx.f.alive(); n != 0 {
		fx.t.Errorf("%d processes alive after Run returned", n)
	}
	if !fx.m.Snapshot().ShuttingDown {
		fx.t.Error("last snapshot not shutting down")
	}
}

// waitFor polls cond until it holds, or fails the test after 10 s.
func (fx *fixture) waitFor(what string, cond func() bool) {
	fx.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			fx.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// service is the snapshot's service named name, or nil.
func (fx *fixture) service(name string) *api.Service {
	for _, s := range fx.m.publishNow().Services {
		if s.Name == name {
			return &s
		}
	}
	return nil
}

// progress collects progress lines.
type progress struct {
	mu    sync.Mutex
	lines []string
}

func (p *progress) add(s string) {
	p.mu.Lock()
	p.lines = append(p.lines, s)
	p.mu.Unlock()
}

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}
