package e2e

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// tendEnv runs the CLI with env as the whole of its TEND_* and
// XDG_RUNTIME_DIR settings: no TEND_ROOT unless given.
func tendEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	var all []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEND_") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(kv, "HOME=") {
			all = append(all, kv)
		}
	}
	return runTendWith(t, append(all, env...), args...)
}

// With no --root and no TEND_ROOT, the CLI finds the root of the
// supervisor at --remote-sup (as `make run`'s is found), and a supervisor
// that cannot bind a port says which supervisor holds it.
func TestCLIFindsTheRunningSupervisorsRoot(t *testing.T) {
	t.Parallel()
	run, home := t.TempDir(), t.TempDir()
	env := []string{"XDG_RUNTIME_DIR=" + run, "HOME=" + home}
	root := t.TempDir()
	s := gwLaunch(t, root, env)
	gwHTTP(t, s).waitReady()
	s.mustTend("svc", "load", sleeper(t, "found", uniqueTag()))

	r := tendEnv(t, env, "svc", "status", "--remote-sup", s.ctl)
	if r.code != 0 || !strings.Contains(r.stdout, "found.default") {
		t.Fatalf("svc status with no root given: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// Without the registry (another user's runtime directory) it cannot.
	if r := tendEnv(t, []string{"XDG_RUNTIME_DIR=" + t.TempDir(), "HOME=" + home, "TEND_ROOT=" + t.TempDir()}, "svc", "status", "--remote-sup", s.ctl); r.code == 0 {
		t.Fatalf("svc status found a root with an empty registry: %s", r.stdout)
	}

	// A second supervisor asking for the first one's HTTP port.
	second := []string{"sup", "run", "--root", t.TempDir(), "--listen-ctl", "127.0.0.1:0",
		"--listen-gossip", "127.0.0.1:0", "--listen-http", s.http}
	r = tendEnv(t, env, second...)
	want := s.http + " is in use by tend pid " + strconv.Itoa(s.cmd.Process.Pid) + " (its http listener), root " + root
	if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("sup run on a port tend holds: exit %d %q; want one line with %q", r.code, r.stderr, want)
	}
	// A port some other process holds.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	second[len(second)-1] = ln.Addr().String()
	r = tendEnv(t, env, second...)
	if want := ln.Addr().String() + " is in use by another process"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("sup run on a port another process holds: exit %d %q; want %q", r.code, r.stderr, want)
	}
}
