package manager

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// pollEvery is how often the polling watcher looks at the user.toml files.
const pollEvery = 2 * time.Second

// pollWatcher is the Watcher when the kernel gives no inotify instance:
// fs.inotify.max_user_instances is 128 by default, per user, and a host
// running many programs as one user (or 200 supervisors in a benchmark)
// runs out. A supervisor that refused to start for want of one would
// lose every service it runs over a convenience; this one stats each
// loaded service's user.toml every pollEvery instead, one fstatat a
// service, and sees a change within that.
type pollWatcher struct {
	root  string
	every time.Duration
	stop  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	seen map[string]fileStamp // service name -> its user.toml as last seen
}

// fileStamp is what tells a file changed: a rewrite in place moves the
// mtime and size, a rename into place (how editors and tend save) the
// inode.
type fileStamp struct {
	ino, size uint64
	mtime     unix.Timespec
	exists    bool
}

func newPollWatcher(dir string, every time.Duration) *pollWatcher {
	return &pollWatcher{root: dir, every: every, stop: make(chan struct{}), seen: map[string]fileStamp{}}
}

func (w *pollWatcher) stamp(name string) fileStamp {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(w.root, name, "config", "user.toml"), &st); err != nil {
		return fileStamp{}
	}
	return fileStamp{ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim, exists: true}
}

func (w *pollWatcher) Add(name string) {
	s := w.stamp(name)
	w.mu.Lock()
	w.seen[name] = s
	w.mu.Unlock()
}

func (w *pollWatcher) Remove(name string) {
	w.mu.Lock()
	delete(w.seen, name)
	w.mu.Unlock()
}

// Run looks at every watched user.toml each pollEvery, and calls changed
// for those that differ from the last look, until Close.
func (w *pollWatcher) Run(changed func(name string)) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		names := make([]string, 0, len(w.seen))
		for name := range w.seen {
			names = append(names, name)
		}
		w.mu.Unlock()
		for _, name := range names {
			s := w.stamp(name)
			w.mu.Lock()
			old, ok := w.seen[name]
			if ok {
				w.seen[name] = s
			}
			w.mu.Unlock()
			if ok && s != old {
				changed(name)
			}
		}
	}
}

func (w *pollWatcher) Close() { w.once.Do(func() { close(w.stop) }) }

// inotifyOrPoll is InotifyWatcher over init, the inotify_init1 call: when
// the kernel has no instance to give (a per-user limit, or no inotify),
// the supervisor polls instead of refusing to start.
func inotifyOrPoll(log *slog.Logger, dir string, loaded func(string) bool, init func() (int, error)) (Watcher, error) {
	fd, err := init()
	if err != nil {
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOMEM) {
			log.Warn("no inotify instance (see fs.inotify.max_user_instances): user.toml files are polled every "+pollEvery.String(), "err", err)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				log.Warn("new user.toml files will not be seen", "err", err)
			}
			return newPollWatcher(dir, pollEvery), nil
		}
		return nil, err
	}
	return newInotifyWatcher(log, dir, loaded, fd), nil
}
