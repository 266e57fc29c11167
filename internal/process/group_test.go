package process

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/tend-sh/tend/internal/cgroup"
)

// serviceGroup is a cgroup of its own for the test's service, skipped
// where the host has no writable cgroup2 hierarchy.
func serviceGroup(t *testing.T) *cgroup.Group {
	t.Helper()
	state := t.TempDir()
	tr, err := cgroup.Open(cgroup.Options{Mode: cgroup.Auto, MemberID: "proctest" + strconv.Itoa(os.Getpid()), StateDir: state, SvcDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Cgroups() {
		t.Skipf("no writable cgroup2 here: %s", tr.Mechanism())
	}
	g, err := tr.Group("svc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.Kill(context.Background())
		g.Remove()
		tr.Close()
	})
	return g
}

// A run process is born in its service's cgroup, from the supervisor's
// thread and from the spawner's alike, and stopping it stops what left its
// process group (setsid) too: Stop returns once the cgroup is empty.
func TestLeaderStopEndsItsWholeCgroup(t *testing.T) {
	for _, spawner := range []bool{false, true} {
		t.Run("spawner="+strconv.FormatBool(spawner), func(t *testing.T) {
			r := startReaper(t)
			if spawner {
				r.spawnFrom = 0
			}
			g := serviceGroup(t)
			s := sh("setsid sleep 1000 & exec sleep 1000")
			s.Group, s.Leader = g, true
			p := start(t, r, s)
			waitFor(t, "both in the cgroup", func() bool { pids, _ := g.Members(); return len(pids) == 2 })
			if spawner && r.spawner == nil {
				t.Fatalf("no spawner: %v", r.spawnErr)
			}
			e := p.Stop(context.Background(), syscall.SIGTERM, testTimeout)
			if e.Signal != syscall.SIGTERM {
				t.Errorf("exit %v", e)
			}
			if pids, _ := g.Members(); len(pids) != 0 {
				t.Fatalf("left after Stop: %v", pids)
			}
			// The cgroup stays usable: a service restarts in it.
			p = start(t, r, s)
			waitFor(t, "restarted in the cgroup", func() bool { pids, _ := g.Members(); return len(pids) == 2 })
			p.Stop(context.Background(), syscall.SIGKILL, 0)
			if pids, _ := g.Members(); len(pids) != 0 {
				t.Fatalf("left after SIGKILL Stop: %v", pids)
			}
		})
	}
}

// A hook is born in its service's cgroup but is not its leader: stopping
// it leaves the service's other processes alone.
func TestHookStopLeavesTheService(t *testing.T) {
	r := startReaper(t)
	g := serviceGroup(t)
	run := sh("exec sleep 1000")
	run.Group, run.Leader = g, true
	rp := start(t, r, run)
	hook := sh("exec sleep 1000")
	hook.Group = g
	hp := start(t, r, hook)
	waitFor(t, "both in the cgroup", func() bool { pids, _ := g.Members(); return len(pids) == 2 })
	hp.Stop(context.Background(), syscall.SIGTERM, testTimeout)
	if pids, _ := g.Members(); len(pids) != 1 || pids[0] != rp.PID() {
		t.Fatalf("after the hook's Stop: %v; want only the run process %d", pids, rp.PID())
	}
	rp.Stop(context.Background(), syscall.SIGTERM, testTimeout)
}
