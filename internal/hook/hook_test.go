package hook

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tend-sh/tend/internal/process"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startReaper runs the one Reaper of the test; tests here do not run in
// parallel, since a process has one reaper.
func startReaper(t *testing.T) Starter {
	t.Helper()
	r := process.NewReaper(nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return Reaper(r)
}

// hookSpec writes a rendered hook as the supervisor would: executable, with
// a shebang.
func hookSpec(t *testing.T, name, body string) Spec {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Spec{Name: name, Path: path, Env: []string{"PATH=/usr/bin:/bin"}, Dir: dir, LogDir: dir}
}

func TestHealth(t *testing.T) {
	r := startReaper(t)
	notExec := hookSpec(t, "health-check", "exit 0")
	if err := os.Chmod(notExec.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec Spec
		want HealthStatus
	}{
		{"exit 0", hookSpec(t, "health-check", "exit 0"), OK},
		{"exit 1", hookSpec(t, "health-check", "exit 1"), Warning},
		{"exit 2", hookSpec(t, "health-check", "exit 2"), Critical},
		{"exit 3", hookSpec(t, "health-check", "exit 3"), Unknown},
		{"exit 4", hookSpec(t, "health-check", "exit 4"), Unknown},
		{"exit 255", hookSpec(t, "health-check", "exit 255"), Unknown},
		{"signal", hookSpec(t, "health-check", "kill -KILL $$"), Unknown},
		{"timeout", func() Spec {
			s := hookSpec(t, "health-check", "exec sleep 100")
			s.Timeout = 50 * time.Millisecond
			return s
		}(), Unknown},
		{"missing", Spec{Name: "health-check", Path: "/nonexistent/health-check"}, Unknown},
		{"not executable", notExec, Unknown},
	}
	for _, tt := range tests {
		res := Run(context.Background(), r, tt.spec)
		if got := Health(res); got != tt.want {
			t.Errorf("%s: Health = %v (%v), want %v", tt.name, got, res, tt.want)
		}
	}
	// Codes beyond 0..2 on their own, with no run.
	for code, want := range map[int]HealthStatus{0: OK, 1: Warning, 2: Critical, 3: Unknown, -1: Unknown, 127: Unknown} {
		if got := Health(Result{Exit: process.Exit{Code: code}}); got != want {
			t.Errorf("code %d: %v, want %v", code, got, want)
		}
	}
	for h, s := range map[HealthStatus]string{OK: "OK", Warning: "WARNING", Critical: "CRITICAL", Unknown: "UNKNOWN", 9: "UNKNOWN"} {
		if h.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(h), h.String(), s)
		}
	}
}

func TestStartFailure(t *testing.T) {
	r := startReaper(t)
	res := Run(context.Background(), r, Spec{Name: "init", Path: "/nonexistent/init"})
	if res.Err == nil || res.OK() || res.Exit.Code == 0 {
		t.Errorf("missing hook: %+v", res)
	}
	if !strings.HasPrefix(res.String(), "failed to start: ") {
		t.Errorf("String() = %q", res.String())
	}
	for _, name := range []string{"", "../init"} {
		s := hookSpec(t, "init", "exit 0")
		s.Name = name
		if res := Run(context.Background(), r, s); res.Err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	s := hookSpec(t, "init", "exit 0")
	s.LogDir = "/nonexistent"
	if res := Run(context.Background(), r, s); res.Err == nil {
		t.Error("missing log dir accepted")
	}
}

func TestRunPassesEnvAndDir(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "init", `echo "$FOO $(pwd)"`)
	s.Env = append(s.Env, "FOO=bar")
	res := Run(context.Background(), r, s)
	if !res.OK() || res.Output != "bar "+s.Dir {
		t.Errorf("result %v, output %q", res, res.Output)
	}
	if res.Duration <= 0 {
		t.Errorf("duration %v", res.Duration)
	}
}

func TestTimeoutTerminates(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "health-check", `sleep 1000 & echo $!; wait`)
	s.Timeout = 200 * time.Millisecond
	res := Run(context.Background(), r, s)
	if !res.TimedOut || res.Exit.Signal != syscall.SIGTERM {
		t.Errorf("result %v, want timed out by SIGTERM", res)
	}
	if res.Duration < s.Timeout {
		t.Errorf("duration %v", res.Duration)
	}
	grandchild, err := strconv.Atoi(res.Output)
	if err != nil {
		t.Fatalf("output %q", res.Output)
	}
	waitGone(t, grandchild)
}

func TestTimeoutKillsWhenTermIgnored(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "health-check", `trap '' TERM; sleep 1000`)
	s.Timeout = 100 * time.Millisecond
	res := Run(context.Background(), r, s)
	if !res.TimedOut || res.Exit.Signal != syscall.SIGKILL {
		t.Errorf("result %v, want timed out by SIGKILL", res)
	}
	if res.Duration < s.Timeout+killGrace {
		t.Errorf("killed after %v, before TERM's grace ran out", res.Duration)
	}
	if !strings.HasPrefix(res.String(), "timed out after ") {
		t.Errorf("String() = %q", res.String())
	}
}

func TestContextCancelKills(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "post-run", `echo started; exec sleep 1000`)
	started := make(chan struct{})
	var once sync.Once
	s.Log = func(byte, []byte) { once.Do(func() { close(started) }) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() { done <- Run(ctx, r, s) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("hook did not start")
	}
	cancel()
	select {
	case res := <-done:
		if res.TimedOut || res.Exit.Signal != syscall.SIGTERM {
			t.Errorf("result %v, want killed by SIGTERM", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestLogFilesHoldLatestRun(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "init", `i=0; while [ $i -lt 100 ]; do echo "first run line $i"; echo "first err $i" >&2; i=$((i+1)); done`)
	if res := Run(context.Background(), r, s); !res.OK() {
		t.Fatal(res)
	}
	if b, _ := os.ReadFile(filepath.Join(s.LogDir, "init.stdout.log")); !strings.HasSuffix(string(b), "first run line 99\n") {
		t.Fatalf("first stdout log ends %q", b[max(0, len(b)-40):])
	}
	if err := os.WriteFile(s.Path, []byte("#!/bin/sh\necho two; printf partial >&2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res := Run(context.Background(), r, s); !res.OK() {
		t.Fatal(res)
	}
	for file, want := range map[string]string{"init.stdout.log": "two\n", "init.stderr.log": "partial\n"} {
		if b, _ := os.ReadFile(filepath.Join(s.LogDir, file)); string(b) != want {
			t.Errorf("%s = %q, want %q", file, b, want)
		}
	}
}

func TestOutputExcerptAndLog(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "health-check", `i=0; while [ $i -lt 200 ]; do echo "out line $i"; i=$((i+1)); done; echo "é last error" >&2; exit 1`)
	var mu sync.Mutex
	counts := map[byte]int{}
	var lastErr string
	s.Log = func(stream byte, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		counts[stream]++
		if stream == 'E' {
			lastErr = string(line)
		}
	}
	res := Run(context.Background(), r, s)
	if Health(res) != Warning {
		t.Errorf("health %v", Health(res))
	}
	if len(res.Output) > excerptSize || len(res.Output) < excerptSize-20 {
		t.Errorf("excerpt of %d bytes", len(res.Output))
	}
	// The two pipes are read apart, so the stderr line may come before the
	// last stdout lines.
	if !strings.HasSuffix(res.Output, "out line 199") && !strings.HasSuffix(res.Output, "out line 199\né last error") {
		t.Errorf("excerpt ends %q", res.Output[max(0, len(res.Output)-60):])
	}
	if counts['O'] != 200 || counts['E'] != 1 || lastErr != "é last error" {
		t.Errorf("log got %v lines, last stderr %q", counts, lastErr)
	}
}

// waitGone waits until pid has been killed and reaped (a zombie stays in
// /proc). Re-parented grandchildren give no event to wait on.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still in /proc", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestExcerptCutsAtCharacter(t *testing.T) {
	o := &output{}
	o.stdout([]byte(strings.Repeat("é", excerptSize)))
	got := o.excerpt()
	if len(got) > excerptSize || len(got) < excerptSize-1 || strings.Trim(got, "é") != "" {
		t.Errorf("excerpt of %d bytes: %.10q...", len(got), got)
	}
	o.stderr([]byte("short"))
	if got := o.excerpt(); !strings.HasSuffix(got, "é\nshort") || len(got) > excerptSize {
		t.Errorf("excerpt ends %q", got[len(got)-10:])
	}
}
