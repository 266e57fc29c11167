// Package e2e drives the real tend binary: real supervisors, real child
// processes, real sockets and files. Nothing here is faked.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// binDir holds the tend binary built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tend-e2e-bin")
	if err != nil {
		panic(err)
	}
	binDir = dir
	// Every server these tests talk to is theirs, on loopback or in a
	// namespace they made: a proxy from the environment (which Go's client
	// and curl would use for 10.x addresses) must not get in between.
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		os.Unsetenv(k)
	}
	// A binary built with -race sleeps a second before it exits, so that
	// other goroutines can report: every CLI call paid it. Races are still
	// reported (and fail the exit code) without the sleep.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for _, b := range [][2]string{{"tend", "../cmd/tend"}, {"webdemo", "../examples/cmd/webdemo"}} {
		out, err := exec.Command("go", "build", "-race", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b[0], err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func tendBin() string { return filepath.Join(binDir, "tend") }

// syncBuf is an io.Writer safe for the supervisor's output pumps.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sup is one running supervisor.
type sup struct {
	t      *testing.T
	root   string
	ctl    string
	http   string
	gossip string
	cmd    *exec.Cmd
	out    *syncBuf
	errOut *syncBuf
	done   chan struct{}
	args   []string
	prefix []string // run tend through this command, e.g. ip netns exec NS
	env    []string // added to the supervisor's environment (startSupEnv)
	host   string   // listen host of ctl, http and gossip; "" = 127.0.0.1
}

var listenRe = regexp.MustCompile(`tend supervisor starting.*`)

// startSup starts `tend sup run` on root with every listener on a free
// loopback port and waits until it is ready.
func startSup(t *testing.T, root string, extra ...string) *sup {
	t.Helper()
	s := &sup{t: t, root: root, args: extra}
	s.start()
	t.Cleanup(s.cleanup)
	s.waitReady()
	return s
}

// startSupEnv is startSup with env (KEY=VALUE) added to the supervisor's
// environment; unlike t.Setenv it leaves the test free to run in parallel.
func startSupEnv(t *testing.T, root string, env []string, extra ...string) *sup {
	t.Helper()
	s := &sup{t: t, root: root, args: extra, env: env}
	s.start()
	t.Cleanup(s.cleanup)
	s.waitReady()
	return s
}

// startSupVia is startSup with every listener on host (port 0) and tend run
// through prefix (e.g. ip netns exec NS), which must exec tend in place so
// signals reach it.
func startSupVia(t *testing.T, prefix []string, host, root string, extra ...string) *sup {
	t.Helper()
	s := &sup{t: t, root: root, args: extra, prefix: prefix, host: host}
	s.start()
	t.Cleanup(s.cleanup)
	s.waitReady()
	return s
}

func (s *sup) start() {
	s.t.Helper()
	host := s.host
	if host == "" {
		host = "127.0.0.1"
	}
	listen := net.JoinHostPort(host, "0")
	args := append([]string{"sup", "run", "--root", s.root,
		"--listen-ctl", listen, "--listen-http", listen, "--listen-gossip", listen,
		"--service-min-backoff-period", "0", "--service-max-backoff-period", "0"}, s.args...)
	if s.out == nil {
		// One buffer for every process of this supervisor, so a failed
		// test shows the output from before a restart too.
		s.out, s.errOut = &syncBuf{}, &syncBuf{}
	}
	argv := append(append(append([]string{}, s.prefix...), tendBin()), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = s.out
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Env = append(append(os.Environ(), s.env...), "PATH="+binDir+":"+os.Getenv("PATH"))
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	errOut := s.errOut
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			errOut.Write([]byte(line + "\n"))
			if !sent && listenRe.MatchString(line) {
				first <- line
				sent = true
			}
		}
		if !sent {
			close(first)
		}
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(done)
	}()
	select {
	case line, ok := <-first:
		if !ok {
			s.t.Fatalf("supervisor exited before starting:\n%s", s.errOut.String())
		}
		s.ctl = field(line, "ctl")
		s.http = field(line, "http")
		s.gossip = field(line, "gossip")
	case <-time.After(30 * time.Second):
		// No cleanup is registered yet: stop it here, or it outlives the
		// test with its services.
		cmd.Process.Kill()
		<-done
		s.t.Fatalf("supervisor did not log its listeners:\n%s", s.errOut.String())
	}
}

func field(line, key string) string {
	m := regexp.MustCompile(`\b` + key + `=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

func (s *sup) waitReady() {
	s.t.Helper()
	waitFor(s.t, 30*time.Second, "supervisor ready", func() bool {
		resp, err := http.Get("http://" + s.http + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func (s *sup) cleanup() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.t.Failed() {
		s.t.Logf("supervisor stderr:\n%s\nstdout:\n%s", s.errOut.String(), s.out.String())
	}
	removeCgroups(s.root)
}

// term stops the supervisor with SIGTERM and waits for it.
func (s *sup) term() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatal("supervisor did not stop within 60s")
	}
}

// kill SIGKILLs the supervisor, leaving its services behind.
func (s *sup) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// restart starts a new supervisor process on the same root.
func (s *sup) restart() {
	s.t.Helper()
	s.start()
	s.waitReady()
}

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// tend runs the CLI against this supervisor.
func (s *sup) tend(args ...string) result {
	s.t.Helper()
	full := args
	if needsRemote(args) {
		full = append(append([]string{}, args...), "--remote-sup", s.ctl)
	}
	return runTend(s.t, s.root, full...)
}

func needsRemote(args []string) bool {
	if len(args) < 2 {
		return false
	}
	switch args[0] + " " + args[1] {
	case "svc load", "svc unload", "svc start", "svc stop", "svc restart", "svc update", "svc signal", "svc status", "svc logs", "sup stats", "sup events", "health set":
		return true
	}
	return false
}

func runTend(t *testing.T, root string, args ...string) result {
	t.Helper()
	return runTendWith(t, append(os.Environ(), "TEND_ROOT="+root), args...)
}

// runTendWith runs the CLI with exactly env as its environment.
func runTendWith(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tendBin(), args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("tend %v: %v", args, err)
	}
	return result{stdout: o.String(), stderr: e.String(), code: code}
}

// mustTend runs the CLI and fails the test unless it exits 0.
func (s *sup) mustTend(args ...string) string {
	s.t.Helper()
	r := s.tend(args...)
	if r.code != 0 {
		s.t.Fatalf("tend %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// status is `svc status --json`, by service group.
func (s *sup) status() map[string]api.ServiceStatus {
	s.t.Helper()
	var rows []api.ServiceStatus
	if err := json.Unmarshal([]byte(s.mustTend("svc", "status", "--json")), &rows); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]api.ServiceStatus{}
	for _, r := range rows {
		out[r.ServiceGroup] = r
	}
	return out
}

func (s *sup) specPath(name string) string {
	return filepath.Join(s.root, "sup", "default", "specs", name+".spec")
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, timeout, what, func() (bool, string) { return cond(), "" })
}

// waitUntil polls cond until it holds or the deadline passes; cond also
// describes what it saw, for the failure message.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if seen == "" {
				t.Fatalf("timed out after %s waiting for %s", timeout, what)
			}
			t.Fatalf("timed out after %s waiting for %s; last seen:\n%s", timeout, what, seen)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

// pkgDir writes a package directory from a map of relative path -> content.
// Files under hooks/ and a top-level run are made executable.
func pkgDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(rel, "hooks/") || rel == "run" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sleeper is a package whose run hook sleeps, tagged so its processes can be
// found.
func sleeper(t *testing.T, name, tag string) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/" + name + "/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
}

// procsWith lists live pids whose command line contains s.
func procsWith(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		st, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(st, ')'); i > 0 && len(st) > i+2 && st[i+2] == 'Z' {
			continue // zombie
		}
		if strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// uniqueTag makes a sleep argument no other process has: sleep 1000.NNN.
func uniqueTag() string {
	return fmt.Sprintf(".%d%03d", time.Now().UnixNano()%1e9, os.Getpid()%1000)
}
