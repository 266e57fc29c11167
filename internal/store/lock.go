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

// Acquire takes the lock at path and writes our pid into it.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
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
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("write lock: %w", err)
		}
	}
	return &Lock{f: f}, nil
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
