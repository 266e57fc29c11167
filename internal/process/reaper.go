package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrReaperStopped is returned by Start once Run has returned: nothing would
// collect the child's exit any more.
var ErrReaperStopped = errors.New("process: reaper stopped")

const (
	// defaultDrainGrace bounds how long Done waits for output after the group
	// was killed. Only a process that left the group (setsid) can still hold
	// the pipe open by then, and it must not keep Done, and so a restart, open.
	defaultDrainGrace = time.Second
)

type reaperState int

const (
	stateIdle reaperState = iota
	stateRunning
	stateStopped
)

// Reaper starts child processes and collects every exit. Create it with
// NewReaper, run Run in its own goroutine for the life of the supervisor, and
// start every child through Start.
type Reaper struct {
	log        *slog.Logger
	drainGrace time.Duration

	// out reads every output pipe, from one goroutine for all of them.
	out poller

	// forking is held for reading by Start across a fork and the child's
	// registration, and for writing by the reap loop around its waits. A
	// child that exits before Start has registered it therefore stays a
	// zombie until the reap loop gets in, and by then its pid is in procs.
	// This is simpler than parking unknown exits for a while and guessing
	// how long to keep them. And syscall.ForkExec's own wait4 for a child
	// that failed to exec cannot lose the status to the reap loop. Forks
	// do not wait for each other (Start).
	forking sync.RWMutex
	// mu guards what follows; it is taken inside forking, never around a
	// fork. The reap loop marks a Proc reaped under mu before the wait4
	// that frees its pid, which makes Signal safe against pid reuse.
	mu    sync.Mutex
	state reaperState
	procs map[int]*Proc
	// adopted are the processes Adopt took over that are not children,
	// watched through a pidfd until they exit.
	adopted map[int]*Proc
	// handed are unterminated lines a predecessor had read from output
	// FIFOs, by path, for Adopt (SetHandedOver).
	handed map[string][]byte
	// spawner forks the children once spawnFrom of them run (started on the
	// first use); spawnErr says why there is none, and Start forks
	// directly.
	spawner   *spawnPool
	spawnErr  error
	spawnFrom int
	// mkfifo makes an output FIFO (unix.Mkfifo; tests count the calls).
	mkfifo func(path string, mode uint32) error
	// devnull is /dev/null, the stdin (and unread streams) of every
	// child forked from the supervisor's own table: opened at the first
	// such fork and closed when the reaper stops, rather than opened and
	// closed around each fork (a path walk and two system calls a start).
	// -1 until then; guarded by mu.
	devnull int
	// euid is the supervisor's effective uid, which never changes: an
	// output FIFO must be its (openFIFO), checked at every start.
	euid int
}

// NewReaper returns a Reaper that logs to log (nil: discard). It does no I/O
// and starts no goroutine.
func NewReaper(log *slog.Logger) *Reaper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reaper{log: log, drainGrace: defaultDrainGrace, procs: make(map[int]*Proc), adopted: make(map[int]*Proc), spawnFrom: spawnerMinChildren, mkfifo: unix.Mkfifo, devnull: -1, euid: unix.Geteuid()}
	r.out.log = log
	return r
}

// Run makes the supervisor the child subreaper, so that orphaned grandchildren
// are re-parented to it, and collects every exited child on each SIGCHLD until
// ctx is done. Exits of started processes go to their Proc; others (orphans)
// are reaped and logged at debug level.
//
// When ctx is done Run stops signal delivery, SIGKILLs the groups of processes
// still registered (callers should Stop them first; this is the backstop that
// keeps any child from outliving the supervisor), reaps them, and returns nil
// once their output is delivered, which takes at most the drain grace. Run may
// be called once.
func (r *Reaper) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.state != stateIdle {
		r.mu.Unlock()
		return errors.New("process: Reaper.Run called more than once")
	}
	r.state = stateRunning
	r.mu.Unlock()

	// Buffered so that a SIGCHLD arriving while we reap is not lost; several
	// coalesce into one pass, which loops until no exited child is left.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	defer r.shutdown()
	defer signal.Stop(sigs)

	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("process: become child subreaper: %w", err)
	}
	// Children started before Run, or exits before Notify took effect, raised
	// no signal we saw.
	r.reapExited()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sigs:
			r.reapExited()
		}
	}
}

// reapExited collects every child that has exited, without blocking.
func (r *Reaper) reapExited() {
	r.forking.Lock()
	defer r.forking.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reapExitedLocked()
}

func (r *Reaper) reapExitedLocked() {
	for {
		pid, err := waitExited(unix.P_ALL, 0, unix.WNOHANG)
		if err != nil {
			if !errors.Is(err, unix.ECHILD) {
				r.log.Error("waitid failed", "err", err)
			}
			return
		}
		if pid == 0 {
			return
		}
		r.collect(pid)
	}
}

// collect reaps pid, which waitid reported exited but left a zombie, and
// dispatches its status. r.mu must be held.
func (r *Reaper) collect(pid int) {
	p := r.procs[pid]
	if p != nil {
		// The leader is still a zombie, so its pid, which is also its group
		// id, cannot have been reused: this reaches only what is left of its
		// own group. Killing it before Done closes means a restart never runs
		// beside a leftover grandchild.
		_ = unix.Kill(-pid, unix.SIGKILL)
		p.reaped = true
		delete(r.procs, pid)
	}
	var ws unix.WaitStatus
	_, err := ignoringEINTR(func() (int, error) { return unix.Wait4(pid, &ws, unix.WNOHANG, nil) })
	if err != nil {
		// Only a foreign wait (a stray exec.Cmd.Wait) can get here; the
		// status is lost, but the Proc must still finish.
		r.log.Error("wait4 of an exited child failed", "pid", pid, "err", err)
	}
	if p == nil {
		r.log.Debug("reaped orphan", "pid", pid, "exit", exitFromStatus(ws, time.Time{}).String())
		return
	}
	p.exited(exitFromStatus(ws, time.Now()), r.drainGrace)
}

// shutdown stops Start, kills and reaps what is still registered, and
// gives up the subreaper role so that a later Reaper (in tests) starts clean.
// It returns once the output poller has delivered what the killed processes
// left in their pipes, within the drain grace, and closed them.
func (r *Reaper) shutdown() {
	r.forking.Lock()
	r.mu.Lock()
	r.state = stateStopped
	for pid := range r.procs {
		r.log.Warn("killing process left running at reaper shutdown", "pid", pid)
		_ = unix.Kill(-pid, unix.SIGKILL)
	}
	// Their pidfds turn readable as they die, and the poller finishes
	// them before it stops. Signalled through the pidfd: an adopted
	// process's pid is freed as soon as it exits, lostExit or not.
	for pid, p := range r.adopted {
		r.log.Warn("killing adopted process left running at reaper shutdown", "pid", pid)
		_ = p.signalAdopted(unix.SIGKILL, true)
	}
	for pid := range r.procs {
		// Blocking: the child is ours and was just sent SIGKILL.
		if _, err := waitExited(unix.P_PID, pid, 0); err != nil {
			r.log.Error("waitid failed", "pid", pid, "err", err)
		}
		r.collect(pid)
	}
	r.reapExitedLocked()
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	// Every registered process has been collected, so every pump left has a
	// deadline and the poller cannot wait for long.
	r.out.stop()
	if r.spawner != nil {
		r.spawner.stop()
	}
	if r.devnull >= 0 {
		unix.Close(r.devnull)
		r.devnull = -1
	}
	r.mu.Unlock()
	r.forking.Unlock()
	r.out.wait()
}

// waitExited waits (per options) for an exited child and returns its pid, 0 if
// none has exited yet. WNOWAIT leaves it a zombie: collect decides what to do
// before the pid is freed.
func waitExited(idType, id, options int) (int, error) {
	var si unix.Siginfo
	_, err := ignoringEINTR(func() (int, error) {
		return 0, unix.Waitid(idType, id, &si, unix.WEXITED|unix.WNOWAIT|options, nil)
	})
	if err != nil {
		return 0, err
	}
	return siginfoPID(&si), nil
}

// siginfoPID reads si_pid, which x/sys/unix does not name. In the kernel's
// siginfo_t three ints (signo, errno, code) precede a union aligned like a
// pointer, and si_pid is the union's first member; WNOHANG with nothing to
// report leaves the zeroed struct, so 0.
func siginfoPID(si *unix.Siginfo) int {
	const ptr = unsafe.Sizeof(uintptr(0))
	const off = (3*4 + ptr - 1) &^ (ptr - 1)
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(si), off)))
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}
