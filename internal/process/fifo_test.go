package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A start through the spawner whose only pipes are output FIFOs passes no
// descriptor from the spawner's table to the supervisor's: the read ends
// were opened by the starting goroutine before the reaper's lock, so the
// locked section holds no sendmsg and recvmsg. Output still arrives; an
// anonymous pipe is still passed.
func TestFIFOStartThroughTheSpawnerPassesNoDescriptor(t *testing.T) {
	r := startReaper(t)
	r.spawnFrom = 0
	dir := t.TempDir()
	out, errs := newLines(), newLines()
	s := sh("echo out; echo err >&2")
	s.Stdout, s.Stderr = out.add, errs.add
	s.Outputs = [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}
	waitDone(t, start(t, r, s))
	if r.spawner == nil {
		t.Fatalf("no spawner: %v", r.spawnErr)
	}
	if got, gotErr := out.all(), errs.all(); !slices.Equal(got, []string{"out"}) || !slices.Equal(gotErr, []string{"err"}) {
		t.Fatalf("stdout %q, stderr %q", got, gotErr)
	}
	if passes(r.spawner) != 0 {
		t.Fatalf("%d messages passed descriptors for a start with FIFOs only; want none", passes(r.spawner))
	}
	anon := newLines()
	s = sh("echo piped")
	s.Stdout = anon.add
	waitDone(t, start(t, r, s))
	if got := anon.all(); !slices.Equal(got, []string{"piped"}) || passes(r.spawner) != 1 {
		t.Fatalf("anonymous pipe: stdout %q, %d messages passed descriptors; want 1", got, passes(r.spawner))
	}
}

// A later start of the service reads through the FIFOs its first start
// made, with nothing of the earlier output in them: it makes nothing (no
// mkfifo that only says EEXIST: creating is what costs on a restart), and
// the inode is the same. A file that is not such a FIFO is replaced, made
// anew. No descriptor is left behind.
func TestFIFOKeptAcrossStarts(t *testing.T) {
	for _, spawner := range []bool{false, true} {
		t.Run(fmt.Sprintf("spawner=%v", spawner), func(t *testing.T) {
			r := startReaper(t)
			if spawner {
				r.spawnFrom = 0
			}
			var made []string
			r.mkfifo = func(path string, mode uint32) error {
				made = append(made, filepath.Base(path))
				return syscall.Mkfifo(path, mode)
			}
			dir := t.TempDir()
			outs := [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}
			run := func(text string) {
				t.Helper()
				out := newLines()
				s := sh("echo " + text)
				s.Stdout, s.Stderr = out.add, func([]byte) {}
				s.Outputs = outs
				if e := waitDone(t, start(t, r, s)); e.Code != 0 {
					t.Fatalf("exit %s", e)
				}
				if got := out.all(); !slices.Equal(got, []string{text}) {
					t.Fatalf("stdout %q, want %q", got, text)
				}
			}
			run("first")
			fdsBefore := openFDs(t) // the reaper's own, made at its first start, included
			if !slices.Equal(made, []string{"out", "err"}) {
				t.Fatalf("first start made %q", made)
			}
			var before syscall.Stat_t
			if err := syscall.Lstat(outs[0], &before); err != nil {
				t.Fatal(err)
			}
			made = nil
			run("second")
			var after syscall.Stat_t
			if err := syscall.Lstat(outs[0], &after); err != nil {
				t.Fatal(err)
			}
			if len(made) != 0 || after.Ino != before.Ino {
				t.Fatalf("restart made %q (inode %d, was %d); want nothing made", made, after.Ino, before.Ino)
			}
			os.Remove(outs[1])
			os.WriteFile(outs[1], []byte("not a fifo\n"), 0o600)
			run("third")
			if !slices.Equal(made, []string{"err"}) {
				t.Fatalf("start over a regular file made %q; want err replaced", made)
			}
			if fi, err := os.Lstat(outs[1]); err != nil || fi.Mode() != os.ModeNamedPipe|0o600 {
				t.Fatalf("%s: %v, %v; want a FIFO", outs[1], fi.Mode(), err)
			}
			if after := openFDs(t); !slices.Equal(after, fdsBefore) {
				t.Errorf("open fds after two more starts %v, before %v", after, fdsBefore)
			}
		})
	}
}

// A start that fails leaves no descriptor open: not the FIFOs' read ends
// opened before the lock, nor the anonymous pipes, on either way of
// forking.
func TestFailedStartLeaksNoDescriptor(t *testing.T) {
	for _, spawner := range []bool{false, true} {
		t.Run(fmt.Sprintf("spawner=%v", spawner), func(t *testing.T) {
			r := startReaper(t)
			if spawner {
				r.spawnFrom = 0
			}
			dir := t.TempDir()
			outs := [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}
			// What the reaper keeps (poller, spawner) is opened by a
			// first start that works.
			s := sh("true")
			s.Stdout, s.Stderr, s.Outputs = func([]byte) {}, func([]byte) {}, outs
			waitDone(t, start(t, r, s))
			before := openFDs(t)
			s = Spec{Path: filepath.Join(dir, "missing"), Outputs: outs, NotifyFD: 3, Ready: func() {}}
			s.Stdout, s.Stderr = func([]byte) {}, func([]byte) {}
			if _, err := r.Start(s); !errors.Is(err, syscall.ENOENT) {
				t.Fatalf("Start of a missing program: %v", err)
			}
			if after := openFDs(t); !slices.Equal(after, before) {
				t.Fatalf("open fds after a failed start %q, before %q", after, before)
			}
		})
	}
}

// A FIFO whose write end cannot be opened under the lock (gone since its
// read end was opened) fails the start with the reason, and the read end
// opened before the lock is closed.
func TestFIFOWriteEndFailureClosesTheReadEnd(t *testing.T) {
	r := startReaper(t)
	r.spawnFrom = 0
	dir := t.TempDir()
	waitDone(t, start(t, r, Spec{Path: "/bin/true", Stdout: func([]byte) {}}))
	before := openFDs(t)
	s := sh("echo never")
	s.Stdout = func([]byte) {}
	s.Outputs = [2]string{filepath.Join(dir, "out"), ""}
	r.mu.Lock()
	var unlock sync.Once
	defer unlock.Do(r.mu.Unlock) // also when waitFor fails: the start waits for it
	errc := make(chan error, 1)
	go func() {
		p, err := r.Start(s)
		if err == nil {
			<-p.Done()
		}
		errc <- err
	}()
	waitFor(t, "the FIFO's read end open while the test holds the lock", func() bool {
		return slices.ContainsFunc(openFDs(t), func(fd string) bool { return strings.HasSuffix(fd, " "+s.Outputs[0]) })
	})
	if err := os.Remove(s.Outputs[0]); err != nil {
		t.Fatal(err)
	}
	unlock.Do(r.mu.Unlock)
	if err := <-errc; !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "output fifo") {
		t.Fatalf("Start with its FIFO gone: %v; want the write end's ENOENT", err)
	}
	if after := openFDs(t); !slices.Equal(after, before) {
		t.Fatalf("open fds after the failed start %q, before %q", after, before)
	}
}

// passes counts the messages that passed descriptors, over every spawner
// thread.
func passes(pool *spawnPool) (n int) {
	for _, sp := range pool.all {
		n += sp.passes
	}
	return n
}

// An output FIFO that another user owns, or that others may open, is not
// read: a start replaces it with one of the supervisor's, mode 0600, and
// its output arrives there.
func TestFIFONotTheSupervisorsIsReplaced(t *testing.T) {
	r := startReaper(t)
	var made []string
	r.mkfifo = func(path string, mode uint32) error {
		made = append(made, filepath.Base(path))
		return syscall.Mkfifo(path, mode)
	}
	dir := t.TempDir()
	cases := map[string]func(path string) error{
		"mode 0644": func(path string) error { return syscall.Chmod(path, 0o644) },
	}
	if os.Geteuid() == 0 {
		cases["another user's"] = func(path string) error { return syscall.Chown(path, 65534, 65534) }
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := spoil(path); err != nil {
				t.Fatal(err)
			}
			made = nil
			out := newLines()
			s := sh("echo replaced")
			s.Stdout, s.Outputs = out.add, [2]string{path, ""}
			waitDone(t, start(t, r, s))
			if got := out.all(); !slices.Equal(got, []string{"replaced"}) || len(made) != 1 {
				t.Fatalf("stdout %q, made %q; want the output through a new FIFO", got, made)
			}
			var st syscall.Stat_t
			if err := syscall.Lstat(path, &st); err != nil || st.Mode != syscall.S_IFIFO|0o600 || int(st.Uid) != os.Geteuid() {
				t.Fatalf("%s: mode %o uid %d (%v); want a FIFO of mode 0600 of uid %d", path, st.Mode, st.Uid, err, os.Geteuid())
			}
		})
	}
}

// What a service writes while nobody reads its output (the supervisor
// killed, its successor not yet there) waits in the FIFO up to pipeSize,
// four times Linux's default; then the writer blocks.
func TestFIFOHoldsPipeSizeWhileNobodyReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	rd, err := fifoReader(path, unix.Mkfifo, unix.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rd)
	wr, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wr)
	page := make([]byte, 4096)
	held := 0
	for {
		n, err := unix.Write(wr, page)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held += n
		if held > 4*pipeSize {
			t.Fatal("the FIFO takes without end")
		}
	}
	if held != pipeSize || pipeSize != 4*64<<10 {
		t.Fatalf("the FIFO held %d bytes before its writer would block; want %d (4× Linux's 64 KiB)", held, pipeSize)
	}
}
