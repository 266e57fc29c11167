package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// victim is a file outside the directory tend writes in, which a planted
// link names; it must come out unchanged.
type victim struct {
	path string
	st   syscall.Stat_t
}

func newVictim(t *testing.T) *victim {
	t.Helper()
	v := &victim{path: filepath.Join(t.TempDir(), "victim")}
	if err := os.WriteFile(v.path, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(v.path, &v.st); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *victim) check(t *testing.T) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(v.path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != v.st.Uid || st.Gid != v.st.Gid || st.Mode != v.st.Mode {
		t.Errorf("victim changed: uid %d gid %d mode %o", st.Uid, st.Gid, st.Mode)
	}
	if b, _ := os.ReadFile(v.path); string(b) != "secret\n" {
		t.Errorf("victim content %q", b)
	}
}

func openDir(t *testing.T, path string) *Dir {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// someone is an owner other than the test's, for chown checks; root only.
func someone(t *testing.T) Owner {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	return Owner{UID: 65534, GID: 65534}
}

func TestWriteFileReplacesALinkAndNeverFollowsIt(t *testing.T) {
	dir := t.TempDir()
	v := newVictim(t)
	os.Symlink(v.path, filepath.Join(dir, "app.conf"))
	d := openDir(t, dir)
	o := Self
	if os.Geteuid() == 0 {
		o = someone(t)
	}
	if err := d.WriteFile("app.conf", []byte("new\n"), 0o640, o); err != nil {
		t.Fatal(err)
	}
	v.check(t)
	fi, err := os.Lstat(filepath.Join(dir, "app.conf"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
		t.Fatalf("app.conf: %v %v", fi.Mode(), err)
	}
	if st := fi.Sys().(*syscall.Stat_t); o != Self && (st.Uid != 65534 || st.Gid != 65534) {
		t.Errorf("app.conf owned by %d:%d", st.Uid, st.Gid)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestReadFileRefusesWhatIsNotAPlainFile(t *testing.T) {
	dir := t.TempDir()
	v := newVictim(t)
	os.Symlink(v.path, filepath.Join(dir, "link"))
	os.Link(v.path, filepath.Join(dir, "hard"))
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o640)
	d := openDir(t, dir)
	for _, name := range []string{"link", "hard", "fifo", "missing"} {
		if _, _, err := d.ReadFile(name, 0o640, Self); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadFile(%s): %v; want not exist", name, err)
		}
	}
	b, ok, err := d.ReadFile("plain", 0o640, Self)
	if err != nil || string(b) != "x" || !ok {
		t.Errorf("ReadFile(plain) = %q %v %v", b, ok, err)
	}
	if _, ok, _ := d.ReadFile("plain", 0o644, Self); ok {
		t.Error("a file of another mode reads as owned right")
	}
}

func TestOpenAppendNeverOpensWhatWasPlanted(t *testing.T) {
	dir := t.TempDir()
	v := newVictim(t)
	os.Symlink(v.path, filepath.Join(dir, "link.log"))
	os.Symlink(filepath.Join(t.TempDir(), "dangling"), filepath.Join(dir, "dangling.log"))
	os.Link(v.path, filepath.Join(dir, "hard.log"))
	unix.Mkfifo(filepath.Join(dir, "fifo.log"), 0o644)
	d := openDir(t, dir)
	for _, name := range []string{"link.log", "dangling.log", "hard.log", "fifo.log"} {
		for _, truncate := range []bool{false, true} {
			f, size, err := d.OpenAppend(name, 0o640, Self, truncate)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f.Write([]byte("line\n"))
			f.Close()
			fi, _ := os.Lstat(filepath.Join(dir, name))
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
				t.Errorf("%s: %v after OpenAppend", name, fi.Mode())
			}
			if !truncate && size != 0 {
				t.Errorf("%s: size %d of a new file", name, size)
			}
		}
	}
	v.check(t)
	if _, err := os.Stat(filepath.Join(filepath.Dir(v.path), "dangling")); err == nil {
		t.Error("a dangling link was followed to create its target")
	}
}

func TestOpenAppendAppendsAndTruncates(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("old\n"), 0o600)
	d := openDir(t, dir)
	f, size, err := d.OpenAppend("a.log", 0o640, Self, false)
	if err != nil || size != 4 {
		t.Fatalf("size %d, %v", size, err)
	}
	f.Write([]byte("new\n"))
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "a.log")); string(b) != "old\nnew\n" {
		t.Errorf("appended: %q", b)
	}
	f, size, err = d.OpenAppend("a.log", 0o640, Self, true)
	if err != nil || size != 0 {
		t.Fatalf("size %d, %v", size, err)
	}
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "a.log")); len(b) != 0 {
		t.Errorf("truncated: %q", b)
	}
}

// A directory an older tend handed to the service user is taken back; a
// link in a directory's place is refused, not followed.
func TestMakeDirTakesBackAndRefusesLinks(t *testing.T) {
	user := someone(t)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o777)
	os.Chown(filepath.Join(dir, "logs"), user.UID, user.GID)
	elsewhere := t.TempDir()
	os.Chmod(elsewhere, 0o700)
	os.Symlink(elsewhere, filepath.Join(dir, "config"))
	d := openDir(t, dir)
	if err := d.FixDir("logs", 0o755, Self); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	syscall.Lstat(filepath.Join(dir, "logs"), &st)
	if st.Uid != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("logs: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
	if _, err := d.MakeDir("config", 0o755, user); !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("MakeDir over a link: %v", err)
	}
	if err := d.FixDir("config", 0o755, user); err == nil {
		t.Error("FixDir over a link succeeded")
	}
	syscall.Stat(elsewhere, &st)
	if st.Uid != 0 || st.Mode&0o7777 != 0o700 {
		t.Errorf("the link's target changed: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
	// GiveDir hands over and leaves the mode the user chose.
	os.Mkdir(filepath.Join(dir, "data"), 0o700)
	sub, err := d.GiveDir("data", 0o755, user)
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
	syscall.Lstat(filepath.Join(dir, "data"), &st)
	if st.Uid != uint32(user.UID) || st.Mode&0o7777 != 0o700 {
		t.Errorf("data: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
}

func TestMakeDirsRefusesALinkOnTheWay(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(dir, "config"))
	d := openDir(t, dir)
	if _, err := d.MakeDirs("config/sub", 0o755, Self); err == nil {
		t.Fatal("MakeDirs went through a link")
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "sub")); err == nil {
		t.Error("a directory was made through the link")
	}
	sub, err := d.MakeDirs("a/b/c", 0o755, Self)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.WriteFile("f", []byte("x"), 0o644, Self); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a", "b", "c", "f")); string(b) != "x" {
		t.Errorf("a/b/c/f = %q", b)
	}
}

func TestOpenRefusesALink(t *testing.T) {
	dir := t.TempDir()
	os.Symlink(t.TempDir(), filepath.Join(dir, "logs"))
	if _, err := Open(filepath.Join(dir, "logs")); err == nil {
		t.Fatal("Open followed a link")
	}
	for _, name := range []string{"", ".", "..", "a/b", "a\x00"} {
		if err := openDir(t, dir).WriteFile(name, nil, 0o644, Self); err == nil {
			t.Errorf("WriteFile(%q) accepted", name)
		}
	}
}

// EnsureDir does what MakeDir (fixMode) and GiveDir do, without a handle:
// a missing directory is made, a wrong owner or mode taken back, a link
// refused and what it names left alone; a directory that is right is
// left as it is.
func TestEnsureDirMakesTakesBackAndRefusesLinks(t *testing.T) {
	user := someone(t)
	dir := t.TempDir()
	d := openDir(t, dir)
	stat := func(name string) syscall.Stat_t {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, name), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if err := d.EnsureDir("hooks", 0o755, Self, true); err != nil {
		t.Fatal(err)
	}
	if st := stat("hooks"); st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("new hooks: uid %d mode %o", st.Uid, st.Mode)
	}
	os.Mkdir(filepath.Join(dir, "config"), 0o777)
	os.Chown(filepath.Join(dir, "config"), user.UID, user.GID)
	if err := d.EnsureDir("config", 0o755, Self, true); err != nil {
		t.Fatal(err)
	}
	if st := stat("config"); st.Uid != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("config taken back: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
	os.Mkdir(filepath.Join(dir, "data"), 0o700)
	if err := d.EnsureDir("data", 0o755, user, false); err != nil {
		t.Fatal(err)
	}
	if st := stat("data"); st.Uid != uint32(user.UID) || st.Mode&0o7777 != 0o700 {
		t.Errorf("data given: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
	elsewhere := t.TempDir()
	os.Chmod(elsewhere, 0o700)
	os.Symlink(elsewhere, filepath.Join(dir, "var"))
	if err := d.EnsureDir("var", 0o755, user, false); err == nil {
		t.Error("EnsureDir over a link succeeded")
	}
	var st syscall.Stat_t
	syscall.Stat(elsewhere, &st)
	if st.Uid != 0 || st.Mode&0o7777 != 0o700 {
		t.Errorf("the link's target changed: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
	// FixDir over one that is missing does nothing, and makes nothing.
	if err := d.FixDir("logs", 0o755, Self); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "logs")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FixDir made logs: %v", err)
	}
}
