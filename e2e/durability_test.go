package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/store"
)

// A supervisor killed with SIGKILL leaves its services running; the next one
// adopts them (same pid) instead of starting its own, so nothing runs twice
// and nothing is restarted just because the supervisor was.
func TestSIGKILLedSupervisorNeverRunsTwoCopies(t *testing.T) {
	s := startSup(t, t.TempDir())
	tag := uniqueTag()
	s.mustTend("svc", "load", sleeper(t, "solo", tag))
	old := s.status()["solo.default"].PID
	s.kill()
	if pids := procsWith("sleep 1000" + tag); len(pids) != 1 {
		t.Fatalf("after SIGKILL of the supervisor: %v; want the orphaned service", pids)
	}
	s.restart()
	waitFor(t, 15*time.Second, "the service adopted", func() bool {
		st := s.status()["solo.default"]
		return st.State == "up" && st.PID == old
	})
	if pids := procsWith("sleep 1000" + tag); len(pids) != 1 || pids[0] != old {
		t.Fatalf("after restart: %v, want only the adopted %d", pids, old)
	}
}

// SIGKILL the supervisor while loads are in flight: every spec on disk is
// whole, every load that returned success is kept, and after a restart each
// loaded service runs exactly once.
func TestSIGKILLDuringLoadsLosesNothing(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	const n = 12
	tag := uniqueTag()
	dirs := make([]string, n)
	for i := range n {
		dirs[i] = sleeper(t, fmt.Sprintf("k%02d", i), fmt.Sprintf("%s%02d", tag, i))
	}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := runTend(t, root, "svc", "load", dirs[i], "--remote-sup", s.ctl)
			if r.code == 0 {
				mu.Lock()
				acked = append(acked, fmt.Sprintf("k%02d", i))
				mu.Unlock()
			}
		})
	}
	waitFor(t, 30*time.Second, "some loads to be acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= n/3
	})
	s.kill()
	wg.Wait()

	specs, _ := filepath.Glob(filepath.Join(root, "sup", "default", "specs", "*"))
	for _, p := range specs {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue // a temporary file; the next supervisor removes it
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := spec.Parse(p, b); err != nil {
			t.Fatalf("torn spec %s: %v\n%s", p, err, b)
		}
	}
	s.restart()
	st := s.status()
	for _, name := range acked {
		if st[name+".default"].State != "up" {
			t.Errorf("acknowledged load %s lost: %+v", name, st[name+".default"])
		}
	}
	for i := range n {
		tagI := fmt.Sprintf("sleep 1000%s%02d", tag, i)
		name := fmt.Sprintf("k%02d.default", i)
		want := 0
		if st[name].State == "up" {
			want = 1
		}
		waitFor(t, 15*time.Second, name+" copies", func() bool { return len(procsWith(tagI)) == want })
	}
}

func TestSecondSupervisorOnSameRootIsRefused(t *testing.T) {
	root := t.TempDir()
	startSup(t, root)
	r := runTend(t, root, "sup", "run", "--root", root, "--listen-ctl", "127.0.0.1:0", "--listen-http", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "LOCK") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("second supervisor: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestStateFilesCreatedOnFirstStart(t *testing.T) {
	root := t.TempDir()
	startSup(t, root)
	dir := filepath.Join(root, "sup", "default")
	st, err := os.Stat(filepath.Join(dir, "CTL_SECRET"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("CTL_SECRET: %v %v", st, err)
	}
	id, err := os.ReadFile(filepath.Join(dir, "MEMBER_ID"))
	if err != nil || len(strings.TrimSpace(string(id))) != 32 {
		t.Fatalf("MEMBER_ID %q %v", id, err)
	}
}

// A supervisor SIGKILLed during its start-up, with a service just forked
// and another's init running, still has that service found by the next
// one (its cgroup, or its PID file, written right after the fork with the
// process's start time), adopted or stopped and started again: nothing
// runs twice, and the PID file names the copy that runs.
func TestSIGKILLDuringStartupNeverRunsTwoCopies(t *testing.T) {
	for _, mode := range []string{"auto", "off"} {
		t.Run("cgroups="+mode, func(t *testing.T) {
			root := t.TempDir()
			tag := uniqueTag()
			early := "sleep 1000" + tag + "1"
			// held's init waits for gate: it still runs when the supervisor
			// is killed with early running.
			gate := filepath.Join(t.TempDir(), "gate")
			t.Cleanup(func() { os.WriteFile(gate, nil, 0o644) }) // lets a left init hook end
			held := pkgDir(t, map[string]string{
				"IDENT":      "test/held/1.0.0/20260101000000",
				"hooks/init": "#!/bin/sh\nwhile [ ! -e " + gate + " ]; do sleep 0.05; done\n",
				"hooks/run":  "#!/bin/sh\nexec sleep 1000" + tag + "2\n",
			})
			cfg := filepath.Join(t.TempDir(), "tend.yaml")
			os.WriteFile(cfg, []byte("services:\n  - pkg: "+sleeper(t, "early", tag+"1")+"\n  - pkg: "+held+"\n"), 0o644)
			s := &sup{t: t, root: root, args: []string{"--config", cfg, "--cgroups", mode}}
			s.start()
			t.Cleanup(s.cleanup)
			t.Cleanup(func() { // a copy the second supervisor failed to stop
				for _, pid := range procsWith(early) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})

			var old int
			waitFor(t, 15*time.Second, "early running", func() bool {
				pids := procsWith(early)
				if len(pids) != 1 {
					return false
				}
				old = pids[0]
				return true
			})
			s.kill()
			os.WriteFile(gate, nil, 0o644)
			s.restart()

			// Adopted when the PID file was written before the kill, else
			// stopped and started again: one copy either way.
			pids := procsWith(early)
			if len(pids) != 1 {
				t.Fatalf("after restart: early runs as %v (old pid %d); want one copy", pids, old)
			}
			if got, _ := store.ReadPID(filepath.Join(root, "svc", "early", "PID")); got != pids[0] {
				t.Fatalf("svc/early/PID = %d, want %d", got, pids[0])
			}
		})
	}
}
