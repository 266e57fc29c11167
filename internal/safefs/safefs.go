// Package safefs writes files under a directory handle, never through a
// symbolic link: the supervisor runs as root and writes into its services'
// directories, where a service user could otherwise plant a link to any
// file of the host and have root chown, truncate or overwrite it.
//
// A Dir is opened with O_NOFOLLOW, every name below it is one path
// component opened relative to it (openat), files are created fresh under a
// temporary name with O_EXCL and renamed into place, and owners and modes
// are set through the file's descriptor (fchown, fchmod), never a path.
package safefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Dir is an open directory. Its methods take single path components.
type Dir struct {
	fd    int
	path  string // for error messages
	fresh bool   // MakeDir created it
}

// dirFlags open a directory without following a link at its last
// component. O_PATH is not used: fchown and fchmod need a real descriptor.
const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// Open opens the directory at path; a symbolic link there is refused
// (ELOOP), links in the components above it are followed.
func Open(path string) (*Dir, error) {
	fd, err := ignoringEINTR(func() (int, error) { return unix.Open(path, dirFlags, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{fd: fd, path: path}, nil
}

// Close releases the handle.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// Path is the path the directory was opened at.
func (d *Dir) Path() string { return d.path }

func (d *Dir) join(name string) string { return filepath.Join(d.path, name) }

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("bad file name %q", name)
	}
	return nil
}

// OpenDir opens the subdirectory name, refusing a link.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	fd, err := ignoringEINTR(func() (int, error) { return unix.Openat(d.fd, name, dirFlags, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return &Dir{fd: fd, path: d.join(name)}, nil
}

// Owner is who a file or directory is to belong to; -1 is the
// supervisor's own user or group.
type Owner struct{ UID, GID int }

// Self is the supervisor's own user and group.
var Self = Owner{-1, -1}

// selfIDs are the supervisor's effective ids, asked once: each ask is a
// system call, and they never change.
var selfIDs = sync.OnceValues(func() (uint32, uint32) {
	return uint32(os.Geteuid()), uint32(os.Getegid())
})

// ids resolves -1 to the supervisor's ids.
func (o Owner) ids() (uid, gid uint32) {
	uid, gid = uint32(o.UID), uint32(o.GID)
	if o.UID < 0 || o.GID < 0 {
		su, sg := selfIDs()
		if o.UID < 0 {
			uid = su
		}
		if o.GID < 0 {
			gid = sg
		}
	}
	return uid, gid
}

// MakeDir opens the subdirectory name, creating it if it is missing, and
// gives it owner and perm through its descriptor. A directory an older
// supervisor handed to the service user is taken back this way; a link or
// a file in its place is an error, never followed.
func (d *Dir) MakeDir(name string, perm os.FileMode, o Owner) (*Dir, error) {
	return d.makeDir(name, perm, o, true)
}

// GiveDir opens the subdirectory name, creating it with perm if it is
// missing, and gives it to o through its descriptor; its mode is left as
// o may have set it (a database may want its directory 0700).
func (d *Dir) GiveDir(name string, perm os.FileMode, o Owner) (*Dir, error) {
	return d.makeDir(name, perm, o, false)
}

func (d *Dir) makeDir(name string, perm os.FileMode, o Owner, fixMode bool) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	// Opened first: on every start but the first it is there.
	sub, err := d.OpenDir(name)
	fresh := false
	if errors.Is(err, unix.ENOENT) {
		merr := unix.Mkdirat(d.fd, name, uint32(perm.Perm()))
		if merr != nil && !errors.Is(merr, unix.EEXIST) {
			return nil, &os.PathError{Op: "mkdir", Path: d.join(name), Err: merr}
		}
		fresh = merr == nil
		sub, err = d.OpenDir(name)
	}
	if err != nil {
		return nil, err
	}
	sub.fresh = fresh
	if !fixMode {
		perm = 0
	}
	if err := setOwner(sub.fd, sub.path, perm, o); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// EnsureDir is MakeDir (fixMode true) or GiveDir (false) for a caller
// that needs no handle to the directory: one that is there already with
// owner o (and perm, if fixMode) costs one fstatat, where opening it to
// check costs three system calls.
func (d *Dir) EnsureDir(name string, perm os.FileMode, o Owner, fixMode bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && ownedAs(&st, perm, o, fixMode) {
		return nil
	}
	if errors.Is(err, unix.ENOENT) {
		// Missing: made here, then opened and given its owner as
		// makeDir does (someone may make it first: then it is opened).
		if merr := unix.Mkdirat(d.fd, name, uint32(perm.Perm())); merr != nil && !errors.Is(merr, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: d.join(name), Err: merr}
		}
	}
	sub, err := d.makeDir(name, perm, o, fixMode)
	if err != nil {
		return err
	}
	return sub.Close()
}

// ownedAs reports whether st has owner o and, when fixMode, mode perm and
// no set-id or sticky bit: what setOwner would leave unchanged.
func ownedAs(st *unix.Stat_t, perm os.FileMode, o Owner, fixMode bool) bool {
	if uid, gid := o.ids(); uid != st.Uid || gid != st.Gid {
		return false
	}
	return !fixMode || (os.FileMode(st.Mode)&os.ModePerm == perm.Perm() && st.Mode&(unix.S_ISUID|unix.S_ISGID|unix.S_ISVTX) == 0)
}

// FixDir gives an existing subdirectory owner and perm, as MakeDir does,
// and does nothing when there is none. One that is right already costs
// one fstatat.
func (d *Dir) FixDir(name string, perm os.FileMode, o Owner) error {
	if err := checkName(name); err != nil {
		return err
	}
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) || (err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && ownedAs(&st, perm, o, true)) {
		return nil
	}
	sub, err := d.OpenDir(name)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer sub.Close()
	return setOwner(sub.fd, sub.path, perm, o)
}

// Fix gives d itself owner and perm, as MakeDir does.
func (d *Dir) Fix(perm os.FileMode, o Owner) error { return setOwner(d.fd, d.path, perm, o) }

// Fresh reports whether MakeDir or GiveDir created the directory: then
// nothing is in it yet.
func (d *Dir) Fresh() bool { return d.fresh }

// MakeDirs opens the directory rel (slash-separated components, at least
// one) below d, creating what is missing, as MakeDir does for each.
func (d *Dir) MakeDirs(rel string, perm os.FileMode, o Owner) (*Dir, error) {
	at := d
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." {
			continue
		}
		next, err := at.MakeDir(c, perm, o)
		if at != d {
			at.Close()
		}
		if err != nil {
			return nil, err
		}
		at = next
	}
	if at == d {
		return nil, fmt.Errorf("no directory in %q", rel)
	}
	return at, nil
}

// setOwner chowns and chmods through fd, and only when they differ, so
// that an unchanged tree costs one fstat. perm 0 leaves the mode alone.
func setOwner(fd int, path string, perm os.FileMode, o Owner) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if uid, gid := o.ids(); uid != st.Uid || gid != st.Gid {
		if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
			return &os.PathError{Op: "chown", Path: path, Err: err}
		}
	}
	if perm == 0 {
		return nil // leave the mode as it is
	}
	if os.FileMode(st.Mode)&os.ModePerm != perm.Perm() || st.Mode&(unix.S_ISUID|unix.S_ISGID|unix.S_ISVTX) != 0 {
		if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
			return &os.PathError{Op: "chmod", Path: path, Err: err}
		}
	}
	return nil
}

// maxRead bounds ReadFile: what it reads are rendered files and gossiped
// files, all far smaller.
const maxRead = 16 << 20

// ReadFile returns the content of the regular file name, and whether it
// already has owner and perm, so a writer can leave a file that is right
// as it is. A link, a FIFO or a file with another hard link reads as
// missing (fs.ErrNotExist): WriteFile replaces it.
func (d *Dir) ReadFile(name string, perm os.FileMode, o Owner) (data []byte, ownedRight bool, err error) {
	if err := checkName(name); err != nil {
		return nil, false, err
	}
	fd, st, err := d.openRegular(name, unix.O_RDONLY, 0)
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(fd)
	if st.Size > maxRead {
		return nil, false, os.ErrNotExist
	}
	// One read: the file is tend's own, not growing, and its size is
	// known. The descriptor stays raw: an os.File costs system calls of
	// its own, and every start reads each rendered file.
	data = make([]byte, st.Size)
	n := 0
	for n < len(data) {
		m, err := ignoringEINTR(func() (int, error) { return unix.Read(fd, data[n:]) })
		if err != nil {
			return nil, false, &os.PathError{Op: "read", Path: d.join(name), Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return data[:n], owns(st, perm, o), nil
}

func owns(st *unix.Stat_t, perm os.FileMode, o Owner) bool {
	uid, gid := o.ids()
	return st.Uid == uid && st.Gid == gid && st.Mode&0o7777 == uint32(perm.Perm())
}

// openRegular opens name without following a link or blocking on a FIFO,
// and accepts only a regular file with no other hard link: anything else
// is reported as missing, for the caller to replace. O_NONBLOCK stays set;
// it changes nothing for a regular file.
func (d *Dir) openRegular(name string, flags int, perm os.FileMode) (int, *unix.Stat_t, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Openat(d.fd, name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(perm.Perm()))
	})
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENXIO) || errors.Is(err, unix.EISDIR) {
		return -1, nil, os.ErrNotExist
	}
	if err != nil {
		return -1, nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, &os.PathError{Op: "stat", Path: d.join(name), Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		unix.Close(fd)
		return -1, nil, os.ErrNotExist
	}
	return fd, &st, nil
}

// openChecked is openRegular as an os.File, in blocking mode as Go
// expects of a file it did not open itself.
func (d *Dir) openChecked(name string, flags int, perm os.FileMode) (*os.File, *unix.Stat_t, error) {
	fd, st, err := d.openRegular(name, flags, perm)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil, &os.PathError{Op: "fcntl", Path: d.join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.join(name)), st, nil
}

// WriteFile replaces name with a new file holding data, owned by o with
// mode perm: created under a fresh temporary name (O_EXCL, so nothing
// planted there is opened), chowned and chmodded through its descriptor,
// then renamed over name, which replaces a link rather than following it.
// A reader sees the old file or the new one whole. No fsync: callers
// write derived files, rebuilt at every start.
func (d *Dir) WriteFile(name string, data []byte, perm os.FileMode, o Owner) error {
	if err := checkName(name); err != nil {
		return err
	}
	f, tmp, err := d.createTemp(name, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = setOwner(int(f.Fd()), d.join(name), perm, o)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.Rename(tmp, name)
	}
	if err != nil {
		unix.Unlinkat(d.fd, tmp, 0)
		return fmt.Errorf("write %s: %w", d.join(name), err)
	}
	return nil
}

// tempPrefix starts every temporary name, so they are told from the files
// a package renders.
const tempPrefix = ".tend-"

// createTemp creates a new empty file under a random name next to name,
// with perm (less the umask) until the caller sets the exact mode.
func (d *Dir) createTemp(name string, perm os.FileMode) (*os.File, string, error) {
	var b [8]byte
	for range 10 {
		rand.Read(b[:])
		tmp := tempPrefix + hex.EncodeToString(b[:]) + ".tmp"
		fd, err := ignoringEINTR(func() (int, error) {
			return unix.Openat(d.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		})
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, "", &os.PathError{Op: "create", Path: d.join(tmp), Err: err}
		}
		return os.NewFile(uintptr(fd), d.join(tmp)), tmp, nil
	}
	return nil, "", fmt.Errorf("create a temporary file for %s: names taken", d.join(name))
}

// Rename moves old to new within d; new, if there, is replaced (a link
// itself, not what it names).
func (d *Dir) Rename(old, new string) error {
	if err := unix.Renameat(d.fd, old, d.fd, new); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(old), New: d.join(new), Err: err}
	}
	return nil
}

// Remove unlinks the file name; a missing file is not an error.
func (d *Dir) Remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// OpenAppend opens the regular file name for appending, creating it if
// missing, and gives it owner and perm through its descriptor; truncate
// empties it (through the descriptor too). A link, a FIFO, a directory or
// a file with another hard link in its place is removed and a new file
// made: what a service planted is never opened. It returns the file's
// size.
func (d *Dir) OpenAppend(name string, perm os.FileMode, o Owner, truncate bool) (*os.File, int64, error) {
	if err := checkName(name); err != nil {
		return nil, 0, err
	}
	f, st, err := d.openChecked(name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT, perm)
	if errors.Is(err, os.ErrNotExist) {
		// Something not ours is there; a directory cannot be unlinked
		// and then the create below fails, which is what we want.
		if rerr := d.Remove(name); rerr != nil {
			return nil, 0, rerr
		}
		fd, cerr := ignoringEINTR(func() (int, error) {
			return unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		})
		if cerr != nil {
			return nil, 0, &os.PathError{Op: "create", Path: d.join(name), Err: cerr}
		}
		f, st = os.NewFile(uintptr(fd), d.join(name)), &unix.Stat_t{}
		err = nil
	}
	if err != nil {
		return nil, 0, err
	}
	size := st.Size
	if truncate && size > 0 {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("truncate %s: %w", d.join(name), err)
		}
		size = 0
	}
	if err := setOwner(int(f.Fd()), d.join(name), perm, o); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// SyncDir fsyncs the directory at path, so the entries made or renamed in
// it survive a crash.
func SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
