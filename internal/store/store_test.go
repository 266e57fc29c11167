package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestWriteFilesReplacesAndLeavesNoTemps(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "a.spec"), []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"a.spec": []byte("two"), "b.spec": []byte("three")}
	if err := WriteFiles(dir, files, 0o640); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s = %q, %v; want %q", name, got, err, want)
		}
		st, _ := os.Stat(filepath.Join(dir, name))
		if st.Mode().Perm() != 0o640 {
			t.Fatalf("%s mode %v", name, st.Mode())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestLockKeepsSecondOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if !Held(path) {
		t.Fatal("Held = false while locked")
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire = %v; want ErrLocked", err)
	}
	if pid, _ := ReadPID(path); pid != os.Getpid() {
		t.Fatalf("pid in lock = %d", pid)
	}
	l.Release()
	if Held(path) {
		t.Fatal("Held = true after release")
	}
}

// Hold takes an existing lock and writes nothing: a supervisor that still
// checks its input holds its state directory without changing it. It
// creates no LOCK file, keeps a second supervisor out like Acquire, and
// Claim then names the holder.
func TestHoldWritesNothingUntilClaim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "LOCK")
	if _, err := Hold(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Hold without a LOCK file = %v; want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Hold created the LOCK file: %v", err)
	}
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st0, _ := os.Stat(path)
	l, err := Hold(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if b, _ := os.ReadFile(path); string(b) != "1\n" {
		t.Fatalf("LOCK holds %q after Hold; want it unchanged", b)
	}
	if st1, _ := os.Stat(path); !st1.ModTime().Equal(st0.ModTime()) {
		t.Fatal("Hold wrote the LOCK file")
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire of a held lock = %v; want ErrLocked", err)
	}
	if err := l.Claim(); err != nil {
		t.Fatal(err)
	}
	if pid, _ := ReadPID(path); pid != os.Getpid() {
		t.Fatalf("pid in lock after Claim = %d", pid)
	}
}

// A supervisor killed with SIGKILL a moment after it forked leaves its
// lock held by the child until the child's exec closes it: the next
// supervisor waits for that instead of refusing to start. A lock whose
// holder named in the file is alive is refused at once.
func TestLockOfADeadSupervisorHeldByItsChildIsWaitedFor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644)
	holder := exec.Command("flock", path, "sleep", "0.3") // the child, still holding it
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	for deadline := time.Now().Add(5 * time.Second); !Held(path); {
		if time.Now().After(deadline) {
			t.Fatal("the lock was never held")
		}
		time.Sleep(time.Millisecond)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after the holder's parent died: %v", err)
	}
	if pid, _ := ReadPID(path); pid != os.Getpid() {
		t.Fatalf("pid in lock = %d", pid)
	}
	l.Release()

	alive := exec.Command("flock", path, "sleep", "10")
	if err := alive.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { alive.Process.Kill(); alive.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); !Held(path); {
		if time.Now().After(deadline) {
			t.Fatal("the lock was never held")
		}
		time.Sleep(time.Millisecond)
	}
	begin := time.Now()
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) || time.Since(begin) > time.Second {
		t.Fatalf("Acquire of a lock a live supervisor holds = %v after %s; want ErrLocked at once", err, time.Since(begin))
	}
}

func TestMemberIDIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "MEMBER_ID")
	a, err := MemberID(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := MemberID(path)
	if a != b || len(a) != 32 {
		t.Fatalf("ids %q %q", a, b)
	}
	os.WriteFile(path, []byte("zz"), 0o644)
	if _, err := MemberID(path); err == nil {
		t.Fatal("corrupt member id accepted")
	}
}

func TestReadFileReadsWholeFiles(t *testing.T) {
	dir := t.TempDir()
	for _, want := range []string{"", "ident = \"a/b\"\n", string(make([]byte, 70000))} {
		path := filepath.Join(dir, "x.spec")
		os.WriteFile(path, []byte(want), 0o640)
		if got, err := ReadFile(path); err != nil || string(got) != want {
			t.Errorf("ReadFile: %d bytes, %v; want %d", len(got), err, len(want))
		}
	}
	if got, err := ReadFile("/proc/self/stat"); err != nil || len(got) == 0 {
		t.Errorf("a file of /proc (size 0): %q, %v", got, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
