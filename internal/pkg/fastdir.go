package pkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// The fast read goes through bare descriptors with system calls of its
// own, where os.Root and os.File spend more calls than a package needs: an
// epoll_ctl that fails for every file or directory opened (the runtime
// tries to add it to the netpoller), an fstat for every directory opened
// as a root, a fresh descriptor for every listing and a second read for
// every file to see its end. A restart reads every start-up package, so
// this is most of the supervisor's work before the services start.
//
// It does only what cannot go wrong: every name is one component from a
// listing, opened with O_NOFOLLOW, so nothing it opens is outside the
// package; anything else (a symlink, a directory or FIFO or device where a
// file belongs, a file where a directory belongs, a listing that does not
// tell entry types, any error of the system) ends it with errSlow, and the
// package is read again through os.Root, whose checks and messages are the
// reader's (reader.go). So a package that reads fast is read exactly as
// os.Root would read it, and one that does not is read by os.Root.

// errSlow ends a fast read: the package needs os.Root.
var errSlow = errors.New("package needs the os.Root reader")

// fastFileFlags opens a package file: O_NOFOLLOW makes a symlink fail
// (ELOOP) rather than be followed, O_NONBLOCK keeps a FIFO from blocking the
// open.
const fastFileFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOFOLLOW | unix.O_CLOEXEC

// fastDirFlags opens a package directory; a symlink fails (ELOOP or
// ENOTDIR), and so does anything that is not a directory.
const fastDirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// direntBufSize is the buffer getdents fills: a package's top level fits,
// a larger directory takes more calls.
const direntBufSize = 4096

// dirent is one entry of a listing: its name and its type (unix.DT_*).
type dirent struct {
	name string
	typ  uint8
}

// fastOpenDir opens the directory name in the directory dirfd.
func fastOpenDir(dirfd int, name string) (int, error) {
	fd, err := unix.Openat(dirfd, name, fastDirFlags, 0)
	if err != nil {
		return -1, errSlow
	}
	return fd, nil
}

// fastList lists the directory fd is open on, which must not have been
// listed before. Like os.File.ReadDir it leaves out "." and ".." and
// entries without an inode.
func fastList(fd int) ([]dirent, error) {
	var buf [direntBufSize]byte // on the stack: it does not escape
	var out []dirent
	for {
		n, err := unix.Getdents(fd, buf[:])
		if err != nil {
			return nil, errSlow
		}
		if n <= 0 {
			return out, nil
		}
		// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
		// d_type u8, d_name NUL-terminated.
		for b := buf[:n]; len(b) > 0; {
			if len(b) < 19 {
				return nil, errSlow
			}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return nil, errSlow
			}
			ino := binary.NativeEndian.Uint64(b[0:8])
			typ := b[18]
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			out = append(out, dirent{name: string(name), typ: typ})
		}
	}
}

// fastReadFile reads the regular file name in the directory dirfd.
func fastReadFile(dirfd int, name string) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, fastFileFlags, 0)
	if err != nil {
		return nil, errSlow
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errSlow
	}
	return fastReadAll(fd, st.Size)
}

// fastReadAll reads fd, a regular file whose size was size, to its end.
// The buffer has a byte more than size: a read that returns size bytes
// without filling it has met the end (a regular file is only read short at
// its end), so a file whose size was right takes one read, not two.
func fastReadAll(fd int, size int64) ([]byte, error) {
	data := make([]byte, max(size, 0)+1)
	n := 0
	for {
		m, err := unix.Read(fd, data[n:])
		if err != nil {
			return nil, errSlow
		}
		n += m
		if m == 0 || (int64(n) == size && n < len(data)) {
			return data[:n:n], nil
		}
		if n == len(data) {
			// It grew since the fstat.
			data = slices.Grow(data, len(data))
			data = data[:cap(data)]
		}
	}
}

// fastSubdirs is subdirs through a bare descriptor, or errSlow where
// os.ReadDir is needed: for its errors, and for entries whose type the
// listing does not tell (it lstats them).
func fastSubdirs(dir string) ([]string, error) {
	fd, err := unix.Open(dir, fastDirFlags&^unix.O_NOFOLLOW, 0)
	if err == unix.ENOENT || err == unix.ENOTDIR {
		return nil, nil
	}
	if err != nil {
		return nil, errSlow
	}
	defer unix.Close(fd)
	ents, err := fastList(fd)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		switch e.typ {
		case unix.DT_DIR:
			names = append(names, e.name)
		case unix.DT_UNKNOWN:
			return nil, errSlow
		}
	}
	slices.Sort(names)
	return names, nil
}
