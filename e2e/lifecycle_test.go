package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestLoadStopStartUnload(t *testing.T) {
	s := startSup(t, t.TempDir())
	tag := uniqueTag()
	dir := sleeper(t, "napper", tag)

	out := s.mustTend("svc", "load", dir)
	if !strings.Contains(out, "napper.default is up (pid") {
		t.Fatalf("load output lacks the running line:\n%s", out)
	}
	st := s.status()["napper.default"]
	if st.State != "up" || st.DesiredState != "up" || st.PID == 0 {
		t.Fatalf("after load: %+v", st)
	}
	if pids := procsWith("sleep 1000" + tag); len(pids) != 1 || pids[0] != st.PID {
		t.Fatalf("processes %v; want exactly the service's pid %d", pids, st.PID)
	}

	s.mustTend("svc", "stop", "test/napper")
	if pids := procsWith("sleep 1000" + tag); len(pids) != 0 {
		t.Fatalf("stopped service still runs: %v", pids)
	}
	spec, _ := os.ReadFile(s.specPath("napper"))
	if !strings.Contains(string(spec), `desired_state = "down"`) {
		t.Fatalf("spec after stop:\n%s", spec)
	}
	if st := s.status()["napper.default"]; st.State != "down" || st.DesiredState != "down" {
		t.Fatalf("after stop: %+v", st)
	}

	s.mustTend("svc", "start", "napper")
	st2 := s.status()["napper.default"]
	if st2.State != "up" || st2.PID == st.PID {
		t.Fatalf("after start: %+v (old pid %d)", st2, st.PID)
	}

	s.mustTend("svc", "unload", "napper")
	if _, err := os.Stat(s.specPath("napper")); !os.IsNotExist(err) {
		t.Fatalf("spec still on disk after unload: %v", err)
	}
	if pids := procsWith("sleep 1000" + tag); len(pids) != 0 {
		t.Fatalf("unloaded service still runs: %v", pids)
	}
	if _, ok := s.status()["napper.default"]; ok {
		t.Fatal("unloaded service still listed")
	}
}

func TestStopKeepsOptionsAndRestartKeepsDesiredState(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	tagA, tagB := uniqueTag()+"1", uniqueTag()+"2"
	s.mustTend("svc", "load", sleeper(t, "alpha", tagA), "--group", "blue", "--health-check-interval", "7", "--shutdown-timeout", "3")
	s.mustTend("svc", "load", sleeper(t, "beta", tagB))
	s.mustTend("svc", "stop", "beta")
	before, _ := os.ReadFile(s.specPath("alpha"))

	s.term()
	if n := len(procsWith("sleep 1000" + tagA)); n != 0 {
		t.Fatalf("supervisor stopped but alpha still runs (%d)", n)
	}
	s.restart()
	st := s.status()
	if st["alpha.blue"].State != "up" || st["beta.default"].State != "down" || st["beta.default"].DesiredState != "down" {
		t.Fatalf("after restart: %+v", st)
	}
	if n := len(procsWith("sleep 1000" + tagA)); n != 1 {
		t.Fatalf("alpha runs %d times after restart", n)
	}
	if n := len(procsWith("sleep 1000" + tagB)); n != 0 {
		t.Fatalf("stopped beta runs after restart")
	}
	after, _ := os.ReadFile(s.specPath("alpha"))
	if string(before) != string(after) {
		t.Fatalf("alpha's spec changed across restart:\n%s\n---\n%s", before, after)
	}
	for _, want := range []string{`group = "blue"`, "shutdown_timeout = 3", "secs = 7"} {
		if !strings.Contains(string(after), want) {
			t.Fatalf("spec lacks %q:\n%s", want, after)
		}
	}
	s.mustTend("svc", "unload", "alpha")
	s.term()
	s.restart()
	if st := s.status(); len(st) != 1 || st["beta.default"].DesiredState != "down" {
		t.Fatalf("after unload and restart: %+v", st)
	}
}

func TestGrandchildrenDoNotOutliveStopOrCrash(t *testing.T) {
	s := startSup(t, t.TempDir())
	tag := uniqueTag()
	dir := pkgDir(t, map[string]string{
		"IDENT": "test/forker/1.0.0/20260101000000",
		// A child, a double-forked grandchild, and a shell that ignores TERM.
		"hooks/run":        "#!/bin/sh\ntrap '' TERM\nsleep 1000" + tag + " &\n( sleep 1001" + tag + " & )\nsleep 1002" + tag + "\n",
		"SHUTDOWN_TIMEOUT": "1\n",
	})
	s.mustTend("svc", "load", dir)
	waitFor(t, 10*time.Second, "three sleepers", func() bool {
		return len(procsWith("sleep 100")) >= 3 && len(procsWith(tag)) == 3
	})
	s.mustTend("svc", "stop", "forker")
	if pids := procsWith(tag); len(pids) != 0 {
		t.Fatalf("processes outlived stop: %v", pids)
	}

	// Crash: the leader exits on its own; what it left in its group dies too
	// before the restart, so there are never two copies.
	s.mustTend("svc", "start", "forker")
	waitFor(t, 10*time.Second, "three sleepers again", func() bool { return len(procsWith(tag)) == 3 })
	leader := s.status()["forker.default"].PID
	if err := killPID(leader); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "restart after crash", func() bool {
		st := s.status()["forker.default"]
		return st.PID != 0 && st.PID != leader && st.Restarts >= 1
	})
	waitFor(t, 10*time.Second, "exactly one copy", func() bool { return len(procsWith(tag)) == 3 })
	if n := len(procsWith("sleep 1002" + tag)); n != 1 {
		t.Fatalf("%d copies of the service after a crash", n)
	}
}
