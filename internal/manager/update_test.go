package manager

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
)

// logBuffer is a slog destination the tests read: what an operator finds
// in the supervisor's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count is how many lines of the log hold s.
func (b *logBuffer) count(s string) int {
	n := 0
	for line := range strings.Lines(b.String()) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// logTo makes the fixture's supervisor log into b.
func logTo(b *logBuffer) func(*Config) {
	return func(c *Config) { c.Log = slog.New(slog.NewTextHandler(b, nil)) }
}

func alphaAt(version, release string) ident.Ident {
	return ident.Ident{Origin: "test", Name: "alpha", Version: version, Release: release}
}

// updateFixture runs a manager whose update source is a directory the test
// fills, polled every minute, with test/alpha 1.0.0 installed.
func updateFixture(t *testing.T, logs *logBuffer) (fx *fixture, source string) {
	t.Helper()
	source = t.TempDir()
	fx = newFixture(t, func(c *Config) {
		logTo(logs)(c)
		c.UpdateSource = source
		c.UpdatePeriod = time.Minute
		writePkg(t, pkg.InstallDir(c.Root, alphaAt("1.0.0", "20260101000000")), alphaAt("1.0.0", "20260101000000"), nil)
	})
	return fx, source
}

// nextPoll lets the update loop's next poll (a period plus a splay of up to
// a quarter of it) and what it started finish.
func nextPoll() {
	time.Sleep(time.Minute + time.Minute/4 + time.Second)
	synctest.Wait()
}

// A service with the at-once strategy moves to the newer package its
// update source offers at the next poll: installed, restarted on it, its
// spec still asking for the fuzzy ident. A newer package it cannot run is
// refused, the service keeps running the one it has, and the refusal is
// logged once, not at every poll.
func TestAtOnceUpdateFromTheSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		fx, source := updateFixture(t, &logs)
		var p progress
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: "test/alpha", Strategy: "at-once", Wait: true}, p.add); err != nil {
			t.Fatal(err)
		}
		if s := fx.service("alpha"); s == nil || s.Pkg.Ident != alphaAt("1.0.0", "20260101000000").String() {
			t.Fatalf("before the update: %+v", s)
		}
		// Nothing newer: a poll changes nothing.
		nextPoll()
		if n := fx.f.Count("run"); n != 1 {
			t.Fatalf("%d run processes with nothing newer in the source, want 1", n)
		}

		newer := alphaAt("1.1.0", "20260201000000")
		writePkg(t, filepath.Join(source, "alpha-1.1.0"), newer, nil)
		// An entry of another tool's making is skipped, and hides nothing.
		writePkg(t, filepath.Join(source, "junk"), ident.Ident{}, map[string]string{"IDENT": "not an ident\n"})
		nextPoll()
		s := fx.service("alpha")
		if s == nil || !s.Running || s.Pkg.Ident != newer.String() || fx.f.Count("run") != 2 || fx.f.Alive() != 1 {
			t.Fatalf("after a poll with %s in the source: %+v, %d runs, %d alive", newer, s, fx.f.Count("run"), fx.f.Alive())
		}
		if _, err := os.Stat(filepath.Join(pkg.InstallDir(fx.root, newer), "IDENT")); err != nil {
			t.Fatalf("the update is not installed: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(fx.m.specsDir, "alpha.spec")); !strings.Contains(string(b), `ident = "test/alpha"`) {
			t.Fatalf("spec after the update: %s", b)
		}
		if n := logs.count("update source entry skipped"); n != 1 {
			t.Errorf("the unusable source entry was logged %d times, want once", n)
		}

		// 1.2.0 installs, but its template does not parse: refused.
		broken := alphaAt("1.2.0", "20260301000000")
		writePkg(t, filepath.Join(source, "alpha-1.2.0"), broken, map[string]string{"config/app.conf": "{{ oops\n"})
		nextPoll()
		nextPoll()
		if s := fx.service("alpha"); !s.Running || s.Pkg.Ident != newer.String() || fx.f.Count("run") != 2 {
			t.Fatalf("after a package it cannot run: %+v, %d runs", s, fx.f.Count("run"))
		}
		if n := logs.count("package update refused"); n != 1 {
			t.Errorf("the refused update was logged %d times in two polls, want once:\n%s", n, logs.String())
		}
		if n := logs.count("update source entry skipped"); n != 1 {
			t.Errorf("the unusable source entry was logged %d times in three polls, want once", n)
		}
	})
}

// A service without an update strategy stays on its package, whatever the
// source offers.
func TestNoStrategyNoUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		fx, source := updateFixture(t, &logs)
		fx.load(t, "test/alpha")
		writePkg(t, filepath.Join(source, "alpha-1.1.0"), alphaAt("1.1.0", "20260201000000"), nil)
		nextPoll()
		if s := fx.service("alpha"); s.Pkg.Ident != alphaAt("1.0.0", "20260101000000").String() || fx.f.Count("run") != 1 {
			t.Fatalf("a service with no strategy moved: %+v, %d runs", s, fx.f.Count("run"))
		}
	})
}

// lastOf is the last rumor of kind published for sg.
func (r *fakeRing) lastOf(kind rumor.Kind, sg string) *rumor.Rumor {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.published) - 1; i >= 0; i-- {
		rm := r.published[i]
		if rm.Kind != kind {
			continue
		}
		if (rm.Election != nil && rm.Election.ServiceGroup == sg) || (rm.Update != nil && rm.Update.ServiceGroup == sg) ||
			(rm.Service != nil && rm.Service.ServiceGroup == sg) {
			return &rm
		}
	}
	return nil
}

// A rolling service's member stands for its group's update leader, and
// once it leads, a poll that finds a newer package installs it, offers it
// to the group as the target and, alone in the group, takes its turn at
// once.
func TestRollingUpdateLeaderOffersAndTakesTheTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		fx, source := updateFixture(t, &logs)
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: "test/alpha", Strategy: "rolling", Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		members := []ring.Member{{ID: "m1", Health: "alive"}}
		// The ring hands back what this member publishes, merged, until
		// its update election is finished.
		var finished *rumor.Election
		for range 10 {
			rumors := []rumor.Rumor{*fx.ring.lastOf(rumor.KindService, "alpha.default")}
			if e := fx.ring.lastOf(rumor.KindElectionUpdate, "alpha.default"); e != nil {
				rumors = append(rumors, *e)
				if e.Election.Finished() {
					finished = e.Election
					break
				}
			}
			fx.ring.set(members, rumors)
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		if finished == nil || finished.MemberID != "m1" {
			t.Fatalf("no finished update election led by this member: %+v", finished)
		}
		if e := fx.ring.lastElection("alpha.default"); e != nil {
			t.Fatalf("a standalone service stood in a leader election: %+v", e)
		}
		fx.ring.set(members, []rumor.Rumor{*fx.ring.lastOf(rumor.KindService, "alpha.default"), {Kind: rumor.KindElectionUpdate, Election: finished}})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if rm := fx.ring.lastOf(rumor.KindUpdate, "alpha.default"); rm != nil {
			t.Fatalf("a target offered with nothing newer: %+v", rm.Update)
		}

		newer := alphaAt("1.1.0", "20260201000000")
		writePkg(t, filepath.Join(source, "alpha-1.1.0"), newer, nil)
		nextPoll()
		rm := fx.ring.lastOf(rumor.KindUpdate, "alpha.default")
		if rm == nil || rm.Update.Package != newer.String() || rm.Update.Incarnation != 1 || rm.Update.FromID != "m1" {
			t.Fatalf("the update leader's target: %+v", rm)
		}
		s := fx.service("alpha")
		if s == nil || !s.Running || s.Pkg.Ident != newer.String() || fx.f.Count("run") != 2 {
			t.Fatalf("the leader did not move to its target: %+v, %d runs", s, fx.f.Count("run"))
		}
		if logs.count("rolling update: new target for the group") != 1 || logs.count("my_turn=true") != 1 {
			t.Errorf("log:\n%s", logs.String())
		}
	})
}

// A member that does not lead the update takes the group's target when
// the ring brings it and its turn has come: not while the member before
// it is down, never a target its spec does not accept, and it offers no
// target of its own.
func TestRollingFollowerTakesTheGroupsTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		fx, _ := updateFixture(t, &logs)
		old := alphaAt("1.0.0", "20260101000000")
		newer := alphaAt("1.0.0", "20260201000000")
		// A fuzzy ident that accepts both releases; the newer one is
		// installed once the service runs the older.
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: "test/alpha/1.0.0", Strategy: "rolling", Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		writePkg(t, pkg.InstallDir(fx.root, newer), newer, nil)
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		own := *fx.ring.lastOf(rumor.KindService, "alpha.default").Service
		members := []ring.Member{{ID: "m1", Health: "alive"}, {ID: "m2", Health: "alive"}}
		leads := rumor.Rumor{Kind: rumor.KindElectionUpdate, Election: &rumor.Election{
			MemberID: "m2", ServiceGroup: "alpha.default", Status: rumor.Finished, Votes: []string{"m1", "m2"},
		}}
		step := func(m2 rumor.Service, target *rumor.Update) {
			t.Helper()
			rumors := []rumor.Rumor{{Kind: rumor.KindService, Service: &own}, {Kind: rumor.KindService, Service: &m2}, leads}
			if target != nil {
				rumors = append(rumors, rumor.Rumor{Kind: rumor.KindUpdate, Update: target})
			}
			fx.ring.set(members, rumors)
			time.Sleep(100 * time.Millisecond) // the ring loop folds a change within 100 ms
			synctest.Wait()
		}
		stays := func(when string) {
			t.Helper()
			if s := fx.service("alpha"); s.Pkg.Ident != old.String() || fx.f.Count("run") != 1 {
				t.Fatalf("%s: moved: %+v, %d runs", when, s, fx.f.Count("run"))
			}
		}
		m2 := rumor.Service{MemberID: "m2", ServiceGroup: "alpha.default", Package: old.String(), Incarnation: 1, Up: true}

		// A poll finds the newer release installed; only the update leader
		// offers it to the group.
		step(m2, nil)
		nextPoll()
		stays("a poll, m2 leading the update")
		if rm := fx.ring.lastOf(rumor.KindUpdate, "alpha.default"); rm != nil {
			t.Fatalf("a member that does not lead the update offered a target: %+v", rm.Update)
		}

		// 2.0.0 is installed, and m2 runs it, but the spec asks for 1.0.0.
		outside := alphaAt("2.0.0", "20260401000000")
		writePkg(t, pkg.InstallDir(fx.root, outside), outside, nil)
		m2.Package, m2.Incarnation = outside.String(), 2
		step(m2, &rumor.Update{ServiceGroup: "alpha.default", Package: outside.String(), Incarnation: 1, FromID: "m2"})
		stays("a target outside the spec's ident")

		target := &rumor.Update{ServiceGroup: "alpha.default", Package: newer.String(), Incarnation: 2, FromID: "m2"}
		m2.Package, m2.Up, m2.Incarnation = newer.String(), false, 3
		step(m2, target)
		stays("the member before it is down")
		if logs.count("member m2 is not up") != 1 {
			t.Errorf("why it waits is not logged once:\n%s", logs.String())
		}

		m2.Up, m2.Incarnation = true, 4
		step(m2, target)
		if s := fx.service("alpha"); !s.Running || s.Pkg.Ident != newer.String() || fx.f.Count("run") != 2 || fx.f.Alive() != 1 {
			t.Fatalf("not moved to the target once its turn came: %+v, %d runs", s, fx.f.Count("run"))
		}
	})
}
