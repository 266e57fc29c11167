package e2e

// No operation waits on another service's hook, and every hook ends at its
// timeout.

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hungHook is a package whose hook NAME writes its pid to started and then
// never returns (it sleeps with tag in its command line).
func hungHook(t *testing.T, name, hookName, tag string) (pkg, started string) {
	started = filepath.Join(t.TempDir(), "started")
	pkg = pkgDir(t, map[string]string{
		"IDENT":             "test/" + name + "/1.0.0/20260101000000",
		"hooks/" + hookName: "#!/bin/sh\necho $$ > " + started + ".tmp && mv " + started + ".tmp " + started + "\nexec sleep 1000" + tag + "\n",
		"hooks/run":         "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	return pkg, started
}

// bgTend runs the CLI against s in the background; the result arrives on
// the channel once it exits.
func bgTend(t *testing.T, s *sup, args ...string) <-chan result {
	t.Helper()
	cmd := exec.Command(tendBin(), append(args, "--remote-sup", s.ctl)...)
	cmd.Env = append(os.Environ(), "TEND_ROOT="+s.root)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := make(chan result, 1)
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		out <- result{stdout: o.String(), stderr: e.String(), code: code}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	return out
}

// hookPID is the pid a hungHook wrote.
func hookPID(t *testing.T, started string) int {
	t.Helper()
	b, err := os.ReadFile(started)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", started, err)
	}
	return pid
}

// timed runs f and fails the test unless it returns within limit.
func timed(t *testing.T, what string, limit time.Duration, f func()) {
	t.Helper()
	begin := time.Now()
	f()
	if d := time.Since(begin); d > limit {
		t.Fatalf("%s took %s while another service's hook hung; want under %s", what, d, limit)
	}
}

// An init hook that never returns holds up neither the load of another
// service nor the stop of a third, and is killed at the service's hook
// timeout; svc load then fails with one line.
func TestHungInitBlocksNoOtherOperation(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "third", uniqueTag()))
	tag := uniqueTag()
	pkg, started := hungHook(t, "hung", "init", tag)

	begin := time.Now()
	load := bgTend(t, s, "svc", "load", pkg, "--hook-timeout", "6")
	waitFor(t, 20*time.Second, "init hook started", func() bool { return gwExists(started) })
	initPID := hookPID(t, started)

	timed(t, "svc load of another service", 4*time.Second, func() {
		s.mustTend("svc", "load", sleeper(t, "second", uniqueTag()))
	})
	timed(t, "svc stop of a third service", 4*time.Second, func() {
		s.mustTend("svc", "stop", "third")
	})
	select {
	case r := <-load:
		t.Fatalf("svc load of the hung service returned before its timeout: %+v", r)
	default:
	}

	var r result
	select {
	case r = <-load:
	case <-time.After(40 * time.Second):
		t.Fatal("svc load of a service whose init hangs did not return within 40s")
	}
	if d := time.Since(begin); d < 6*time.Second {
		t.Fatalf("init killed after %s, before its 6s timeout", d)
	}
	line := strings.TrimSpace(r.stderr)
	if r.code == 0 || strings.Contains(line, "\n") || !strings.Contains(line, "init hook timed out after 6s") {
		t.Fatalf("svc load: exit %d, stderr %q; want a non-zero exit and one line saying the init hook timed out after 6s", r.code, r.stderr)
	}
	waitFor(t, 10*time.Second, "the timed-out init hook gone", func() bool { return !alive(initPID) })
	// The supervisor's backoff is 0 here: init is tried again at once.
	st := s.status()
	if st["hung.default"].State != "down" || st["second.default"].State != "up" || st["third.default"].State != "down" {
		t.Fatalf("status after the timeout: %+v", st)
	}
}

// After a restart with a service whose init never returns, the supervisor
// is ready: /ready, /services and /healthy answer 200 while that init runs.
func TestReadyAfterRestartWithHungInit(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "fine", uniqueTag()))
	tag := uniqueTag()
	pkg, started := hungHook(t, "hung", "init", tag)
	bgTend(t, s, "svc", "load", pkg) // the default hook timeout, a minute, outlasts the test
	waitFor(t, 20*time.Second, "init hook started", func() bool { return gwExists(started) })
	waitFor(t, 20*time.Second, "hung's spec written", func() bool { return gwExists(s.specPath("hung")) })

	s.term()
	if err := os.Remove(started); err != nil {
		t.Fatal(err)
	}
	s.restart() // waits for /ready 200
	waitFor(t, 20*time.Second, "init hook started again", func() bool { return gwExists(started) })
	for _, p := range []string{"/ready", "/services", "/healthy"} {
		resp, err := http.Get("http://" + s.http + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// /healthy may count hung as a service down; it must not say the
		// supervisor is still starting.
		if resp.StatusCode != 200 && (p != "/healthy" || strings.Contains(string(body), "not ready")) {
			t.Errorf("GET %s while an init hook hangs: %d %q, want 200", p, resp.StatusCode, body)
		}
	}
	if st := s.status(); st["fine.default"].State != "up" || st["hung.default"].State != "down" {
		t.Fatalf("status while hung's init runs: %+v", st)
	}
	timed(t, "svc unload of the hung service", 10*time.Second, func() { s.mustTend("svc", "unload", "hung") })
	waitFor(t, 10*time.Second, "the cancelled init hook gone", func() bool { return len(procsWith("sleep 1000"+tag)) == 0 })
}

// A post-stop hook that never returns holds up no other service's
// operation, and is killed at the hook timeout.
func TestHungPostStopBlocksNoOtherOperation(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "other", uniqueTag()))
	tag := uniqueTag()
	pkg, started := hungHook(t, "hung", "post-stop", tag)
	s.mustTend("svc", "load", pkg, "--hook-timeout", "6")

	begin := time.Now()
	stop := bgTend(t, s, "svc", "stop", "hung")
	waitFor(t, 20*time.Second, "post-stop hook started", func() bool { return gwExists(started) })
	postPID := hookPID(t, started)
	timed(t, "svc stop of another service", 4*time.Second, func() { s.mustTend("svc", "stop", "other") })
	timed(t, "svc load of another service", 4*time.Second, func() {
		s.mustTend("svc", "load", sleeper(t, "another", uniqueTag()))
	})
	timed(t, "svc start of another service", 4*time.Second, func() { s.mustTend("svc", "start", "other") })

	select {
	case r := <-stop:
		if r.code != 0 {
			t.Fatalf("svc stop of the hung service: %+v", r)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("svc stop of a service whose post-stop hangs did not return within 40s")
	}
	if d := time.Since(begin); d < 6*time.Second {
		t.Fatalf("post-stop killed after %s, before its 6s timeout", d)
	}
	waitFor(t, 10*time.Second, "the timed-out post-stop hook gone", func() bool { return !alive(postPID) })
	if n := len(procsWith("sleep 1000" + tag)); n != 0 {
		t.Fatalf("%d post-stop hooks still run", n)
	}
	if st := s.status(); st["hung.default"].State != "down" || st["other.default"].State != "up" || st["another.default"].State != "up" {
		t.Fatalf("status after the stop: %+v", st)
	}
}
