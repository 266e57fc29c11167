// Package store writes the supervisor's own state: spec files, the member id,
// the lock. Every file is written whole or not at all: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A supervisor killed
// with SIGKILL at any instant leaves either the old or the new file.
package store

import (
	"fmt"
	"os"
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
		f, err := os.CreateTemp(dir, "."+name+".tmp*")
		if err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
		tmps[name] = f.Name()
		_, werr := f.Write(data)
		if werr == nil {
			werr = f.Chmod(perm)
		}
		if werr == nil && len(files) == 1 {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
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

// CleanTemps removes temporary files a killed writer left in dir.
func CleanTemps(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	for _, m := range matches {
		os.Remove(m)
	}
}
