package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher tells when a service's user.toml changes, through inotify on each
// ROOT/user/NAME/config directory: no polling, so an idle supervisor uses no
// CPU however many services it has.
type watcher struct {
	log *slog.Logger
	f   *os.File
	mu  sync.Mutex
	wds map[int32]string // watch descriptor -> service name
	by  map[string]int32
}

func newWatcher(log *slog.Logger) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking fd in an *os.File waits in the runtime's poller, and
	// Close wakes a pending Read: that is how run is stopped.
	return &watcher{log: log, f: os.NewFile(uintptr(fd), "inotify"), wds: map[int32]string{}, by: map[string]int32{}}, nil
}

func (w *watcher) add(name, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	var wd int
	var aerr error
	rc.Control(func(fd uintptr) {
		wd, aerr = unix.InotifyAddWatch(int(fd), dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_MOVED_FROM)
	})
	if aerr != nil {
		return fmt.Errorf("watch %s: %w", dir, aerr)
	}
	w.mu.Lock()
	w.wds[int32(wd)] = name
	w.by[name] = int32(wd)
	w.mu.Unlock()
	return nil
}

func (w *watcher) remove(name string) {
	w.mu.Lock()
	wd, ok := w.by[name]
	delete(w.by, name)
	delete(w.wds, wd)
	w.mu.Unlock()
	if !ok {
		return
	}
	if rc, err := w.f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.InotifyRmWatch(int(fd), uint32(wd)) })
	}
}

// run calls changed with the service name for every change to a user.toml
// until close.
func (w *watcher) run(changed func(name string)) {
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
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			file := string(trimNUL(nameBytes))
			if file != "user.toml" {
				continue
			}
			w.mu.Lock()
			svc, ok := w.wds[ev.Wd]
			w.mu.Unlock()
			if ok {
				changed(svc)
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

func (w *watcher) close() { w.f.Close() }

func (m *Manager) watchUser(name string) {
	if m.watch == nil {
		return
	}
	dir := filepath.Join(m.cfg.Root, "user", name, "config")
	if err := m.watch.add(name, dir); err != nil {
		m.log.Warn("user.toml changes will not be seen", "service", name, "err", err)
	}
}

func (m *Manager) unwatchUser(name string) {
	if m.watch != nil {
		m.watch.remove(name)
	}
}

// userConfigChanged re-renders a service after its user.toml changed.
func (m *Manager) userConfigChanged(ctx context.Context, name string) {
	m.mu.Lock()
	e := m.services[name]
	m.mu.Unlock()
	if e == nil || e.runner == nil {
		return
	}
	if err := e.runner.Reconfigure(ctx); err != nil {
		m.log.Debug("reconfigure", "service", name, "err", err)
	}
}
