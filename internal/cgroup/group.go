package cgroup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Group is every process of one service.
type Group struct {
	t    *Tracker
	name string
	dir  string // the service's cgroup; "" in the /proc fallback
	made bool   // Tracker.Group created dir: no process is in it yet
}

// Name is the service's name.
func (g *Group) Name() string { return g.name }

// Dir is the cgroup directory the service's processes are born in; "" when
// processes are tracked through /proc.
func (g *Group) Dir() string { return g.dir }

// Made reports whether the cgroup was created when the group was got, so
// that nothing can be in it yet: a process enters a cgroup only by being
// moved or born there, and the supervisor has done neither. A caller
// that looks for processes a killed supervisor left need not read it.
func (g *Group) Made() bool { return g.made }

// Members lists the pids of the service's live processes.
func (g *Group) Members() ([]int, error) {
	if g.dir != "" {
		return readProcs(g.dir)
	}
	ms, err := g.members()
	if err != nil {
		return nil, err
	}
	return pidsOf(ms), nil
}

// pidsOf is the pids of ms.
func pidsOf(ms []proc) []int {
	pids := make([]int, len(ms))
	for i, m := range ms {
		pids[i] = m.pid
	}
	return pids
}

// members lists the service's live processes: in the /proc fallback with
// the start time the scan read, in a cgroup with none (0).
func (g *Group) members() ([]proc, error) {
	if g.dir != "" {
		pids, err := readProcs(g.dir)
		if err != nil {
			return nil, err
		}
		ms := make([]proc, len(pids))
		for i, pid := range pids {
			ms[i].pid = pid
		}
		return ms, nil
	}
	all, err := allProcs()
	if err != nil {
		return nil, err
	}
	return g.t.fallbackMembers(all, g.name), nil
}

// Signal sends sig to every member.
func (g *Group) Signal(sig syscall.Signal) error {
	ms, err := g.members()
	if err != nil {
		return err
	}
	return g.signal(ms, sig)
}

// signalBatch bounds the pidfds signal holds open at once.
const signalBatch = 256

// signal sends sig to ms, processes a scan found in the group, each
// through a pidfd that is checked, once open, to name a member still. A
// member can exit after the scan, be reaped (by its parent, or by the
// supervisor, the subreaper) and its pid be taken by any other process,
// which a kill(pid) would reach; the pidfd names one process for good, and
// as long as it can be signalled that process holds the pid, so what was
// read of the pid after the pidfd was opened was read of it. The check is a
// second read of cgroup.procs in a cgroup, and the start time the scan
// read in the /proc fallback, a pid and a start time naming one process.
func (g *Group) signal(ms []proc, sig syscall.Signal) error {
	for len(ms) > 0 {
		n := min(len(ms), signalBatch)
		if err := g.signalSome(ms[:n], sig); err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}

func (g *Group) signalSome(ms []proc, sig syscall.Signal) error {
	fds := make([]int, len(ms))
	for i, m := range ms {
		fd, err := unix.PidfdOpen(m.pid, 0)
		switch {
		case err == nil:
		case errors.Is(err, unix.ESRCH):
			fd = -1 // gone
		default:
			// No pidfd (a kernel before 5.3, a seccomp filter, no
			// descriptor left): the bare pid after the same check,
			// which narrows the window to the one between the check
			// and the kill.
			fd = -2
		}
		fds[i] = fd
	}
	defer func() {
		for _, fd := range fds {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}()
	var in map[int]bool
	if g.dir != "" {
		pids, err := readProcs(g.dir)
		if err != nil {
			return err
		}
		in = make(map[int]bool, len(pids))
		for _, pid := range pids {
			in[pid] = true
		}
	}
	for i, m := range ms {
		if fds[i] == -1 {
			continue
		}
		if g.dir != "" {
			if !in[m.pid] {
				continue // left since the scan; its pid may be another's
			}
		} else if p, ok := readStat(m.pid); !ok || p.start != m.start {
			continue // exited since the scan, its pid maybe reused
		}
		var err error
		if fds[i] >= 0 {
			err = unix.PidfdSendSignal(fds[i], sig, nil, 0)
		} else {
			err = unix.Kill(m.pid, sig)
		}
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("cgroup: signal %d of %s: %w", m.pid, g.name, err)
		}
	}
	return nil
}

// Kill SIGKILLs every member, those forked meanwhile too, and returns once
// none is left or ctx is done.
//
// A cgroup is frozen first, so that no member can fork while the others
// are killed (a frozen task still dies of SIGKILL), and thawed once empty,
// since the service's next process is born in it. This is cgroup.kill done
// by hand, for a reason: on Linux 6.18 a cgroup that was once killed through
// cgroup.kill SIGKILLs every child later born in it with CLONE_INTO_CGROUP
// (the fork compares the kill count of the parent's cgroup, not of the
// target's), so a service could never start again.
func (g *Group) Kill(ctx context.Context) error {
	if g.dir != "" {
		// Most calls find the cgroup empty (the run process exited
		// alone): one read, no freeze.
		if pids, err := readProcs(g.dir); err != nil || len(pids) == 0 {
			return err
		}
		freeze := filepath.Join(g.dir, "cgroup.freeze")
		frozen := os.WriteFile(freeze, []byte("1"), 0) == nil
		if frozen {
			defer os.WriteFile(freeze, []byte("0"), 0)
		}
	}
	for {
		pids, err := g.members()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		// Frozen, a member cannot exit of itself, but one already dying
		// (the run process's group was SIGKILLed first) can still be
		// reaped and its pid taken: signal checks each pid.
		_ = g.signal(pids, unix.SIGKILL)
		wctx, cancel := context.WithTimeout(ctx, pollInterval)
		if g.dir != "" {
			err = waitUnpopulated(wctx, g.dir)
		} else {
			<-wctx.Done()
		}
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("cgroup: kill %s: %d processes left: %w", g.name, len(pids), ctx.Err())
		}
		if g.dir != "" && err == nil {
			return nil
		}
	}
}

// thaw lets the members of a cgroup found already there run again. Kill
// freezes a cgroup and thaws it once it is empty: a supervisor SIGKILLed
// in between leaves it frozen, and then a run process adopted from it
// never runs another instruction, and a process started in it stops
// before its exec, with the fork that starts it (vfork: it waits for
// that exec) and the reaper's lock held for good. One write, best effort:
// a thawed cgroup is left as it is.
func (g *Group) thaw() {
	_ = writeSmall(filepath.Join(g.dir, "cgroup.freeze"), "0")
}

// pollInterval is how often the /proc fallback looks again while it waits
// for processes to exit: it has nothing to wait on.
const pollInterval = 10 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitEmpty returns once the service has no process left, or ctx's error.
func (g *Group) WaitEmpty(ctx context.Context) error {
	if g.dir == "" {
		for {
			pids, err := g.Members()
			if err != nil || len(pids) == 0 {
				return err
			}
			if err := sleep(ctx, pollInterval); err != nil {
				return fmt.Errorf("cgroup: wait for %s: %d processes left: %w", g.name, len(pids), err)
			}
		}
	}
	return waitUnpopulated(ctx, g.dir)
}

// waitUnpopulated waits for "populated 0" in dir's cgroup.events. The
// kernel wakes a poll of that file for POLLPRI at each change, so this
// does not spin; it looks again every 100 ms to see ctx.
func waitUnpopulated(ctx context.Context, dir string) error {
	fd, err := unix.Open(filepath.Join(dir, "cgroup.events"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil // removed: nothing is left in it
	}
	if err != nil {
		return fmt.Errorf("cgroup: wait for %s: %w", dir, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	for {
		n, err := unix.Pread(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("cgroup: wait for %s: %w", dir, err)
		}
		if !populated(string(buf[:n])) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cgroup: wait for %s to empty: %w", dir, err)
		}
		ms := 100
		if d, ok := ctx.Deadline(); ok {
			ms = max(1, min(ms, int(time.Until(d).Milliseconds())))
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
		if _, err := unix.Poll(pfd, ms); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("cgroup: wait for %s: %w", dir, err)
		}
	}
}

func populated(events string) bool {
	for line := range strings.SplitSeq(events, "\n") {
		if v, ok := strings.CutPrefix(line, "populated "); ok {
			return v != "0"
		}
	}
	return false
}

// Remove deletes the service's cgroup, which must be empty.
func (g *Group) Remove() error {
	if g.dir == "" {
		return nil
	}
	if err := unix.Rmdir(g.dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("cgroup: remove %s: %w", g.dir, err)
	}
	return nil
}

// Stats is what the service's processes use, all of them together.
type Stats struct {
	CPUSeconds  float64 // user and system time since the cgroup was made
	MemoryBytes uint64  // memory.current, or the members' RssAnon without the memory controller
}

// Stats reads the cgroup's usage; false in the /proc fallback, which
// would have to scan every process of the host for each service.
func (g *Group) Stats() (Stats, bool) {
	if g.dir == "" {
		return Stats{}, false
	}
	var s Stats
	usec, ok := statField(filepath.Join(g.dir, "cpu.stat"), "usage_usec")
	if !ok {
		return Stats{}, false
	}
	s.CPUSeconds = float64(usec) / 1e6
	if b, err := os.ReadFile(filepath.Join(g.dir, "memory.current")); err == nil {
		s.MemoryBytes, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return s, true
	}
	pids, _ := readProcs(g.dir)
	for _, pid := range pids {
		if b, ok := rssAnon(pid); ok {
			s.MemoryBytes += b
		}
	}
	return s, true
}

// statField reads "KEY VALUE" from a flat-keyed cgroup file.
func statField(path, key string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// readProcs reads a cgroup's cgroup.procs; a cgroup that is gone has none.
func readProcs(dir string) ([]int, error) {
	var buf [128]byte
	b, err := readSmall(filepath.Join(dir, "cgroup.procs"), buf[:])
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup: members of %s: %w", dir, err)
	}
	var pids []int
	for f := range bytes.FieldsSeq(b) {
		if pid, err := strconv.Atoi(string(f)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}
