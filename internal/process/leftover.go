package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// environAttempts bounds the reads of an empty /proc/PID/environ.
const environAttempts = 3

// Leftover reports whether pid, read from a PID file written by an earlier
// supervisor that was killed, is still that service: alive, leader of its own
// process group, and started with the exact environment entry marker (such
// as "TEND_SERVICE=redis.default@member"). A recycled pid fails the marker
// check; a zombie has an empty environ and fails it too.
func Leftover(pid int, marker string) bool {
	if pid <= 0 || marker == "" {
		return false
	}
	if pgid, err := unix.Getpgid(pid); err != nil || pgid != pid {
		return false
	}
	var env []byte
	for attempt := 1; ; attempt++ {
		var err error
		env, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			return false
		}
		// While the process is in execve its environ reads empty for a
		// moment; a false "not ours" would start a second copy, so look
		// again. This runs only at startup, for a few pids.
		if len(env) > 0 || attempt == environAttempts {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for entry := range bytes.SplitSeq(env, []byte{0}) {
		if string(entry) == marker {
			return true
		}
	}
	return false
}

// KillLeftover stops the process group led by pid, a process that is not the
// supervisor's child (so it cannot be waited for with wait4): it sends sig
// (0: SIGTERM) to the group, waits up to timeout for the leader to exit, then
// SIGKILLs the group, which also removes members that outlived the leader. It
// returns nil once the leader has exited, or ctx's error if ctx ends first
// (after the SIGKILL). Check the pid with Leftover first.
func KillLeftover(ctx context.Context, pid int, sig syscall.Signal, timeout time.Duration) error {
	if pid <= 0 {
		return fmt.Errorf("process: kill leftover: bad pid %d", pid)
	}
	if sig == 0 {
		sig = unix.SIGTERM
	}
	// The pidfd tells when this very process exits, even though it is not our
	// child; and while it has not exited its pid, so its group id, is pinned.
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("process: kill leftover %d: pidfd_open: %w", pid, err)
	}
	// Non-blocking, so os.NewFile puts it on Go's poller: waiting for the
	// exit parks a goroutine instead of polling on a tick.
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()

	if err := unix.Kill(-pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process: kill leftover %d: %w", pid, err)
	}
	_ = unix.Kill(-pid, unix.SIGCONT)
	exited, err := waitPidfd(ctx, f, timeout)
	if err != nil {
		return fmt.Errorf("process: kill leftover %d: %w", pid, err)
	}
	// After the leader's exit this only reaches members still in the group,
	// which keep the group id from being reused.
	_ = unix.Kill(-pid, unix.SIGKILL)
	if exited {
		return nil
	}
	if _, err := waitPidfd(ctx, f, 0); err != nil {
		return fmt.Errorf("process: kill leftover %d: %w", pid, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("process: kill leftover %d: %w", pid, err)
	}
	return nil
}

// waitPidfd waits until the process behind f has exited (true), timeout has
// passed (0: no timeout) or ctx is done (false for both).
func waitPidfd(ctx context.Context, f *os.File, timeout time.Duration) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("pidfd: %w", err)
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := f.SetReadDeadline(deadline); err != nil {
		return false, fmt.Errorf("pidfd: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	exited := false
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := ignoringEINTR(func() (int, error) { return unix.Poll(pfd, 0) })
		exited = n > 0
		return exited
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return false, fmt.Errorf("pidfd: %w", err)
	}
	return exited, nil
}
