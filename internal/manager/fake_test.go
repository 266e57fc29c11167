package manager

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

// fakeWatcher is the user.toml watcher of the tests: a test says which
// service's user.toml changed.
type fakeWatcher struct {
	changes chan string
	closed  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	watched map[string]bool
}

func newFakeWatcher() *fakeWatcher {
	return &fakeWatcher{changes: make(chan string), closed: make(chan struct{}), watched: map[string]bool{}}
}

// make is the Config.NewWatcher that hands w to the manager.
func (w *fakeWatcher) make(*slog.Logger, string, func(string) bool) (Watcher, error) { return w, nil }

func (w *fakeWatcher) Run(changed func(string)) {
	for {
		select {
		case name := <-w.changes:
			changed(name)
		case <-w.closed:
			return
		}
	}
}

func (w *fakeWatcher) Add(name string)    { w.set(name, true) }
func (w *fakeWatcher) Remove(name string) { w.set(name, false) }
func (w *fakeWatcher) Close()             { w.once.Do(func() { close(w.closed) }) }

func (w *fakeWatcher) set(name string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watched[name] = on
}

func (w *fakeWatcher) watching(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watched[name]
}

// fakeRing is a ring of members and rumors the test sets; it records what
// the manager publishes.
type fakeRing struct {
	mu        sync.Mutex
	members   []ring.Member
	rumors    []rumor.Rumor
	published []rumor.Rumor
	sent      uint64 // the service rumors Stats says were sent
	changed   chan struct{}
	departed  chan struct{}
	readTook  time.Duration // how long Rumors takes (a fold of a big ring)
	refuse    error         // Publish fails with it when set
	reads     []time.Time   // when Rumors was called: once a fold
}

func newFakeRing() *fakeRing {
	return &fakeRing{sent: 1, changed: make(chan struct{}, 1), departed: make(chan struct{})}
}

func (r *fakeRing) Rumors() []rumor.Rumor {
	r.mu.Lock()
	r.reads = append(r.reads, time.Now())
	took := r.readTook
	out := append([]rumor.Rumor(nil), r.rumors...)
	r.mu.Unlock()
	time.Sleep(took)
	return out
}

// folds returns when the ring loop folded, from the start on.
func (r *fakeRing) folds() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.reads...)
}

func (r *fakeRing) Members() []ring.Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ring.Member(nil), r.members...)
}

func (r *fakeRing) Stats() ring.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ring.Stats{Kinds: map[string]ring.Traffic{"service": {MsgsSent: r.sent}}}
}

func (r *fakeRing) Publish(rm rumor.Rumor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		return r.refuse
	}
	r.published = append(r.published, rm)
	return nil
}

// refusing makes Publish fail with err (nil: succeed again).
func (r *fakeRing) refusing(err error) {
	r.mu.Lock()
	r.refuse = err
	r.mu.Unlock()
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

// writePkg writes a package of ident id into dir (hooks/run added when
// missing).
func writePkg(t *testing.T, dir string, id ident.Ident, files map[string]string) {
	t.Helper()
	all := map[string]string{"IDENT": id.String() + "\n", "hooks/run": "#!/bin/sh\nexec sleep 1000\n"}
	for rel, body := range files {
		all[rel] = body
	}
	for rel, body := range all {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// testPkg writes a package directory with hooks (run added when missing).
func testPkg(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writePkg(t, dir, ident.Ident{Origin: "test", Name: name, Version: "1.0.0", Release: "20260101000000"}, files)
	return dir
}

// fixture is a running manager over fakes. It is made inside a
// testing/synctest bubble (synctest.Test), so time passes only when every
// goroutine of the test waits: a test says how long, and synctest.Wait
// lets the manager finish what it was doing.
type fixture struct {
	t      *testing.T
	m      *Manager
	f      *servicetest.Starter
	ring   *fakeRing
	watch  *fakeWatcher
	root   string
	cancel context.CancelFunc
	ran    chan error
	terms  chan struct{}
}

// newFixture runs a manager and returns once it is ready.
func newFixture(t *testing.T, change func(*Config)) *fixture {
	t.Helper()
	root := t.TempDir()
	fx := &fixture{t: t, f: servicetest.NewStarter(), watch: newFakeWatcher(), root: root, ran: make(chan error, 1), terms: make(chan struct{}, 1)}
	settled := make(chan struct{})
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
		Settled:    func() { close(settled) },
		NewWatcher: fx.watch.make,
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
	t.Cleanup(fx.stop)
	select {
	case <-settled:
	case err := <-fx.ran:
		fx.cancel = nil
		t.Fatalf("Run returned before ready: %v", err)
	}
	if !fx.m.Snapshot().Ready {
		t.Fatal("start-up over, snapshot not ready")
	}
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
	if n := fx.f.Alive(); n != 0 {
		fx.t.Errorf("%d processes alive after Run returned", n)
	}
	if !fx.m.Snapshot().ShuttingDown {
		fx.t.Error("last snapshot not shutting down")
	}
}

// service is the snapshot's service named name, or nil.
func (fx *fixture) service(name string) *api.Service {
	for _, s := range fx.m.publishNow().Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// progress collects progress lines.
// load loads the package at dir and waits for its first start attempt,
// as `svc load` does; the progress it reported is returned.
func (fx *fixture) load(t *testing.T, dir string) *progress {
	t.Helper()
	p := &progress{}
	if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Wait: true}, p.add); err != nil {
		t.Fatal(err)
	}
	return p
}

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

// lastElection is the last election rumor published for sg, nil if none.
func (r *fakeRing) lastElection(sg string) *rumor.Election {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.published) - 1; i >= 0; i-- {
		if rm := r.published[i]; rm.Kind == rumor.KindElection && rm.Election.ServiceGroup == sg {
			e := *rm.Election
			return &e
		}
	}
	return nil
}
