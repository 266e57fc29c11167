// Package store writes the supervisor's own state: spec files, the member id,
// the lock. Every file is written whole or not at all: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A supervisor killed
// with SIGKILL at any instant leaves either the old or the new file.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFile replaces path atomically and durably.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFiles(filepath.Dir(path), map[string][]byte{filepath.Base(path): data}, perm)
}

// WriteFiles replaces several files of one directory atomically each and
// durably all: the temporary files are flushed with one syncfs instead of one
// fsync per file, so loading 500 services costs one disk flush, not 500.
func WriteFiles(dir string, files map[string][]byte, perm os.FileMode) (err error) {
	if len(files) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmps := make(map[string]string, len(files))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	for name, data := range files {
		fd, tmp, err := createTemp(dir, name)
		if err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
		tmps[name] = tmp
		werr := writeAll(fd, data)
		if werr == nil {
			werr = unix.Fchmod(fd, uint32(perm.Perm()))
		}
		if werr == nil && len(files) == 1 {
			werr = unix.Fsync(fd)
		}
		if cerr := unix.Close(fd); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), werr)
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if len(files) > 1 {
		if err := unix.Syncfs(int(d.Fd())); err != nil {
			return fmt.Errorf("sync %s: %w", dir, err)
		}
	}
	for name, tmp := range tmps {
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
	}
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// createTemp creates .NAME.tmpRANDOM in dir (the pattern IsTemp
// removes), new (O_EXCL), with a bare openat: os.CreateTemp's os.File
// adds four fcntls and an epoll_ctl, for each of the 500 spec files a
// fresh start-up writes.
func createTemp(dir, name string) (fd int, path string, err error) {
	var b [6]byte
	for range 100 {
		rand.Read(b[:])
		path = filepath.Join(dir, "."+name+".tmp"+hex.EncodeToString(b[:]))
		fd, err = retry(func() (int, error) {
			return unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		})
		if err == nil {
			return fd, path, nil
		}
		if err != unix.EEXIST {
			return -1, "", &os.PathError{Op: "create", Path: path, Err: err}
		}
	}
	return -1, "", fmt.Errorf("create a temporary file for %s: names taken", filepath.Join(dir, name))
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := retry(func() (int, error) { return unix.Write(fd, data) })
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		data = data[n:]
	}
	return nil
}

// Remove deletes path durably; a missing file is not an error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Dir(path), err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

// IsTemp reports whether name is a temporary file of WriteFiles (what a
// killed writer leaves behind): .NAME.tmpRANDOM.
func IsTemp(name string) bool {
	ok, _ := path.Match(".*.tmp*", name)
	return ok
}
