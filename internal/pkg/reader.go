package pkg

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tend-sh/tend/internal/tmpl"
)

// reader reads the files of one package directory through top, knowing
// from a single directory listing which top-level files exist. A fast
// reader goes through bare descriptors and gives up with errSlow where an
// os.Root one would have more to check (fastdir.go).
type reader struct {
	dir   string // absolute path, for messages
	top   dir    // the package directory
	fast  bool
	names map[string]bool
}

// dir is a directory of the package: an os.Root, or for a fast reader a
// bare descriptor.
type dir struct {
	root *os.Root
	fd   int
}

func (d dir) close() {
	if d.root != nil {
		d.root.Close()
		return
	}
	unix.Close(d.fd)
}

// openFlags opens package files. O_NONBLOCK keeps a FIFO from blocking the
// open (it is refused after fstat), is ignored by regular files, and spares
// the runtime two fcntl calls per file on Linux.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// msgIsDir is what a file that is a directory gets.
const msgIsDir = "is a directory, expected a file"

// path is the absolute path of rel, a slash-separated path in the package.
func (r *reader) path(rel string) string { return filepath.Join(r.dir, filepath.FromSlash(rel)) }

// list returns the names in the directory dir is open on; where is its path,
// for messages. Names only: File.ReadDir in an os.Root would lstat every
// entry, and an installed package has many that Read never looks at.
func (r *reader) list(d dir, where string) ([]string, error) {
	if r.fast {
		ents, err := fastList(d.fd)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(ents))
		for i, e := range ents {
			names[i] = e.name
		}
		return names, nil
	}
	f, err := d.root.OpenFile(".", openFlags, 0)
	if err != nil {
		return nil, ioError(where, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, ioError(where, err)
	}
	return names, nil
}

// file returns the contents of the top-level file name, and false if the
// package has none.
func (r *reader) file(name string) ([]byte, bool, error) {
	if !r.names[name] {
		return nil, false, nil
	}
	data, err := r.readFile(r.top, name, name)
	return data, err == nil, err
}

// parse hands the top-level file name to fn, if the package has it.
func (r *reader) parse(name string, fn func(file string, data []byte) error) error {
	data, ok, err := r.file(name)
	if err != nil || !ok {
		return err
	}
	return fn(r.path(name), data)
}

// subDir opens the top-level directory name, or returns false if the
// package has none.
func (r *reader) subDir(name string) (dir, bool, error) {
	if !r.names[name] {
		return dir{}, false, nil
	}
	if r.fast {
		fd, err := fastOpenDir(r.top.fd, name)
		return dir{fd: fd}, err == nil, err
	}
	sub, err := r.top.root.OpenRoot(name)
	if err != nil {
		// Only now find out why: OpenRoot says "not a directory" without a
		// system error to match.
		if fi, serr := r.top.root.Stat(name); serr == nil && !fi.IsDir() {
			return dir{}, false, malformed(r.path(name), 0, "expected a directory")
		}
		return dir{}, false, r.openError(name, err)
	}
	return dir{root: sub}, true, nil
}

// readFile reads the file name in dir, which is at rel (slash-separated) in
// the package. Only a regular file, or a symlink to one inside the package,
// will do: a directory is a mistake, and reading a FIFO or a device could
// block or never end.
func (r *reader) readFile(d dir, name, rel string) ([]byte, error) {
	if r.fast {
		return fastReadFile(d.fd, name)
	}
	f, err := d.root.OpenFile(name, openFlags, 0)
	if err != nil && d.root != r.top.root && isEscape(err) {
		// The link leaves the subdirectory; it may still stay in the package.
		f, err = r.top.root.OpenFile(rel, openFlags, 0)
	}
	if err != nil {
		return nil, r.openError(rel, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, ioError(r.path(rel), err)
	}
	switch {
	case fi.IsDir():
		return nil, malformed(r.path(rel), 0, msgIsDir)
	case !fi.Mode().IsRegular():
		return nil, malformed(r.path(rel), 0, "is not a regular file")
	}
	data, err := readAll(f, fi.Size())
	if err != nil {
		return nil, ioError(r.path(rel), err)
	}
	return data, nil
}

// readAll reads f, whose size is probably size, as os.ReadFile does.
func readAll(f *os.File, size int64) ([]byte, error) {
	// One byte more than the size, so no buffer grows when the size was
	// right. os.File still reads once more to see io.EOF (it returns
	// none with data); fastReadAll does not.
	data := make([]byte, 0, max(size+1, 512))
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// isEscape reports whether an os.Root open failed because the path, through
// a symlink, leads out of the root. The os package has no sentinel for
// this; its error is the one that is not a system error.
func isEscape(err error) bool {
	var errno syscall.Errno
	return !errors.As(err, &errno)
}

// openError explains why the entry at rel, which the listing showed, could
// not be opened. Only a symlink can make an existing name unopenable for
// reasons of its own (dangling, looping, leading outside the package);
// anything else is an I/O error.
func (r *reader) openError(rel string, err error) error {
	if isEscape(err) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
		var pe *fs.PathError
		inner := err
		if errors.As(err, &pe) {
			inner = pe.Err
		}
		return &MalformedError{File: r.path(rel), Msg: fmt.Sprintf("is a symlink that does not lead to a file inside the package (%v)", inner), Err: err}
	}
	return ioError(r.path(rel), err)
}

// ioError reports a failure to read a package file under its full path
// (os.Root errors name only the path inside the root).
func ioError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return fmt.Errorf("read package: %w", err)
}

// hooks reads hooks/ and the plain run file standing in for hooks/run.
func (r *reader) hooks() (map[string]string, error) {
	hooks := map[string]string{}
	sub, ok, err := r.subDir("hooks")
	if err != nil {
		return nil, err
	}
	if ok {
		defer sub.close()
		names, err := r.list(sub, r.path("hooks"))
		if err != nil {
			return nil, err
		}
		slices.Sort(names) // the same error first, every time
		for _, name := range names {
			rel := "hooks/" + name
			hook := name
			if current, ok := deprecatedHooks[name]; ok {
				if slices.Contains(names, current) {
					continue // the current spelling wins
				}
				hook = current
			} else if !hookNames[name] {
				return nil, malformed(r.path(rel), 0, "unknown hook %q (known hooks: %s)", name, knownHooks)
			}
			src, err := r.template(sub, name, rel)
			if err != nil {
				return nil, err
			}
			hooks[hook] = src
		}
	}
	runPath := r.path("hooks/run")
	if _, ok := hooks["run"]; !ok {
		if !r.names["run"] {
			return nil, malformed(runPath, 0, "missing: a service needs a run hook (hooks/run, or a plain run file)")
		}
		src, err := r.template(r.top, "run", "run")
		if err != nil {
			return nil, err
		}
		hooks["run"], runPath = src, r.path("run")
	}
	if strings.TrimSpace(hooks["run"]) == "" {
		return nil, malformed(runPath, 0, "run hook is empty")
	}
	return hooks, nil
}

// config reads every file under config/, at any depth.
func (r *reader) config() (map[string]string, error) {
	sub, ok, err := r.subDir("config")
	if err != nil || !ok {
		return nil, err
	}
	defer sub.close()
	out := map[string]string{}
	if err := r.walkConfig(sub, "", out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// walkConfig adds the files of the directory dir, at rel inside config/,
// to out, and descends into its subdirectories.
func (r *reader) walkConfig(d dir, rel string, out map[string]string) error {
	if r.fast {
		return r.walkConfigFast(d, rel, out)
	}
	where := path.Join("config", rel)
	f, err := d.root.OpenFile(".", openFlags, 0)
	if err != nil {
		return ioError(r.path(where), err)
	}
	// Here the types are needed, so the lstat of each entry is not wasted.
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return ioError(r.path(where), err)
	}
	for _, e := range entries {
		key := path.Join(rel, e.Name())
		pkgRel := path.Join("config", key)
		if e.IsDir() {
			sub, err := d.root.OpenRoot(e.Name())
			if err != nil {
				return r.openError(pkgRel, err)
			}
			err = r.walkConfig(dir{root: sub}, key, out)
			sub.Close()
			if err != nil {
				return err
			}
			continue
		}
		src, err := r.template(d, e.Name(), pkgRel)
		var me *MalformedError
		if e.Type()&fs.ModeSymlink != 0 && errors.As(err, &me) && me.Msg == msgIsDir {
			// Following a linked directory could loop; refuse it rather
			// than skip it silently.
			me.Msg = "is a symlink to a directory; config/ may only link files"
		}
		if err != nil {
			return err
		}
		out[key] = src
	}
	return nil
}

// template reads the file name in dir, at rel in the package, as a
// template source: a file no template can be (tmpl.CheckSource), such as a
// program copied in as hooks/run, is refused here, at pkg install and svc
// load, with where it stops being text.
func (r *reader) template(d dir, name, rel string) (string, error) {
	data, err := r.readFile(d, name, rel)
	if err != nil {
		return "", err
	}
	src := string(data)
	if se := tmpl.CheckSource(src); se != nil {
		return "", &MalformedError{File: r.path(rel), Line: se.Line, Msg: se.Msg, Err: se}
	}
	return src, nil
}

// walkConfigFast is walkConfig for a fast reader, in the same order (the
// listing's): it takes the entry types from the listing, and leaves
// anything but files and directories (symlinks above all) to os.Root.
func (r *reader) walkConfigFast(d dir, rel string, out map[string]string) error {
	ents, err := fastList(d.fd)
	if err != nil {
		return err
	}
	for _, e := range ents {
		key := path.Join(rel, e.name)
		switch e.typ {
		case unix.DT_DIR:
			fd, err := fastOpenDir(d.fd, e.name)
			if err != nil {
				return err
			}
			err = r.walkConfigFast(dir{fd: fd}, key, out)
			unix.Close(fd)
			if err != nil {
				return err
			}
		case unix.DT_REG:
			src, err := r.template(d, e.name, path.Join("config", key))
			if err != nil {
				return err
			}
			out[key] = src
		default:
			return errSlow
		}
	}
	return nil
}
