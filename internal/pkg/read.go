package pkg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pelletier/go-toml/v2"
	"golang.org/x/sys/unix"
)

// Read reads and checks the package in dir.
//
// Every file is read through one handle on dir (a bare descriptor, or an
// os.Root where the package has symlinks or other oddities: fastdir.go),
// and Read starts over if, by the time it has finished, another directory
// has taken dir's place. So a Read racing with Install replacing the package returns
// the old copy or the new one whole, never files from both nor a copy
// half removed. This also means that symlinks among the files Read looks
// at must lead to files inside the package.
//
// Read is called for every installed package when the supervisor starts,
// so it lists the directory once and opens only the files that exist,
// rather than probing for each optional one.
func Read(dir string) (*Package, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	for attempt := 1; ; attempt++ {
		p, opened, err := readOnce(abs)
		var again bool
		if opened == (dirID{}) {
			// Install may be between renaming the old copy aside and the
			// new one in.
			again = errors.Is(err, fs.ErrNotExist)
		} else {
			// Install may have renamed another copy in while this one was
			// read.
			again = replaced(abs, opened)
		}
		if !again {
			return p, err
		}
		// The bound stops a reader chasing a package replaced without end,
		// and gives up on one that is not there.
		if attempt == maxReadAttempts {
			if err == nil {
				err = fmt.Errorf("read package %s: %w %d times while being read", abs, errReplaced, attempt)
			}
			return nil, err
		}
	}
}

// maxReadAttempts bounds how often Read starts over on a package replaced
// while it was being read, or missing.
const maxReadAttempts = 10

// errReplaced is Read giving up on a package replaced on every attempt.
var errReplaced = errors.New("replaced")

// dirID tells a directory from any other: its device and inode numbers.
// The zero dirID is none.
type dirID struct{ dev, ino uint64 }

// idOf is the dirID of what st describes.
func idOf(st *unix.Stat_t) dirID { return dirID{dev: uint64(st.Dev), ino: uint64(st.Ino)} }

// replaced reports whether opened, the directory a read had open, is no
// longer the one at abs. Once Install has renamed a copy aside it never
// comes back, so if it is still in place, nothing was removed from it
// during the read.
func replaced(abs string, opened dirID) bool {
	var st unix.Stat_t
	err := unix.Stat(abs, &st)
	return err != nil || idOf(&st) != opened
}

// readOnce reads the package at abs. It also returns what it opened, or
// the zero dirID if it could not open it or tell what it was. It reads
// fast (fastdir.go) unless the package needs os.Root's checks.
func readOnce(abs string) (*Package, dirID, error) {
	if p, opened, err := readOnceFast(abs); err != errSlow {
		return p, opened, err
	}
	return readOnceRoot(abs)
}

// readOnceRoot is readOnce through an os.Root.
func readOnceRoot(abs string) (*Package, dirID, error) {
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, dirID{}, ioError(abs, err)
	}
	defer root.Close()
	p, err := readPackage(&reader{dir: abs, top: dir{root: root}})
	var opened dirID
	if fi, serr := root.Stat("."); serr == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			opened = dirID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
		}
	}
	return p, opened, err
}

// readOnceFast is readOnce through bare descriptors; errSlow if the
// package needs os.Root.
func readOnceFast(abs string) (*Package, dirID, error) {
	fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, dirID{}, errSlow
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, dirID{}, errSlow
	}
	p, err := readPackage(&reader{dir: abs, top: dir{fd: fd}, fast: true})
	return p, idOf(&st), err
}

// readPackage reads the package r is open on.
func readPackage(r *reader) (*Package, error) {
	abs := r.dir
	names, err := r.list(r.top, abs)
	if err != nil {
		return nil, err
	}
	r.names = make(map[string]bool, len(names))
	for _, n := range names {
		r.names[n] = true
	}
	p := &Package{
		Path:            abs,
		ShutdownSignal:  DefaultShutdownSignal,
		ShutdownTimeout: DefaultShutdownTimeout,
	}

	// IDENT first: without it nothing else is worth reporting.
	data, ok, err := r.file("IDENT")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, malformed(r.path("IDENT"), 0, "missing: a package needs an IDENT file holding origin/name/version/release")
	}
	if p.Ident, err = parseIdentFile(r.path("IDENT"), data); err != nil {
		return nil, err
	}

	if p.Hooks, err = r.hooks(); err != nil {
		return nil, err
	}
	if p.DefaultTOML, err = r.defaultTOML(); err != nil {
		return nil, err
	}
	if p.ConfigTemplates, err = r.config(); err != nil {
		return nil, err
	}

	// The line-based metadata files, each optional.
	if err := r.parse("EXPORTS", func(f string, b []byte) (err error) {
		p.Exports, err = parseExports(f, b)
		return err
	}); err != nil {
		return nil, err
	}
	var bindLines map[string]int
	if err := r.parse("BINDS", func(f string, b []byte) (err error) {
		p.Binds, bindLines, err = parseBinds(f, b)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.parse("BINDS_OPTIONAL", func(f string, b []byte) error {
		opt, lines, err := parseBinds(f, b)
		if err != nil {
			return err
		}
		// Report the first clash in the file, whatever the map order.
		var clash string
		for name, n := range lines {
			if _, dup := bindLines[name]; dup && (clash == "" || n < lines[clash]) {
				clash = name
			}
		}
		if clash != "" {
			return malformed(f, lines[clash], "bind %q is also required in BINDS (line %d)", clash, bindLines[clash])
		}
		p.BindsOptional = opt
		return nil
	}); err != nil {
		return nil, err
	}
	steps := []struct {
		name  string
		parse func(file string, data []byte) error
	}{
		{"EXPOSES", func(f string, b []byte) (err error) { p.Exposes, err = parseExposes(f, b); return err }},
		{"SVC_USER", func(f string, b []byte) (err error) { p.SvcUser, err = parseAccount(f, b); return err }},
		{"SVC_GROUP", func(f string, b []byte) (err error) { p.SvcGroup, err = parseAccount(f, b); return err }},
		{"SHUTDOWN_SIGNAL", func(f string, b []byte) (err error) { p.ShutdownSignal, err = parseSignal(f, b); return err }},
		{"SHUTDOWN_TIMEOUT", func(f string, b []byte) (err error) { p.ShutdownTimeout, err = parseTimeout(f, b); return err }},
		{"RUNTIME_ENVIRONMENT", func(f string, b []byte) (err error) { p.Env, err = parseEnv(f, b); return err }},
		{"DEPS", func(f string, b []byte) (err error) { p.Deps, err = parseDeps(f, b); return err }},
		{"TEMPLATE_DIALECT", func(f string, b []byte) (err error) { p.TemplateDialect, err = parseDialect(f, b); return err }},
		{"NOTIFICATION_FD", func(f string, b []byte) (err error) { p.NotificationFD, err = parseNotificationFD(f, b); return err }},
		{"NOTIFY", func(f string, b []byte) (err error) {
			if p.Notify, err = parseNotify(f, b); err == nil && p.NotificationFD != 0 {
				err = malformed(f, 0, "NOTIFICATION_FD is set too: a service tells it is ready one way")
			}
			return err
		}},
	}
	for _, s := range steps {
		if err := r.parse(s.name, s.parse); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// defaultTOML reads default.toml and checks that it parses, so a typo is
// reported with its line when the package is installed rather than when
// the service is rendered.
func (r *reader) defaultTOML() ([]byte, error) {
	data, ok, err := r.file("default.toml")
	if err != nil || !ok {
		return nil, err
	}
	var v map[string]any
	if err := toml.Unmarshal(data, &v); err != nil {
		file := r.path("default.toml")
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &MalformedError{File: file, Line: line, Msg: fmt.Sprintf("%v (column %d)", de, col), Err: err}
		}
		return nil, &MalformedError{File: file, Msg: err.Error(), Err: err}
	}
	return data, nil
}
