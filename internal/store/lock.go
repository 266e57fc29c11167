package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is the held LOCK file of a state directory. It keeps a second
// supervisor off the same state; the kernel drops it when the holder dies,
// however it dies.
type Lock struct{ f *os.File }

// ErrLocked means another live supervisor holds the lock.
var ErrLocked = errors.New("state directory is in use")

// orphanWait bounds how long Acquire waits for a lock whose holder has
// died: a child it forked a moment before (between fork and exec, when
// the child still shares the supervisor's descriptors) holds the lock
// until its exec closes them, microseconds, or longer on a loaded host.
const orphanWait = 3 * time.Second

// Acquire takes the lock at path, creating the file if need be, and
// writes our pid into it.
func Acquire(path string) (*Lock, error) {
	l, err := take(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := l.Claim(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// Hold takes the lock of an existing LOCK file (an error satisfying
// errors.Is(err, os.ErrNotExist) when there is none) and writes nothing:
// `sup run` on a restart holds the state directory this way while it
// still checks its input, so that a refused start changes no file. Claim
// then says who holds it. Until then another supervisor that finds the
// lock taken reads its last holder's pid, a dead one, and waits (up to
// orphanWait) for our pid or the lock.
func Hold(path string) (*Lock, error) {
	return take(path, os.O_RDWR)
}

func take(path string, flag int) (*Lock, error) {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	fd := int(f.Fd())
	for deadline := time.Now().Add(orphanWait); ; {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		pid, _ := ReadPID(path)
		dead := pid > 0 && errors.Is(unix.Kill(pid, 0), unix.ESRCH)
		if !dead {
			f.Close()
			return nil, fmt.Errorf("%w: another supervisor (pid %d) holds %s", ErrLocked, pid, path)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is held by a process the supervisor with pid %d (no longer running) started", ErrLocked, path, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Lock{f: f}, nil
}

// Claim writes our pid into the held lock.
func (l *Lock) Claim() error {
	if err := l.f.Truncate(0); err == nil {
		if _, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			return fmt.Errorf("write lock: %w", err)
		}
	}
	return nil
}

// Release drops the lock.
func (l *Lock) Release() error { return l.f.Close() }

// ReadPID reads the pid written in a lock or PID file: its first line (a
// service's PID file holds the process's start time on the second).
func ReadPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no pid in %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// Held reports whether some process holds the lock at path.
func Held(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return true
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
