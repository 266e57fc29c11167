package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svc load takes a bare name for an installed package, as svc stop and
// svc start do.
func TestSvcLoadBareName(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := startSup(t, root)
	dir := pkgDir(t, map[string]string{
		"IDENT":     "test/barename/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	if r := runTend(t, root, "pkg", "install", dir); r.code != 0 {
		t.Fatalf("pkg install: %d %s", r.code, r.stderr)
	}
	if r := s.tend("svc", "load", "barename"); r.code != 0 {
		t.Fatalf("svc load barename: exit %d: %s", r.code, r.stderr)
	}
	if st := s.status()["barename.default"]; st.State != "up" || st.Ident != "test/barename/1.0.0/20260101000000" {
		t.Errorf("after svc load barename: %+v", st)
	}
	if r := s.tend("svc", "load", "nosuchpkg"); r.code != 1 || r.stderr == "" {
		t.Errorf("svc load of a name nothing has: exit %d %q", r.code, r.stderr)
	}
}

// tend version works as tend --version does; a missing argument shows the
// usage line.
func TestVersionAndUsageLine(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	v, flag := runTend(t, root, "version"), runTend(t, root, "--version")
	if v.code != 0 || !strings.HasPrefix(v.stdout, "tend version ") || v.stdout != flag.stdout {
		t.Errorf("tend version: exit %d %q; tend --version %q", v.code, v.stdout, flag.stdout)
	}
	for _, args := range [][]string{{"svc", "stop"}, {"svc", "start"}, {"svc", "unload"}, {"svc", "load"}} {
		r := runTend(t, root, args...)
		want := "usage: tend " + strings.Join(args, " ") + " PKG"
		if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("tend %v: exit %d %q; want exit 2 and one line with %q", args, r.code, r.stderr, want)
		}
	}
}

// svc status shows each service's health and restarts.
func TestSvcStatusShowsHealthAndRestarts(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "cols", uniqueTag()))
	out := s.mustTend("svc", "status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("svc status:\n%s", out)
	}
	head, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	if head[len(head)-2] != "health" || head[len(head)-1] != "restarts" {
		t.Errorf("header %q: want health and restarts last", lines[0])
	}
	if row[len(row)-2] != "OK" || row[len(row)-1] != "0" {
		t.Errorf("row %q: want health OK and 0 restarts", lines[1])
	}
}

// svc restart gives the service a new process; svc signal reaches the run
// process (and only it: the pid stays).
func TestSvcRestartAndSignal(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	got := filepath.Join(t.TempDir(), "got")
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT": "test/sig/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\n# " + uniqueTag() + "\ntrap 'echo usr1 >> " + got + "' USR1\n" +
			"while :; do sleep 1000 & wait $!; done\n",
	}))
	before := s.status()["sig.default"].PID
	out := s.mustTend("svc", "signal", "sig", "USR1")
	if !strings.Contains(out, "SIGUSR1 sent to sig.default (pid "+strconv.Itoa(before)+")") {
		t.Errorf("svc signal said %q", out)
	}
	waitFor(t, 10*time.Second, "the run hook's USR1 trap", func() bool { return readFile(got) == "usr1\n" })
	if st := s.status()["sig.default"]; st.PID != before || st.State != "up" {
		t.Errorf("after USR1: %+v; want the same pid %d, up", st, before)
	}
	if r := s.tend("svc", "signal", "sig", "NOPE"); r.code != 1 || !strings.Contains(r.stderr, "no such signal") {
		t.Errorf("svc signal NOPE: exit %d %q", r.code, r.stderr)
	}

	out = s.mustTend("svc", "restart", "sig")
	st := s.status()["sig.default"]
	if st.State != "up" || st.PID == before || st.PID == 0 || !strings.Contains(out, "is up (pid "+strconv.Itoa(st.PID)+")") {
		t.Errorf("after svc restart: %+v, said %q; want up with a new pid", st, out)
	}
	s.mustTend("svc", "stop", "sig")
	if r := s.tend("svc", "restart", "sig"); r.code != 1 || !strings.Contains(r.stderr, "svc start") {
		t.Errorf("svc restart of a stopped service: exit %d %q", r.code, r.stderr)
	}
	if r := s.tend("svc", "signal", "sig", "HUP"); r.code != 1 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("svc signal of a stopped service: exit %d %q", r.code, r.stderr)
	}
}
