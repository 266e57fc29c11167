package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A PID file taken away when its process ends (RetirePIDFile) is gone, as
// Habitat's are, and the next write lands on the same inode with exactly
// the new contents, whatever the file held before.
func TestRetiredPIDFileIsRewrittenInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "PID")
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	first := inode(t, path)
	RetirePIDFile(path)
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("PID file after RetirePIDFile: %v", err)
	}
	// Longer than any PID file: what is left of it must not show.
	if err := os.WriteFile(pidTemp(path), []byte("4194304\n18446744073709551615\ntrailing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if ino := inode(t, path); ino != first {
		t.Errorf("PID file rewritten on inode %d, not %d", ino, first)
	}
	start, _ := StartTime(os.Getpid())
	want := strconv.Itoa(os.Getpid()) + "\n" + strconv.FormatUint(start, 10) + "\n"
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("PID file holds %q, want %q", b, want)
	}
	RetirePIDFile(path) // a second retire, or one of a file never written, is harmless
	RetirePIDFile(path)
}

// Rewriting a retired PID file starts no disk write: ext4 flushes a file
// truncated to zero and rewritten when it is closed (auto_da_alloc), so
// a file written that way has its block allocated at once, while one
// written over and cut to length stays delayed-allocated like any other
// small write. Only on ext4, where the flush happens.
func TestPIDFileRewriteStartsNoWriteback(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		t.Skip("not ext4")
	}
	path := filepath.Join(dir, "PID")
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if !delalloc(t, path) {
		t.Skip("a new file's block was allocated at once: no delayed allocation here")
	}
	RetirePIDFile(path)
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if !delalloc(t, path) {
		t.Error("rewriting the PID file flushed it to disk")
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// delalloc reports whether path's first extent is still waiting for its
// block (FIEMAP_EXTENT_DELALLOC), without syncing it.
func delalloc(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const fsIocFiemap = 0xC020660B
	const extentDelalloc = 0x4
	// struct fiemap with room for one struct fiemap_extent.
	var m struct {
		start, length                   uint64
		flags, mapped, count, reserved  uint32
		logical, physical, extentLength uint64
		_                               [2]uint64
		extentFlags                     uint32
		_                               [3]uint32
	}
	m.length, m.count = ^uint64(0), 1
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&m))); e != 0 {
		t.Skipf("FIEMAP: %v", e)
	}
	if m.mapped == 0 {
		t.Fatal("PID file has no extent")
	}
	return m.extentFlags&extentDelalloc != 0
}
