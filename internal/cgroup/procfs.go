package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// proc is what a /proc scan needs of one process.
type proc struct {
	pid, ppid int
	start     uint64 // field 22 of /proc/PID/stat, clock ticks after boot
}

// readStat parses /proc/PID/stat. A zombie reports ok false: it has exited,
// and its parent (the reaper, for tend's children) collects it.
func readStat(pid int) (p proc, ok bool) {
	var buf [512]byte
	b, err := readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		return proc{}, false
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (proc, bool) {
	// The command (field 2) is in parentheses and may hold spaces and
	// parentheses: the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return proc{}, false
	}
	// Field 3 (state), 4 (ppid) and 22 (start time) are all that is
	// needed: walked in place, as every fork reads this line.
	var state, ppidF, startF []byte
	n := 3
	for f := range bytes.FieldsSeq(b[i+1:]) {
		switch n {
		case 3:
			state = f
		case 4:
			ppidF = f
		case 22:
			startF = f
		}
		if n++; n > 22 {
			break
		}
	}
	if startF == nil || string(state) == "Z" || string(state) == "X" {
		return proc{}, false
	}
	ppid, err1 := strconv.Atoi(string(ppidF))
	start, err2 := strconv.ParseUint(string(startF), 10, 64)
	if err1 != nil || err2 != nil {
		return proc{}, false
	}
	return proc{pid: pid, ppid: ppid, start: start}, true
}

// readSmall reads the whole of a small file (of /proc or of a cgroup)
// into buf, growing it if need be, with a bare open, read and close: an
// os.File would add an fstat, four fcntls and an epoll_ctl, on a path every
// start of a service takes.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := ignoringEINTR(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf)+512)...)
		}
		m, err := ignoringEINTR(func() (int, error) { return unix.Read(fd, buf[n:]) })
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
	}
}

// writeSmall writes data to a file of a cgroup with a bare open, write
// and close, as readSmall reads.
func writeSmall(path, data string) error {
	fd, err := ignoringEINTR(func() (int, error) { return unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	_, err = ignoringEINTR(func() (int, error) { return unix.Write(fd, []byte(data)) })
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// ErrExited is returned for a process that has already exited.
var ErrExited = errors.New("process has exited")

// StartTime returns the start time of pid (field 22 of /proc/PID/stat),
// which with the pid names one process for the life of the host: a pid is
// reused, a pid and start time are not.
func StartTime(pid int) (uint64, error) {
	p, ok := readStat(pid)
	if !ok {
		return 0, fmt.Errorf("start time of %d: %w", pid, ErrExited)
	}
	return p.start, nil
}

// allProcs lists every live process but this one.
func allProcs() ([]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("scan /proc: %w", err)
	}
	self := os.Getpid()
	out := make([]proc, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if p, ok := readStat(pid); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// markerOf returns the value of the first environment entry of pid that
// starts with prefix, or "" (no such entry, or the environment is not
// readable: another user's process, or one in the middle of execve).
func markerOf(pid int, prefix string) string {
	// Read with readSmall: start-up reads every process of the host.
	var buf [4096]byte
	b, err := readSmall("/proc/"+strconv.Itoa(pid)+"/environ", buf[:])
	if err != nil {
		return ""
	}
	for entry := range bytes.SplitSeq(b, []byte{0}) {
		if rest, ok := bytes.CutPrefix(entry, []byte(prefix)); ok {
			return string(rest)
		}
	}
	return ""
}

// descendants returns roots plus every process below one of them by
// parent links, those of all.
func descendants(all []proc, roots map[int]bool) []proc {
	children := map[int][]proc{}
	byPID := make(map[int]proc, len(roots))
	for _, p := range all {
		children[p.ppid] = append(children[p.ppid], p)
		if roots[p.pid] {
			byPID[p.pid] = p
		}
	}
	var out []proc
	seen := map[int]bool{}
	stack := make([]proc, 0, len(roots))
	for _, p := range byPID {
		stack = append(stack, p)
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p.pid] {
			continue
		}
		seen[p.pid] = true
		out = append(out, p)
		stack = append(stack, children[p.pid]...)
	}
	return out
}

// pidFile reads a service's PID file: the pid on its first line (as
// Habitat writes it) and, on the second, its start time. A file without a
// start time names no process: its pid may have been reused.
func pidFile(path string) (pid int, start uint64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 1 {
		return 0, 0, false
	}
	second, _, _ := strings.Cut(rest, "\n")
	start, err = strconv.ParseUint(strings.TrimSpace(second), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return pid, start, true
}

// ReadPIDFile reads a PID file WritePIDFile wrote: ok is false for a file
// without a start time, which names no process for sure.
func ReadPIDFile(path string) (pid int, start uint64, ok bool) { return pidFile(path) }

// WritePIDFile writes path as Habitat does, the pid on the first line, and
// pid's start time on the second, so a later supervisor can tell the
// process from another that reused its pid. A process that has already
// exited gets no file (ErrExited): there is nothing left to find.
//
// The file is written beside path and renamed over it, so a reader never
// sees it torn: written in place, a supervisor SIGKILLed between the
// truncating open and the write left an empty file, and its successor
// restarted a run process it could have adopted. The rename, an fstat
// and at times an ftruncate are the system calls this adds to the open,
// write and close (os.WriteFile adds five); the temporary is the file
// RetirePIDFile left, so the open allocates no inode, the dear part of a
// create on ext4. A link in path's place is replaced, never followed.
func WritePIDFile(path string, pid int) error {
	start, err := StartTime(pid)
	if err != nil {
		return err
	}
	return WritePIDFileAt(path, pid, start)
}

// WritePIDFileAt is WritePIDFile of a process whose start time the caller
// knows exactly (process.Proc.StartTime: the fork read it from the clock
// the kernel stamps the child with), so /proc/PID/stat is not read. A
// process that has exited meanwhile still gets its file, which names no
// live process: a successor checks the start time before it adopts.
func WritePIDFileAt(path string, pid int, start uint64) error {
	var buf [48]byte
	data := strconv.AppendInt(buf[:0], int64(pid), 10)
	data = append(data, '\n')
	data = strconv.AppendUint(data, start, 10)
	data = append(data, '\n')
	tmp := pidTemp(path)
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	})
	if err != nil {
		return fmt.Errorf("write PID file: %w", &os.PathError{Op: "open", Path: tmp, Err: err})
	}
	// Written over, then cut to length, not truncated to nothing first:
	// ext4 (auto_da_alloc) flushes a file truncated to zero and rewritten
	// when it is closed, a disk write per start for a file that a
	// supervisor's crash leaves behind whole either way (the rename). Cut
	// only when the old contents were longer: a new file (fresh root) and
	// one rewritten with a pid and start time of the same length (most
	// restarts) need no ftruncate: on ext4 it updates the inode under its
	// lock even when the length does not change, 4.5 µs against 0.6 µs for
	// the fstat (docs/BENCHMARKS.md, session 10).
	_, err = ignoringEINTR(func() (int, error) { return unix.Write(fd, data) })
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err == nil && st.Size > int64(len(data)) {
			err = unix.Ftruncate(fd, int64(len(data)))
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write PID file: %w", &os.PathError{Op: "write", Path: tmp, Err: err})
	}
	if err := unix.Rename(tmp, path); err != nil {
		return fmt.Errorf("write PID file: %w", &os.LinkError{Op: "rename", Old: tmp, New: path, Err: err})
	}
	return nil
}

// pidTemp is where WritePIDFile writes path before the rename.
func pidTemp(path string) string { return path + ".new" }

// RemovePIDTemp removes what a supervisor SIGKILLed between WritePIDFile's
// create and rename, or RetirePIDFile, left beside path. The next write
// reuses it, so only a service that will not be written again (unloaded)
// needs this.
func RemovePIDTemp(path string) { os.Remove(pidTemp(path)) }

// RetirePIDFile takes path away once its process is gone, as Habitat does
// (a PID file exists while its process runs), by renaming it to where the
// next WritePIDFile writes: that write's open then truncates this inode
// instead of allocating one, and no inode is freed here. A service's stop
// and start, and a supervisor's stop and its successor's start over the
// same root (every restart and upgrade), create and free no inode for the
// PID file; unlinked, each start allocated one, and on ext4 without a
// journal every allocation skips the inodes freed in the last 30 s one by
// one (docs/BENCHMARKS.md, session 9). Best effort: nobody reads the
// temporary, and a stale PID file names a process only with its start time.
func RetirePIDFile(path string) {
	if err := unix.Rename(path, pidTemp(path)); err != nil && !errors.Is(err, unix.ENOENT) {
		os.Remove(path)
	}
}

// rssAnon returns the anonymous resident memory of pid in bytes.
func rssAnon(pid int) (uint64, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
