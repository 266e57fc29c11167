package manager

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watcher tells the manager when a service's user.toml
// (ROOT/user/NAME/config/user.toml) changes. The manager depends on this
// much only, so that its tests can say what changed: the inotify watcher
// waits in the kernel, where a testing/synctest bubble cannot wait for it.
type Watcher interface {
	// Run calls changed with the service's name after each change to its
	// user.toml, until Close.
	Run(changed func(name string))
	// Add watches the user.toml of the service name; Remove stops.
	Add(name string)
	Remove(name string)
	// Close ends Run; it may be called more than once.
	Close()
}

// NewWatcherFunc makes the Watcher of the user.toml files under dir
// (ROOT/user); loaded reports whether a service of a name is loaded.
type NewWatcherFunc func(log *slog.Logger, dir string, loaded func(name string) bool) (Watcher, error)

// watcher is the Watcher of `sup run`, through inotify: no polling, so an
// idle supervisor uses no CPU however many services it has. It watches
// ROOT/user itself, and below it only the directories that exist, adding
// watches as an operator creates them, so loading a service creates no
// directories of its own there.
type watcher struct {
	log    *slog.Logger
	root   string            // ROOT/user
	loaded func(string) bool // is a service of this name loaded?
	f      *os.File
	mu     sync.Mutex
	wds    map[int32]target // watch descriptor -> what it watches
	by     map[string]int32 // path -> watch descriptor
}

// target is one watched directory: ROOT/user (svc ""), ROOT/user/NAME
// (config false) or ROOT/user/NAME/config (config true).
type target struct {
	svc    string
	config bool
}

// InotifyWatcher is the Watcher of `sup run` (Config.NewWatcher). It
// creates dir; when it cannot watch it, it says so and sees only the
// services whose directories exist when they are loaded.
// Without an inotify instance to be had, it polls (pollWatcher).
func InotifyWatcher(log *slog.Logger, dir string, loaded func(string) bool) (Watcher, error) {
	return inotifyOrPoll(log, dir, loaded, func() (int, error) {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			return -1, fmt.Errorf("inotify: %w", err)
		}
		return fd, nil
	})
}

func newInotifyWatcher(log *slog.Logger, dir string, loaded func(string) bool, fd int) *watcher {
	// A non-blocking fd in an *os.File waits in the runtime's poller, and
	// Close wakes a pending Read: that is how Run is stopped.
	w := &watcher{
		log: log, root: dir, loaded: loaded,
		f:   os.NewFile(uintptr(fd), "inotify"),
		wds: map[int32]target{}, by: map[string]int32{},
	}
	if err := w.watchRoot(); err != nil {
		log.Warn("new user.toml files will not be seen", "err", err)
	}
	return w
}

const watchMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_CREATE

func (w *watcher) addWatch(dir string, t target) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	var wd int
	var aerr error
	rc.Control(func(fd uintptr) { wd, aerr = unix.InotifyAddWatch(int(fd), dir, watchMask) })
	if aerr != nil {
		return fmt.Errorf("watch %s: %w", dir, aerr)
	}
	w.mu.Lock()
	w.wds[int32(wd)] = t
	w.by[dir] = int32(wd)
	w.mu.Unlock()
	return nil
}

// watchRoot watches ROOT/user, the one directory the watcher creates.
func (w *watcher) watchRoot() error {
	if err := os.MkdirAll(w.root, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", w.root, err)
	}
	return w.addWatch(w.root, target{})
}

// Add watches what exists of ROOT/user/NAME/config.
func (w *watcher) Add(name string) { w.add(name) }

// add is Add; it reports whether a user.toml may already be there (the
// caller re-reads config then).
func (w *watcher) add(name string) bool {
	dir := filepath.Join(w.root, name)
	if err := w.addWatch(dir, target{svc: name}); err != nil {
		return false // not there yet: the ROOT/user watch sees it appear
	}
	if err := w.addWatch(filepath.Join(dir, "config"), target{svc: name, config: true}); err != nil {
		return false
	}
	return true
}

func (w *watcher) Remove(name string) {
	dir := filepath.Join(w.root, name)
	for _, p := range []string{filepath.Join(dir, "config"), dir} {
		w.mu.Lock()
		wd, ok := w.by[p]
		delete(w.by, p)
		delete(w.wds, wd)
		w.mu.Unlock()
		if !ok {
			continue
		}
		if rc, err := w.f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.InotifyRmWatch(int(fd), uint32(wd)) })
		}
	}
}

// Run calls changed with the service name for every change to a user.toml
// until Close.
func (w *watcher) Run(changed func(name string)) {
	buf := make([]byte, 16*1024)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				w.log.Error("config watcher stopped", "err", err)
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(trimNUL(buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			w.mu.Lock()
			t, ok := w.wds[ev.Wd]
			w.mu.Unlock()
			if !ok {
				continue
			}
			created := ev.Mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 && ev.Mask&unix.IN_ISDIR != 0
			switch {
			case t.svc == "" && created && w.loaded(name):
				// ROOT/user/NAME appeared; its config may already be there
				// too (mkdir -p races the watch), so look and re-read.
				if w.add(name) {
					changed(name)
				}
			case t.svc != "" && !t.config && created && name == "config":
				if err := w.addWatch(filepath.Join(w.root, t.svc, "config"), target{svc: t.svc, config: true}); err == nil {
					changed(t.svc)
				}
			case t.config && name == "user.toml":
				changed(t.svc)
			}
		}
	}
}

func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func (w *watcher) Close() { w.f.Close() }

func (m *Manager) watchUser(name string) {
	if m.watch != nil {
		m.watch.Add(name)
	}
}

func (m *Manager) unwatchUser(name string) {
	if m.watch != nil {
		m.watch.Remove(name)
	}
}

// userConfigChanged re-renders a service after its user.toml changed.
// It never waits for the runner: one busy in a hook must not hold up the
// watcher, which serves every service.
func (m *Manager) userConfigChanged(name string) {
	if e := m.current(name); e != nil && e.runner != nil {
		e.runner.Reconfigure()
	}
}
