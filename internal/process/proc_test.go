package process

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitCodesAndSignals(t *testing.T) {
	r := startReaper(t)
	tests := []struct {
		script string
		want   Exit
		str    string
	}{
		{"exit 0", Exit{Code: 0}, "exited with code 0"},
		{"exit 1", Exit{Code: 1}, "exited with code 1"},
		{"exit 42", Exit{Code: 42}, "exited with code 42"},
		{"kill -KILL $$", Exit{Code: -1, Signal: syscall.SIGKILL}, "killed by signal SIGKILL"},
		{"kill -USR2 $$", Exit{Code: -1, Signal: syscall.SIGUSR2}, "killed by signal SIGUSR2"},
	}
	for _, tt := range tests {
		before := time.Now()
		got := waitDone(t, start(t, r, sh(tt.script)))
		if got.Code != tt.want.Code || got.Signal != tt.want.Signal || got.String() != tt.str {
			t.Errorf("%q: got %+v (%s), want %+v (%s)", tt.script, got, got, tt.want, tt.str)
		}
		if got.At.Before(before) || got.At.After(time.Now()) {
			t.Errorf("%q: At %v not within the run", tt.script, got.At)
		}
	}
}

func TestStartErrors(t *testing.T) {
	r := startReaper(t)
	if _, err := r.Start(Spec{Path: "/nonexistent/prog"}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("missing program: err %v, want ENOENT", err)
	}
	if _, err := r.Start(Spec{}); err == nil {
		t.Error("empty path: no error")
	}
	if _, err := r.Start(Spec{Path: "/bin/true", Dir: "/nonexistent"}); err == nil {
		t.Error("missing dir: no error")
	}
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies after failed starts: %v", z)
	}
}

// An exit that happens before Start has registered the pid must still reach
// its Proc.
func TestImmediateExitAlwaysDispatched(t *testing.T) {
	r := startReaper(t)
	for i := range 200 {
		p := start(t, r, Spec{Path: "/bin/true"})
		if e := waitDone(t, p); e.Code != 0 || e.Signal != 0 {
			t.Fatalf("run %d: %v", i, e)
		}
	}
	// Half of them with output pumps, which also have to finish.
	for i := range 100 {
		out := newLines()
		p := start(t, r, Spec{Path: "/bin/echo", Args: []string{"hi"}, Stdout: out.add})
		waitDone(t, p)
		if got := out.all(); !slices.Equal(got, []string{"hi"}) {
			t.Fatalf("run %d: output %q", i, got)
		}
	}
}

func TestStartBeforeRun(t *testing.T) {
	r := NewReaper(nil)
	p, err := r.Start(Spec{Path: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	if e := waitDone(t, p); e.Code != 0 {
		t.Errorf("exit %v", e)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(Spec{Path: "/bin/true"}); !errors.Is(err, ErrReaperStopped) {
		t.Errorf("Start after Run: err %v, want ErrReaperStopped", err)
	}
	if err := r.Run(context.Background()); err == nil {
		t.Error("second Run: no error")
	}
}

func TestEnvDirArgs(t *testing.T) {
	r := startReaper(t)
	dir := t.TempDir()
	out := newLines()
	s := Spec{Path: "/bin/sh", Args: []string{"-c", `echo "$0|$1|$FOO|$(pwd)"; env | wc -l`, "one", "two"},
		Env: []string{"FOO=bar"}, Dir: dir, Stdout: out.add}
	waitDone(t, start(t, r, s))
	got := out.all()
	// sh itself exports PWD, SHLVL and _ besides FOO: the supervisor's
	// environment must not leak in.
	if len(got) != 2 || got[0] != "one|two|bar|"+dir {
		t.Fatalf("output %q", got)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(got[1])); n > 4 {
		t.Errorf("child has %d environment entries, want only its own", n)
	}
}

func TestOutputLines(t *testing.T) {
	r := startReaper(t)
	out, errs := newLines(), newLines()
	s := sh(`for i in 1 2 3 4 5; do echo "out $i"; echo "err $i" >&2; done; echo; printf 'partial'; printf 'tail' >&2`)
	s.Stdout, s.Stderr = out.add, errs.add
	waitDone(t, start(t, r, s))
	wantOut := []string{"out 1", "out 2", "out 3", "out 4", "out 5", "", "partial"}
	wantErr := []string{"err 1", "err 2", "err 3", "err 4", "err 5", "tail"}
	if got := out.all(); !slices.Equal(got, wantOut) {
		t.Errorf("stdout %q, want %q", got, wantOut)
	}
	if got := errs.all(); !slices.Equal(got, wantErr) {
		t.Errorf("stderr %q, want %q", got, wantErr)
	}
}

func TestOutputManyLinesInOrder(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	s := sh(`i=0; while [ $i -lt 20000 ]; do echo $i; i=$((i+1)); done`)
	s.Stdout = out.add
	waitDone(t, start(t, r, s))
	got := out.all()
	if len(got) != 20000 {
		t.Fatalf("%d lines, want 20000", len(got))
	}
	for i, l := range got {
		if l != strconv.Itoa(i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}

func TestLongLinesSplit(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	s := sh(`head -c 150000 /dev/zero | tr '\0' x; echo; echo end; head -c 65536 /dev/zero | tr '\0' y; echo; head -c 70000 /dev/zero | tr '\0' z`)
	s.Stdout = out.add
	waitDone(t, start(t, r, s))
	var lens []int
	for _, l := range out.all() {
		lens = append(lens, len(l))
		if l != "end" && l != strings.Repeat(l[:1], len(l)) {
			t.Errorf("mixed line %.20q...", l)
		}
	}
	want := []int{65536, 65536, 18928, 3, 65536, 65536, 4464}
	if !slices.Equal(lens, want) {
		t.Errorf("line lengths %v, want %v", lens, want)
	}
}

func TestSignal(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	s := sh(`trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.01; done`)
	s.Stdout = out.add
	p := start(t, r, s)
	out.wait(t, 1)
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, p); e.Code != 7 {
		t.Errorf("exit %v, want code 7", e)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after exit: %v, want ErrProcessDone", err)
	}
}

func TestStopTerm(t *testing.T) {
	r := startReaper(t)
	p := start(t, r, Spec{Path: "/bin/sleep", Args: []string{"1000"}})
	e := p.Stop(context.Background(), syscall.SIGTERM, testTimeout)
	if e.Signal != syscall.SIGTERM {
		t.Errorf("exit %v, want SIGTERM", e)
	}
	// Stop of a finished process returns its exit.
	if e2 := p.Stop(context.Background(), syscall.SIGTERM, time.Second); e2 != e {
		t.Errorf("second Stop %v, want %v", e2, e)
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	s := sh(`trap '' TERM; echo ready; sleep 100`)
	s.Stdout = out.add
	p := start(t, r, s)
	out.wait(t, 1)
	const timeout = 200 * time.Millisecond
	begin := time.Now()
	e := p.Stop(context.Background(), syscall.SIGTERM, timeout)
	if e.Signal != syscall.SIGKILL {
		t.Errorf("exit %v, want SIGKILL", e)
	}
	if d := time.Since(begin); d < timeout {
		t.Errorf("killed after %v, before the %v timeout", d, timeout)
	}
}

func TestStopContextCancelKills(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	s := sh(`trap '' TERM; echo ready; sleep 100`)
	s.Stdout = out.add
	p := start(t, r, s)
	out.wait(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e := p.Stop(ctx, syscall.SIGTERM, time.Hour); e.Signal != syscall.SIGKILL {
		t.Errorf("exit %v, want SIGKILL", e)
	}
}

// grandchildren starts script, which must print the pids of the processes it
// leaves behind on its first line, and returns them.
func grandchildren(t *testing.T, r *Reaper, script string) (*Proc, []int) {
	t.Helper()
	out := newLines()
	s := sh(script)
	s.Stdout = out.add
	p := start(t, r, s)
	var pids []int
	for _, f := range strings.Fields(out.wait(t, 1)[0]) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad pid line %q", f)
		}
		if !alive(pid) {
			t.Fatalf("grandchild %d not running", pid)
		}
		pids = append(pids, pid)
	}
	return p, pids
}

const (
	// A background child, and a double-forked one whose parent exited at
	// once, so it is re-parented to the reaper; both in the leader's group.
	forkScript   = `sleep 1000 & a=$!; b=$( (sleep 1000 >/dev/null 2>&1 & echo $!) ); echo $a $b; sleep 1000`
	ignoreScript = `trap '' TERM; (trap '' TERM; sleep 1000) & echo $!; sleep 1000`
)

func TestStopLeavesNoGrandchild(t *testing.T) {
	r := startReaper(t)
	for _, tc := range []struct {
		name, script string
		timeout      time.Duration
	}{
		{"term", forkScript, testTimeout},
		{"kill", ignoreScript, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, pids := grandchildren(t, r, tc.script)
			p.Stop(context.Background(), syscall.SIGTERM, tc.timeout)
			for _, pid := range pids {
				waitGone(t, pid)
			}
		})
	}
}

func TestLeaderCrashKillsGroup(t *testing.T) {
	r := startReaper(t)
	for _, crash := range []string{"kill -KILL $$", "exit 3"} {
		// a holds stdout open, so Done also waits for it to be killed; b was
		// double-forked and re-parented to the reaper.
		p, pids := grandchildren(t, r, `trap '`+crash+`' USR1; sleep 1000 & a=$!; b=$( (sleep 1000 >/dev/null 2>&1 & echo $!) ); echo $a $b; while :; do wait; done`)
		// The leader alone is told to crash: the group is left to the reaper.
		if err := unix.Kill(p.PID(), unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if e := waitDone(t, p); e.Code == 0 {
			t.Errorf("%s: exit %v", crash, e)
		}
		for _, pid := range pids {
			waitGone(t, pid)
		}
	}
}

// A process that escapes the group (setsid) and keeps stdout open must not
// hold Done for longer than the drain grace.
func TestEscapedWriterDoesNotHoldDone(t *testing.T) {
	r := startReaper(t)
	r.drainGrace = 100 * time.Millisecond
	out := newLines()
	s := sh(`trap 'echo bye; exit 0' USR1; setsid sh -c 'echo $$; exec sleep 1000' & while :; do wait; done`)
	s.Stdout = out.add
	p := start(t, r, s)
	pid, _ := strconv.Atoi(out.wait(t, 1)[0])
	if err := unix.Kill(p.PID(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	if got := out.all(); !slices.Equal(got, []string{strconv.Itoa(pid), "bye"}) {
		t.Errorf("output %q", got)
	}
	if !alive(pid) {
		t.Fatalf("escaped process %d gone: the test proves nothing", pid)
	}
	// It was re-parented to the subreaper; kill it and see it reaped.
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
}

func TestOrphansReaped(t *testing.T) {
	r := startReaper(t)
	out := newLines()
	// Orphans outside the group, so the leader's exit does not kill them.
	// They print their pid once they have left it; only then is the leader
	// told to exit.
	s := sh(`trap 'exit 0' USR1; for i in 1 2 3; do setsid sh -c 'echo $$; exec sleep 1000 >/dev/null 2>&1' & done; while :; do wait; done`)
	s.Stdout = out.add
	p := start(t, r, s)
	out.wait(t, 3)
	if err := unix.Kill(p.PID(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	var pids []int
	for _, l := range out.all() {
		pid, _ := strconv.Atoi(l)
		pids = append(pids, pid)
	}
	if len(pids) != 3 {
		t.Fatalf("pids %v", pids)
	}
	for _, pid := range pids {
		waitFor(t, "re-parenting to the subreaper", func() bool {
			_, ppid := procState(pid)
			return ppid == os.Getpid()
		})
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies left: %v", z)
	}
}

// Run's shutdown kills and reaps what callers left running.
func TestRunShutdownKillsLeftovers(t *testing.T) {
	r := NewReaper(nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	p, pids := grandchildren(t, r, forkScript)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, p); e.Signal != syscall.SIGKILL {
		t.Errorf("exit %v, want SIGKILL", e)
	}
	for _, pid := range pids {
		waitFor(t, "grandchild dead", func() bool {
			st, _ := procState(pid)
			return st == "" || st == "Z"
		})
	}
	// The double-forked one is our child but nobody waits any more: the
	// next reaper collects it.
	startReaper(t)
	waitFor(t, "no zombies", func() bool { return len(zombies()) == 0 })
}

func TestCredential(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users")
	}
	r := startReaper(t)
	out := newLines()
	s := Spec{Path: "/bin/sh", Args: []string{"-c", "echo $(id -u) $(id -g) $(id -G)"}, Env: []string{"PATH=/usr/bin:/bin"},
		Dir: "/", Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Stdout: out.add}
	waitDone(t, start(t, r, s))
	if got := out.all(); !slices.Equal(got, []string{"65534 65534 65534"}) {
		t.Errorf("ids %q, want the credential's and no supplementary groups", got)
	}
}

// Children forked from the supervisor's own table share one /dev/null,
// opened at the first start and closed when the reaper stops, rather than
// one opened and closed around every fork.
func TestDevNullHeldOnceAcrossStarts(t *testing.T) {
	devNulls := func() (n int) {
		for _, fd := range openFDs(t) {
			if strings.HasSuffix(fd, " /dev/null") {
				n++
			}
		}
		return n
	}
	before := devNulls()
	r := NewReaper(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	for range 20 {
		if e := waitDone(t, start(t, r, Spec{Path: "/bin/true"})); e.Code != 0 {
			t.Fatalf("exit %s", e)
		}
	}
	if got := devNulls(); got != before+1 {
		t.Errorf("/dev/null open %d times after 20 starts, %d before the reaper; want one more, kept", got, before)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := devNulls(); got != before {
		t.Errorf("/dev/null open %d times once the reaper stopped, %d before it", got, before)
	}
}
