// Package logfile writes a service's log files: each rotated by size as
// supervisord's logfile_maxbytes and logfile_backups do (NAME, NAME.1 …
// NAME.N, oldest last), and fed through a bounded queue that a goroutine
// of its own drains, so that a slow disk never holds up the goroutine
// that delivers every service's output.
package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tend-sh/tend/internal/safefs"
)

// Limits bound one log file.
type Limits struct {
	// MaxBytes is the size at which the file is rotated; 0 never rotates.
	MaxBytes int64
	// Backups is how many rotated files are kept; 0 empties the file
	// when it is full.
	Backups int
}

// Defaults are supervisord's: 10 MiB, 5 kept.
var Defaults = Limits{MaxBytes: 10 << 20, Backups: 5}

// file is the open log file as the rotator needs it; tests fake it to
// block or fail.
type file interface {
	io.Writer
	Truncate(size int64) error
	Close() error
}

// dir is the directory the log files live in, as the rotator needs it.
type dir interface {
	// open opens name for appending (creating it), emptied if truncate,
	// and returns its size.
	open(name string, truncate bool) (file, int64, error)
	rename(old, new string) error
}

// Rotator appends to one log file, rotating it by size. It opens the file
// on the first write; it is not safe for concurrent use.
type Rotator struct {
	dir      dir
	name     string
	lim      Limits
	truncate bool // the first open empties the file

	f    file
	size int64
	err  error // the open failed: the file is given up on
}

// Options describe one log file.
type Options struct {
	Dir, Name string
	Perm      os.FileMode
	Owner     safefs.Owner
	Limits    Limits
	// Truncate empties the file when it is first opened: a hook's log
	// holds its latest run.
	Truncate bool
	// MakeDir creates Dir (0755, the supervisor's) if it is missing.
	MakeDir bool
}

// NewRotator returns a rotator of the file o describes. It does no I/O.
func NewRotator(o Options) *Rotator {
	return &Rotator{dir: &osDir{path: o.Dir, perm: o.Perm, owner: o.Owner, mkdir: o.MakeDir},
		name: o.Name, lim: o.Limits, truncate: o.Truncate}
}

// Open opens the file now rather than at the first write.
func (r *Rotator) Open() error {
	if r.f != nil || r.err != nil {
		return r.err
	}
	r.f, r.size, r.err = r.dir.open(r.name, r.truncate)
	if r.err != nil {
		r.f = nil
	}
	r.truncate = false
	return r.err
}

// Write appends whole lines, rotating between two lines when the next
// one would take the file past MaxBytes. Only a line longer than
// MaxBytes is split, so no file ever holds more.
func (r *Rotator) Write(b []byte) (int, error) {
	if err := r.Open(); err != nil {
		return 0, err
	}
	total := len(b)
	for len(b) > 0 {
		n := len(b)
		if max := r.lim.MaxBytes; max > 0 && r.size+int64(n) > max {
			n = 0
			if room := max - r.size; room > 0 {
				n = bytes.LastIndexByte(b[:room], '\n') + 1
				if n == 0 && r.size == 0 {
					n = int(room) // one line longer than a whole file
				}
			}
			if n == 0 {
				if err := r.rotate(); err != nil {
					return total - len(b), err
				}
				continue
			}
		}
		w, err := r.f.Write(b[:n])
		r.size += int64(w)
		b = b[w:]
		if err != nil {
			return total - len(b), fmt.Errorf("log %s: %w", r.name, err)
		}
	}
	return total, nil
}

// rotate shifts NAME.i to NAME.i+1 from the oldest down, NAME to NAME.1,
// and opens a new NAME; each rename replaces the file it lands on, so
// NAME.N drops out. With no backups the file is emptied in place.
func (r *Rotator) rotate() error {
	if r.lim.Backups == 0 {
		if err := r.f.Truncate(0); err != nil {
			return fmt.Errorf("log %s: empty: %w", r.name, err)
		}
		r.size = 0
		return nil
	}
	for i := r.lim.Backups - 1; i >= 1; i-- {
		if err := r.dir.rename(backup(r.name, i), backup(r.name, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("log %s: rotate: %w", r.name, err)
		}
	}
	if err := r.dir.rename(r.name, backup(r.name, 1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("log %s: rotate: %w", r.name, err)
	}
	r.f.Close()
	r.f, r.size = nil, 0
	f, size, err := r.dir.open(r.name, true)
	if err != nil {
		r.err = err
		return err
	}
	r.f, r.size = f, size
	return nil
}

func backup(name string, i int) string { return name + "." + strconv.Itoa(i) }

// Close closes the file; a later write opens it again.
func (r *Rotator) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// osDir opens the log directory by path for each operation: a log file
// holds a descriptor while it is open, the directory only for a moment.
type osDir struct {
	path  string
	perm  os.FileMode
	owner safefs.Owner
	mkdir bool
}

func (d *osDir) open(name string, truncate bool) (file, int64, error) {
	dd, err := safefs.Open(d.path)
	if d.mkdir && errors.Is(err, os.ErrNotExist) {
		// logs/ is made on first use: a new inode is the dearest part of a
		// service's first start. It is the supervisor's, like the files.
		dd, err = makeDir(d.path)
	}
	if err != nil {
		return nil, 0, err
	}
	defer dd.Close()
	f, size, err := dd.OpenAppend(name, d.perm, d.owner, truncate)
	if err != nil {
		return nil, 0, err
	}
	return f, size, nil
}

func (d *osDir) rename(old, new string) error {
	dd, err := safefs.Open(d.path)
	if err != nil {
		return err
	}
	defer dd.Close()
	return dd.Rename(old, new)
}

// makeDir creates the directory at path, mode 0755, owned by the
// supervisor, and opens it.
func makeDir(path string) (*safefs.Dir, error) {
	parent, err := safefs.Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return parent.MakeDir(filepath.Base(path), 0o755, safefs.Self)
}
