package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Adoption names a running process for Adopt to take over: a service's run
// process left by a supervisor that was killed, or handed over by one that
// re-executed itself.
type Adoption struct {
	PID int
	// Start is the process's start time (field 22 of /proc/PID/stat), so
	// that a recycled pid is never adopted.
	Start uint64
	// Outputs name the FIFOs its Stdout and Stderr are read from (as
	// Spec.Outputs made them); a stream whose FIFO is missing, or whose
	// func is nil, is not read.
	Outputs        [2]string
	Stdout, Stderr func(line []byte)
	Group          Group
	Leader         bool
}

// ErrNotAdoptable is returned by Adopt for a process that is gone or is
// not the one named (its pid was reused).
var ErrNotAdoptable = errors.New("process: not adoptable")

// Adopt takes over a running process as if Start had started it: Done,
// Exit, Signal and Stop work the same. A process that is this one's child
// (handed over across an exec) is reaped as usual; any other is watched
// through a pidfd in the output poller, and its exit status is unknown
// (Exit.Unknown): only its parent can collect it. missing lists the
// streams whose output could not be reattached.
func (r *Reaper) Adopt(a Adoption) (p *Proc, missing []string, err error) {
	pidfd, err := unix.PidfdOpen(a.PID, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: pid %d: %w", ErrNotAdoptable, a.PID, err)
	}
	// Checked after the pidfd is open: it now names this process for good,
	// and the start time says it is the one recorded.
	ppid, start, ok := procStat(a.PID)
	if !ok || start != a.Start {
		unix.Close(pidfd)
		return nil, nil, fmt.Errorf("%w: pid %d is gone or was reused", ErrNotAdoptable, a.PID)
	}
	child := ppid == os.Getpid()
	p = &Proc{r: r, pid: a.PID, done: make(chan struct{}), adopted: !child, pidfd: -1}
	if a.Leader {
		p.group = a.Group
	}
	for i, emit := range []func([]byte){a.Stdout, a.Stderr} {
		if emit == nil {
			continue
		}
		if a.Outputs[i] == "" {
			missing = append(missing, streamNames[i])
			continue
		}
		fd, err := openFIFO(a.Outputs[i], r.euid)
		if err != nil {
			missing = append(missing, streamNames[i])
			r.log.Warn("output of an adopted process not reattached", "pid", a.PID, "err", err)
			continue
		}
		pm := &pump{fd: fd, proc: p, emit: emit, path: a.Outputs[i]}
		// What the predecessor had read of an unfinished line, handed
		// over (SetHandedOver): the line goes on where it stopped.
		r.mu.Lock()
		pm.partial = r.handed[pm.path]
		delete(r.handed, pm.path)
		r.mu.Unlock()
		p.pumps = append(p.pumps, pm)
	}
	watches := p.pumps
	if child {
		unix.Close(pidfd)
	} else {
		// The pidfd turns readable when the process exits: a pump whose
		// readiness is the exit (pump.exit). It is p's too, for signals,
		// and lostExit closes it.
		p.pidfd = pidfd
		watches = append(watches[:len(watches):len(watches)], &pump{fd: pidfd, proc: p, exit: p.lostExit})
	}
	if len(watches) > 0 {
		if err := r.out.start(); err != nil {
			for _, pm := range watches {
				unix.Close(pm.fd)
			}
			return nil, nil, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == stateStopped {
		for _, pm := range watches {
			unix.Close(pm.fd)
		}
		return nil, nil, ErrReaperStopped
	}
	// The reap (child) or the pidfd (other), plus the output pumps.
	p.pending.Store(int32(1 + len(p.pumps)))
	if child {
		r.procs[a.PID] = p
	} else {
		r.adopted[a.PID] = p
	}
	if len(watches) > 0 {
		r.out.add(watches)
	}
	if child && !isChild(a.PID) {
		// Exited and reaped as an orphan between the check above and its
		// registration: from here on the reap loop would never see it.
		p.reaped = true
		delete(r.procs, a.PID)
		p.exited(Exit{Code: -1, Unknown: true, At: time.Now()}, r.drainGrace)
	}
	return p, missing, nil
}

var streamNames = [2]string{"stdout", "stderr"}

// lostExit ends an adopted process that is not this supervisor's child:
// called by the poller when its pidfd turns readable. Its status went to
// its parent.
func (p *Proc) lostExit() {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	p.reaped = true
	delete(p.r.adopted, p.pid)
	// What it left of its process group goes with it, as for a child
	// (collect), but only through the pidfd: its parent reaped it at once,
	// and once the group is empty its pid can be taken by any process, which
	// a kill(-pid) would reach if it made a group of its own (setsid).
	// Before Linux 6.9 (EINVAL) nothing is sent: with the leader gone the
	// group has no safe name, and the service's Group, which its runner
	// kills after the exit, holds what is left.
	_ = unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, pidfdSignalProcessGroup)
	unix.Close(p.pidfd)
	p.pidfd = -1
	p.exited(Exit{Code: -1, Unknown: true, At: time.Now()}, p.r.drainGrace)
}

// procStat reads the parent pid and start time of a live process from
// /proc/PID/stat; a zombie is not live.
func procStat(pid int) (ppid int, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command (field 2) may hold spaces and parentheses: the fields
	// that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	return ppid, start, err1 == nil && err2 == nil
}

// isChild reports whether pid is still a child this process can wait for
// (running, or a zombie not yet collected).
func isChild(pid int) bool {
	var si unix.Siginfo
	_, err := ignoringEINTR(func() (int, error) {
		return 0, unix.Waitid(unix.P_PID, pid, &si, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	})
	return !errors.Is(err, unix.ECHILD)
}
