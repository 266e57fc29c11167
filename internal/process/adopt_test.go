package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// orphan starts script in the background of a shell that exits at once,
// its stdout on a new FIFO at fifo, so that it runs as no child of this
// process (as the services of a supervisor killed with SIGKILL do for the
// next one), and returns its pid and start time.
func orphan(t *testing.T, fifo, script string) (int, uint64) {
	t.Helper()
	wr := fifoWriteEnd(t, fifo)
	out := os.NewFile(uintptr(wr), fifo)
	defer out.Close()
	// The background shell (a process group leader, as the reaper's
	// children are) writes to the FIFO (fd 3), the outer one its pid.
	cmd := exec.Command("/bin/sh", "-c", "setsid /bin/sh -c '"+script+"' </dev/null >&3 2>/dev/null & echo $!")
	var pidText strings.Builder
	cmd.Stdout = &pidText
	cmd.ExtraFiles = []*os.File{out}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(pidText.String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	var start uint64
	waitFor(t, "orphan running", func() bool {
		var ok bool
		_, start, ok = procStat(pid)
		return ok
	})
	return pid, start
}

// A process that is not this one's child, with output written while
// nobody read it, is adopted: every line written before and after comes
// through, in order, Stop ends it, and its exit status is reported
// unknown rather than made up.
func TestAdoptOrphanKeepsItsOutput(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out")
	pid, start := orphan(t, fifo, `i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done; exec sleep 1000`)
	r := startReaper(t)
	got := newLines()
	p, missing, err := r.Adopt(Adoption{PID: pid, Start: start, Outputs: [2]string{fifo, ""}, Stdout: got.add, Leader: true})
	if err != nil || len(missing) != 0 {
		t.Fatalf("Adopt: %v (missing %v)", err, missing)
	}
	if p.PID() != pid {
		t.Fatalf("PID %d, want %d", p.PID(), pid)
	}
	for i, l := range got.wait(t, 100) {
		if l != fmt.Sprint("line", i) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	e := p.Stop(t.Context(), syscall.SIGTERM, testTimeout)
	if !e.Unknown || !strings.Contains(e.String(), "status unknown") {
		t.Fatalf("exit %+v (%s), want unknown", e, e)
	}
	waitGone(t, pid)
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("Signal after the exit: %v", err)
	}
}

// A pid whose start time differs from the one recorded was reused: it is
// never adopted.
func TestAdoptRefusesAReusedPID(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out")
	pid, start := orphan(t, fifo, "exec sleep 1000")
	r := startReaper(t)
	if _, _, err := r.Adopt(Adoption{PID: pid, Start: start + 1}); !errors.Is(err, ErrNotAdoptable) {
		t.Fatalf("Adopt with another start time: %v", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
	if _, _, err := r.Adopt(Adoption{PID: pid, Start: start}); !errors.Is(err, ErrNotAdoptable) {
		t.Fatalf("Adopt of an exited process: %v", err)
	}
}

// Output through FIFOs (Spec.Outputs) arrives as through pipes, Done
// still waits for it, and the FIFOs are the supervisor's alone.
func TestFIFOOutputs(t *testing.T) {
	r := startReaper(t)
	dir := t.TempDir()
	out, errs := newLines(), newLines()
	s := sh("echo one; echo two >&2; echo three")
	s.Stdout, s.Stderr = out.add, errs.add
	s.Outputs = [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}
	p := start(t, r, s)
	if e := waitDone(t, p); e.Code != 0 {
		t.Fatalf("exit %s", e)
	}
	if got := strings.Join(out.all(), ","); got != "one,three" {
		t.Fatalf("stdout %q", got)
	}
	if got := strings.Join(errs.all(), ","); got != "two" {
		t.Fatalf("stderr %q", got)
	}
	for _, f := range s.Outputs {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode() != os.ModeNamedPipe|0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
}

// A first start's FIFOs are made before the reaper's lock is taken, by
// the starting goroutine: a create can be slow (a busy or journal-less
// file system), and under the lock it held up every other start. Here
// the lock is held by the test; the FIFOs appear all the same, and the
// start goes on once the lock is free.
func TestFIFOsMadeOutsideTheReapersLock(t *testing.T) {
	r := startReaper(t)
	dir := t.TempDir()
	out := newLines()
	s := sh("echo made")
	s.Stdout, s.Stderr = out.add, func([]byte) {}
	s.Outputs = [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}
	r.mu.Lock()
	var unlock sync.Once
	defer unlock.Do(r.mu.Unlock) // also when waitFor fails: the start waits for it
	started := make(chan *Proc, 1)
	go func() {
		p, err := r.Start(s)
		if err != nil {
			t.Errorf("Start: %v", err)
		}
		started <- p
	}()
	waitFor(t, "the FIFOs made while another holds the reaper's lock", func() bool {
		for _, f := range s.Outputs {
			if fi, err := os.Lstat(f); err != nil || fi.Mode() != os.ModeNamedPipe|0o600 {
				return false
			}
		}
		return true
	})
	unlock.Do(r.mu.Unlock)
	p := <-started
	if p == nil {
		t.FailNow()
	}
	if e := waitDone(t, p); e.Code != 0 {
		t.Fatalf("exit %s", e)
	}
	if got := strings.Join(out.all(), ","); got != "made" {
		t.Fatalf("stdout %q", got)
	}
}

// Pause stops reading a FIFO between lines and returns the unfinished
// one; lines written meanwhile wait in the pipe, and Resume delivers them.
func TestPauseKeepsTheUnfinishedLine(t *testing.T) {
	r := startReaper(t)
	dir := t.TempDir()
	got := newLines()
	gate := filepath.Join(dir, "gate")
	s := sh(`printf 'one\ntw'; while [ ! -e ` + gate + ` ]; do sleep 0.01; done; echo o; echo three; exec sleep 1000`)
	s.Stdout = got.add
	s.Outputs = [2]string{filepath.Join(dir, "out"), ""}
	s.Leader = true
	p := start(t, r, s)
	got.wait(t, 1)
	var partials map[string][]byte
	waitFor(t, "the unfinished line read", func() bool {
		r.Resume()
		partials = r.Pause()
		return string(partials[s.Outputs[0]]) == "tw"
	})
	os.WriteFile(gate, nil, 0o644)
	waitFor(t, "output written while paused", func() bool {
		fd, err := unix.Open(s.Outputs[0], unix.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return false
		}
		defer unix.Close(fd)
		n, _ := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
		return n > 0
	})
	if l := got.all(); len(l) != 1 {
		t.Fatalf("lines while paused: %q", l)
	}
	r.Resume()
	if l := got.wait(t, 3); l[1] != "two" || l[2] != "three" {
		t.Fatalf("after Resume: %q", l)
	}
	p.Stop(t.Context(), syscall.SIGKILL, 0)
}

// A process that is this one's child (as a supervisor's services are
// after it re-executed itself) is adopted through the reaper: its exit
// status is exact, not unknown.
func TestAdoptChildKeepsItsExitStatus(t *testing.T) {
	r := startReaper(t)
	fifo := filepath.Join(t.TempDir(), "out")
	wr := fifoWriteEnd(t, fifo)
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "echo before; exec sleep 1000"}, &syscall.ProcAttr{
		Files: []uintptr{0, uintptr(wr), 2}, Sys: &syscall.SysProcAttr{Setpgid: true}})
	syscall.Close(wr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	var start uint64
	waitFor(t, "child running sleep", func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		var ok bool
		_, start, ok = procStat(pid)
		return ok && strings.HasPrefix(string(b), "sleep")
	})
	got := newLines()
	p, _, err := r.Adopt(Adoption{PID: pid, Start: start, Outputs: [2]string{fifo, ""}, Stdout: got.add, Leader: true})
	if err != nil {
		t.Fatal(err)
	}
	if l := got.wait(t, 1); l[0] != "before" {
		t.Fatalf("output %q", l)
	}
	if e := p.Stop(t.Context(), syscall.SIGTERM, testTimeout); e.Unknown || e.Signal != syscall.SIGTERM {
		t.Fatalf("exit %+v (%s), want killed by SIGTERM", e, e)
	}
}

// The spawner (which forks from a table of its own and passes the read
// ends back over a socket) makes FIFOs as a direct fork does.
func TestFIFOOutputsThroughTheSpawner(t *testing.T) {
	r := startReaper(t)
	r.spawnFrom = 0
	dir := t.TempDir()
	out := newLines()
	s := sh("echo through the spawner")
	s.Stdout = out.add
	s.Outputs = [2]string{filepath.Join(dir, "out"), ""}
	p := start(t, r, s)
	waitDone(t, p)
	if r.spawner == nil {
		t.Fatalf("no spawner: %v", r.spawnErr)
	}
	if got := out.all(); len(got) != 1 || got[0] != "through the spawner" {
		t.Fatalf("stdout %q", got)
	}
	if fi, err := os.Stat(s.Outputs[0]); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s: %v %v", s.Outputs[0], fi, err)
	}
}

// fifoWriteEnd makes an output FIFO at path as Start does and returns a
// read-write end of it, as a child holds.
func fifoWriteEnd(t *testing.T, path string) int {
	t.Helper()
	rd, err := fifoReader(path, unix.Mkfifo, unix.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(rd)
	wr, err := fifoWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	return wr
}
