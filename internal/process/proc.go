package process

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Spec describes a process to start.
type Spec struct {
	// Path is the program, executed as is: it is not looked up in $PATH, and
	// a relative path is taken from Dir.
	Path string
	// Arg0 is argv[0]; "" means Path. A shell's `exec prog` passes the word
	// as written, and programs (busybox, ps, pgrep -f) see it.
	Arg0 string
	// Args are the arguments after argv[0].
	Args []string
	// Env is the whole environment of the child; nil means an empty one,
	// never the supervisor's.
	Env []string
	// Dir is the working directory; "" keeps the supervisor's.
	Dir string
	// Credential runs the child as another user; nil runs it as the
	// supervisor's user.
	Credential *syscall.Credential
	// Stdout and Stderr receive every output line without its newline (a
	// final unterminated line too; lines over 64 KiB arrive in pieces). The
	// slice is only valid during the call. One goroutine of the Reaper calls
	// them for every process, never two at a time, so they must not block:
	// while one runs, no other process's output is read. nil sends the
	// stream to /dev/null.
	Stdout, Stderr func(line []byte)
	// Outputs, where set, name a FIFO made for Stdout and Stderr instead
	// of an anonymous pipe (fifoReader): the child holds it open for
	// reading too, so its output outlives the supervisor and a successor
	// can read on with Adopt.
	Outputs [2]string
	// Group is every process of the service the child belongs to; nil:
	// none. The child is born in the group's cgroup (when it has one), so
	// nothing it forks is ever unaccounted for.
	Group Group
	// NotifyFD, when above 2, is where the child finds the write end of a
	// pipe (s6's notification fd): the first newline it writes there calls
	// Ready, once, from the goroutine that calls Stdout and Stderr (so
	// Ready must not block either). Bytes without a newline, closed or
	// not, are not a notification.
	NotifyFD int
	Ready    func()
	// Leader makes the process stand for its whole Group, as a service's
	// run process does (a hook does not): Stop signals every member and
	// returns only once none is left.
	Leader bool
}

// Group is what a process needs of its service's group of processes
// (internal/cgroup's Group).
type Group interface {
	// Dir is the cgroup directory children are born in; "" leaves them
	// in the supervisor's.
	Dir() string
	// Signal sends sig to every member.
	Signal(sig syscall.Signal) error
	// Kill SIGKILLs every member and returns once none is left, or with
	// ctx's error.
	Kill(ctx context.Context) error
	// WaitEmpty returns once no member is left, or with ctx's error.
	WaitEmpty(ctx context.Context) error
}

// groupKillWait bounds how long Stop waits for a killed group to be gone:
// a process stuck in the kernel (a dead NFS mount) must not hold its
// service's runner for ever.
const groupKillWait = 10 * time.Second

// txtBusyAttempts bounds the retries of an exec that failed with ETXTBSY.
const txtBusyAttempts = 5

// Proc is a started process, the leader of its own process group.
type Proc struct {
	r    *Reaper
	pid  int
	done chan struct{}
	// pending counts what must finish before done closes: the reap, plus one
	// per output pump. Whoever finishes last, the reaper or the poller,
	// closes done, so the path from SIGCHLD to Done needs no goroutine of
	// its own.
	pending atomic.Int32
	reaped  bool    // guarded by r.mu
	exit    Exit    // written before the reap's finish, read after done
	pumps   []*pump // owned by r.out once the process has started
	group   Group   // set when the process leads its group (Spec.Leader)
	// adopted: taken over by Adopt and not a child, so watched through a
	// pidfd and its exit status unknown.
	adopted bool
	// pidfd names an adopted process (adopted true) for as long as it is
	// not reaped: every signal to it goes through the pidfd, as its pid
	// is freed the moment its parent (not this process) collects it.
	// Closed by lostExit, under r.mu, once reaped is set.
	pidfd int
	// start is the start time the fork read (StartTime), 0 if unknown.
	start uint64
}

// Start starts s in a new process group with stdin on /dev/null. The
// process's Done closes only while Run is running (or once it is started).
func (r *Reaper) Start(s Spec) (*Proc, error) {
	if s.Path == "" {
		return nil, errors.New("process: start: empty path")
	}
	p := &Proc{r: r, done: make(chan struct{}), pidfd: -1}
	if s.Leader {
		p.group = s.Group
	}
	req := &spawnReq{
		path: s.Path,
		argv: append([]string{cmp.Or(s.Arg0, s.Path)}, s.Args...),
		attr: syscall.ProcAttr{
			Dir: s.Dir,
			Env: s.Env,
			Sys: &syscall.SysProcAttr{Setpgid: true, Credential: s.Credential},
		},
		pipes: [2]bool{s.Stdout != nil, s.Stderr != nil},
		fifos: s.Outputs,
	}
	if s.NotifyFD > 2 && s.Ready != nil {
		req.notifyFD = s.NotifyFD
	}
	if s.Group != nil {
		req.cgroup = s.Group.Dir()
	}
	fifos, err := r.outputs(p, s, req.notifyFD > 0)
	if err != nil {
		return nil, fmt.Errorf("process: start %s: %w", s.Path, err)
	}
	started := false
	defer func() {
		if !started {
			closeFDs(fifos)
		}
	}()
	for attempt := 1; ; attempt++ {
		err = r.fork(req, p)
		// A hook just rendered can still be open for writing in a child
		// that another goroutine forked and that has not reached exec yet
		// (golang/go#22315): the kernel then refuses to execute it for a
		// moment. Retry briefly.
		if !errors.Is(err, unix.ETXTBSY) || attempt == txtBusyAttempts {
			break
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("process: start %s: %w", s.Path, err)
	}
	started = true
	return p, nil
}

// outputs makes p's pumps, in stream order, the notification pipe's
// last. An output FIFO's read end is opened here, by the starting
// goroutine on the supervisor's table before the fork (fifoReader): the
// thread that forks only opens the write end, and nothing is passed back
// from the spawner's table. An anonymous pipe's read end
// comes from the fork (fd -1 until then). It returns the read ends it
// opened, for the caller to close if the start fails.
func (r *Reaper) outputs(p *Proc, s Spec, notify bool) (fifos []int, err error) {
	for i, emit := range []func([]byte){s.Stdout, s.Stderr} {
		if emit == nil {
			continue
		}
		pm := &pump{fd: -1, proc: p, emit: emit, path: s.Outputs[i]}
		if pm.path != "" {
			if pm.fd, err = fifoReader(pm.path, r.mkfifo, r.euid); err != nil {
				closeFDs(fifos)
				return nil, err
			}
			fifos = append(fifos, pm.fd)
		}
		p.pumps = append(p.pumps, pm)
	}
	if notify {
		p.pumps = append(p.pumps, &pump{fd: -1, proc: p, emit: onceReady(s.Ready), wholeLines: true})
	}
	return fifos, nil
}

// spawnerMinChildren is how many running children make the spawner pay:
// the hand-over to its thread and back costs ~70 µs a spawn, and a fork
// from the supervisor's own table ~0.14 µs per descriptor in it, two per
// child (BenchmarkStartExitPiped, BenchmarkStartExitBusy). In CPU time,
// the supervisor's and the child's together, the hand-over costs ~50 µs
// and the two ways cross nearer 120 children (session 13, a start with
// output FIFOs beside N sleepers, a scratch benchmark); over a burst of
// 500 starts the ~4 ms that 128 would save (estimated from those per-start
// figures) is below what bench/syscalls/cpu.sh resolves.
const spawnerMinChildren = 256

// fork forks req, from this thread or through a spawner thread (started
// on the first fork) once spawnerMinChildren children run, and registers
// the child as p. It holds r.forking for reading throughout, so the reap
// loop cannot collect the child before it is registered, and several
// forks can be under way at once: each one waits, holding a thread and
// its P but no CPU, until its child has exec'd (~0.4 ms), and one after
// another they were most of a burst of starts (docs/BENCHMARKS.md,
// session 11). r.mu is taken only to look at and change the reaper's
// state, never across a fork: a signal to another process waits for no
// fork.
func (r *Reaper) fork(req *spawnReq, p *Proc) error {
	r.forking.RLock()
	defer r.forking.RUnlock()
	r.mu.Lock()
	if r.state == stateStopped {
		r.mu.Unlock()
		return ErrReaperStopped
	}
	if req.pipes[0] || req.pipes[1] || req.notifyFD > 0 {
		if err := r.out.start(); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	// The spawner threads start on the first fork, while the supervisor's
	// table is still short: each copies the table and closes the copies
	// one by one, ~4.5 ms each under this lock with the ~500 output FIFOs
	// of 256 running services open, and every other start waited for them
	// (docs/BENCHMARKS.md, session 12).
	if r.spawner == nil && r.spawnErr == nil {
		if r.spawner, r.spawnErr = newSpawnPool(spawnerThreads); r.spawnErr != nil {
			r.log.Warn("children are forked from the supervisor's own descriptor table", "err", r.spawnErr)
		}
	}
	var pool *spawnPool
	if len(r.procs) >= r.spawnFrom {
		pool = r.spawner
	}
	if pool == nil && r.devnull < 0 {
		// Opened once, after the spawner threads copied the table: a
		// spawner thread forks with a /dev/null of its own table (serve).
		devnull, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("open /dev/null: %w", err)
		}
		r.devnull = devnull
	}
	devnull := r.devnull
	r.mu.Unlock()

	pid, rds, err := forkVia(pool, req, devnull)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p.pid, p.start = pid, req.start
	for _, pm := range p.pumps {
		if pm.fd < 0 {
			pm.fd, rds = rds[0], rds[1:]
		}
	}
	// Before the pid is registered: the reaper may finish p at once.
	p.pending.Store(int32(1 + len(p.pumps)))
	r.procs[pid] = p
	// Before r.forking is released, so before the reaper can queue the
	// exit's deadline for these pumps. The child may write already: the
	// pipe holds it.
	if len(p.pumps) > 0 {
		r.out.add(p.pumps)
	}
	return nil
}

// forkVia forks req through pool, or from this thread when pool is nil
// with stdin on devnull: the reaper's, which stays open throughout, as
// shutdown closes it only under r.forking, held for reading by the fork.
func forkVia(pool *spawnPool, req *spawnReq, devnull int) (pid int, rds []int, err error) {
	if pool != nil {
		return pool.spawn(req)
	}
	return forkExec(req, devnull)
}

// onceReady calls ready on the first line, and ignores the rest.
func onceReady(ready func()) func([]byte) {
	done := false
	return func([]byte) {
		if !done {
			done = true
			ready()
		}
	}
}

// outputPipe returns a pipe whose read end is non-blocking, for the poller,
// and whose write end, for the child, stays blocking: a child must not see
// EAGAIN on its stdout.
func outputPipe() (rd, wr int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return 0, 0, fmt.Errorf("pipe: %w", err)
	}
	// The read end's status flags are O_RDONLY alone: set, not read and
	// changed (SetNonblock's two fcntls), as every start makes two pipes.
	if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return 0, 0, fmt.Errorf("pipe: %w", err)
	}
	return fds[0], fds[1], nil
}

// exited records the exit and bounds the wait for output. Called by the
// reaper under r.mu.
func (p *Proc) exited(e Exit, grace time.Duration) {
	p.exit = e
	if p.pending.Load() > 1 {
		// The group is dead; the pipes close as soon as the kernel has torn
		// it down. Only an escaped process can hold them longer.
		p.r.out.expire(p.pumps, time.Now().Add(grace))
	}
	p.finish()
}

func (p *Proc) finish() {
	if p.pending.Add(-1) == 0 {
		close(p.done)
	}
}

// PID returns the process id, which is also its process group id.
func (p *Proc) PID() int { return p.pid }

// StartTime returns the process's start time as field 22 of /proc/PID/stat
// gives it (clock ticks since boot), which with the pid names it across a
// reuse of the pid. ok is false when the fork could not tell it exactly
// (a clock tick ended while it forked, a few in a hundred) and for an
// adopted process: read /proc/PID/stat then.
func (p *Proc) StartTime() (start uint64, ok bool) { return p.start, p.start != 0 }

// Done is closed once the process has been reaped, what was left of its group
// killed, and its output delivered.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exit reports how the process ended. It is valid once Done is closed.
func (p *Proc) Exit() Exit { return p.exit }

// Signal sends sig to the process's whole group. It returns os.ErrProcessDone
// once the process has been reaped (an adopted one: once it and its group
// are gone), so a recycled pid is never signalled.
func (p *Proc) Signal(sig syscall.Signal) error { return p.signal(sig, true) }

// SignalLeader sends sig to the process alone, not its group (svc signal,
// as supervisorctl signal does). Like Signal, it returns os.ErrProcessDone
// once the process has been reaped.
func (p *Proc) SignalLeader(sig syscall.Signal) error { return p.signal(sig, false) }

func (p *Proc) signal(sig syscall.Signal, group bool) error {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	var err error
	switch {
	case p.adopted:
		// Not a child: no zombie holds its pid between its exit and
		// lostExit, so only the pidfd names it.
		if err = p.signalAdopted(sig, group); errors.Is(err, unix.ESRCH) {
			return os.ErrProcessDone
		}
	case group:
		// A child's pid stays its own until the reap loop, which sets
		// reaped first, collects it.
		err = unix.Kill(-p.pid, sig)
	default:
		err = unix.Kill(p.pid, sig)
	}
	if err != nil {
		if group {
			return fmt.Errorf("process: signal group %d: %w", p.pid, err)
		}
		return fmt.Errorf("process: signal %d: %w", p.pid, err)
	}
	return nil
}

// pidfdSignalProcessGroup is PIDFD_SIGNAL_PROCESS_GROUP (Linux 6.9), which
// x/sys/unix does not name: pidfd_send_signal then signals the process
// group of the pidfd's struct pid, the one the adopted process made, even
// after it exited; a process that later gets the same number, and makes a
// group of that id (setsid), has another struct pid and is never reached.
const pidfdSignalProcessGroup = 1 << 2

// signalAdopted sends sig through the pidfd of an adopted process, to it
// alone or to its process group. r.mu must be held and p not reaped, so
// that the pidfd is open. ESRCH: it has exited (group false), or nothing
// of its group is left.
func (p *Proc) signalAdopted(sig syscall.Signal, group bool) error {
	if !group {
		return unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
	}
	err := unix.PidfdSendSignal(p.pidfd, sig, nil, pidfdSignalProcessGroup)
	if !errors.Is(err, unix.EINVAL) {
		return err
	}
	// Before Linux 6.9 the flag is refused. The group is then signalled by
	// its id only while the pidfd says the leader is alive, which holds
	// the id: another process could take it only if, between these two
	// calls, the leader exited, was reaped, and the pid allocator came
	// round to its pid.
	if err := unix.PidfdSendSignal(p.pidfd, 0, nil, 0); err != nil {
		return err
	}
	return unix.Kill(-p.pid, sig)
}

// Stop sends sig (0: SIGTERM) to the process group, waits up to timeout or
// until ctx is done, then SIGKILLs the group. It returns the exit once Done
// is closed, so no member of the group is left running. A Leader's whole
// Group is treated so: every member gets sig, and Stop returns once none
// is left (or groupKillWait has passed after the kill).
func (p *Proc) Stop(ctx context.Context, sig syscall.Signal, timeout time.Duration) Exit {
	if sig == 0 {
		sig = unix.SIGTERM
	}
	g := p.group
	alive := p.Signal(sig) == nil
	if g != nil {
		// The members that left the process group (setsid, setpgid)
		// are told to stop as well, not killed unwarned.
		alive = g.Signal(sig) == nil || alive
	}
	if alive && sig != unix.SIGKILL {
		// A stopped process would not act on sig until continued.
		_ = p.Signal(unix.SIGCONT)
		if g != nil {
			_ = g.Signal(unix.SIGCONT)
		}
		tctx, cancel := context.WithTimeout(ctx, timeout)
		select {
		case <-p.done:
			if g != nil {
				_ = g.WaitEmpty(tctx)
			}
		case <-tctx.Done():
		}
		cancel()
	}
	_ = p.Signal(unix.SIGKILL)
	if g != nil {
		kctx, cancel := context.WithTimeout(context.Background(), groupKillWait)
		if err := g.Kill(kctx); err != nil {
			p.r.log.Error("processes of a stopped service left running", "pid", p.pid, "err", err)
		}
		cancel()
	}
	<-p.done
	return p.exit
}
