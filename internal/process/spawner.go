package process

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawner forks every child from one OS thread that has a file descriptor
// table of its own (unshare(CLONE_FILES)), holding only what one spawn
// needs. A child forked from any other thread gets a copy of the
// supervisor's whole table, two pipe ends per running service, a thousand
// at 500 services, and its exec closes them all again: O(services) work on
// the path every start waits for (~0.14 µs a descriptor; a start and exit
// took 0.80 ms beside no other child and 1.10 ms beside 500, against 1.03
// ms through the spawner: BenchmarkStartExitBusy). Here a spawn costs
// about the same whatever runs, plus ~70 µs for the hand-over to this
// thread and back, which is why the reaper forks directly until
// spawnerMinChildren children run. An output FIFO's read end is the
// supervisor's already (Start opens it, fifoReader): this thread opens
// only the write end, by path. The read ends of anonymous pipes (the
// notification fd's, a hook's) are made on the spawner's table and passed
// to the supervisor's over a socket pair (SCM_RIGHTS).
//
// The thread stays locked to its goroutine and does nothing but spawn: it
// makes only raw system calls, so the runtime never reaches its own
// descriptors (the netpoller's) through it. It ends, table and all, when
// its goroutine returns.
type spawner struct {
	reqs chan *spawnReq
	done chan struct{} // closed when the goroutine has returned
	recv int           // the supervisor's end of the socket pair
	tid  int           // the spawner thread, for tests
	// passes counts the messages that passed descriptors, for tests:
	// written by the spawner thread before its reply.
	passes int
}

type spawnReq struct {
	path  string
	argv  []string
	attr  syscall.ProcAttr // Files is set by the spawner
	pipes [2]bool          // stdout, stderr
	// fifos name, for a stream asked for in pipes, the FIFO whose read
	// end the caller holds (fifoReader): only its write end is opened
	// for the child, and no read end is returned for it; "": an
	// anonymous pipe.
	fifos [2]string
	// notifyFD > 0: a pipe's write end at that descriptor of the child,
	// its read end returned after the output pipes (Spec.NotifyFD).
	notifyFD int
	// start is set by the fork: the child's start time, as
	// /proc/PID/stat gives it, when the fork could tell it; 0 if not.
	start uint64
	// cgroup is the cgroup directory the child is born in; "" = the
	// supervisor's. It is opened by the thread that forks: the spawner's
	// descriptor table is not the supervisor's.
	cgroup string
	reply  chan spawnReply
}

type spawnReply struct {
	pid   int
	pipes int // read ends of anonymous pipes passed over the socket, in stream order
	err   error
}

// newSpawner starts the spawner thread. If the kernel refuses a table of
// its own, it returns an error and the caller forks directly.
func newSpawner() (*spawner, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("spawner: socketpair: %w", err)
	}
	// The runtime's netpoller must exist before the spawner copies the
	// table (dropCopies keeps it): an os.File of a pipe sets it up.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	sp := &spawner{reqs: make(chan *spawnReq), done: make(chan struct{}), recv: fds[0]}
	ready := make(chan error, 1)
	go sp.run(fds[1], ready)
	if err := <-ready; err != nil {
		<-sp.done
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, err
	}
	// The spawner holds its own copy of the send end.
	unix.Close(fds[1])
	return sp, nil
}

// dropCopies closes what the spawner's table copied from the supervisor's:
// a socket or pipe still open here would outlive its close there (a
// client would never see its connection end). It keeps stdio, send, and
// the anonymous inodes (epoll instances, eventfds, inotify): among them
// the runtime's netpoller, which any thread, this one too, may poll when
// it starts the world after a collection.
func dropCopies(send int) {
	ents, err := os.ReadDir("/proc/thread-self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 || fd == send {
			continue
		}
		if target, err := os.Readlink("/proc/thread-self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "anon_inode:") {
			continue
		}
		unix.Close(fd)
	}
}

// run serves spawns on a thread of their own, but never on the main
// thread: /proc/PID/fd (lsof, the process collector's open-fds metric)
// shows the main thread's table, which must stay the supervisor's. On the
// main thread it holds it while another goroutine takes over (that one
// cannot be scheduled here meanwhile), then lets it go.
func (sp *spawner) run(send int, ready chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		sp.serve(send, ready, nil)
		return
	}
	locked := make(chan struct{})
	go sp.serve(send, ready, locked)
	<-locked
	runtime.UnlockOSThread()
}

func (sp *spawner) serve(send int, ready chan<- error, locked chan<- struct{}) {
	defer close(sp.done)
	// Never unlocked: the thread must not run other goroutines with this
	// table, and exits when this returns.
	runtime.LockOSThread()
	if locked != nil {
		close(locked)
	}
	if err := unix.Unshare(unix.CLONE_FILES); err != nil {
		ready <- fmt.Errorf("spawner: unshare: %w", err)
		return
	}
	sp.tid = unix.Gettid()
	dropCopies(send)
	devnull, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		ready <- fmt.Errorf("spawner: open /dev/null: %w", err)
		return
	}
	ready <- nil
	for req := range sp.reqs {
		req.reply <- sp.spawnOne(req, devnull, send)
	}
}

// forkExec forks and execs req from the calling thread's table (stdin and
// the streams not asked for on devnull) and returns the child's pid and
// the read ends of the anonymous pipes asked for, in stream order, the
// notification pipe's last.
func forkExec(req *spawnReq, devnull int) (pid int, rds []int, err error) {
	files := []uintptr{uintptr(devnull), uintptr(devnull), uintptr(devnull)}
	var wrs []int
	defer func() { closeFDs(wrs) }()
	for i, want := range req.pipes {
		if !want {
			continue
		}
		if req.fifos[i] != "" {
			wr, err := fifoWriter(req.fifos[i])
			if err != nil {
				closeFDs(rds)
				return 0, nil, err
			}
			wrs = append(wrs, wr)
			files[1+i] = uintptr(wr)
			continue
		}
		rd, wr, err := outputPipe()
		if err != nil {
			closeFDs(rds)
			return 0, nil, err
		}
		rds, wrs = append(rds, rd), append(wrs, wr)
		files[1+i] = uintptr(wr)
	}
	if req.notifyFD > 0 {
		rd, wr, err := outputPipe()
		if err != nil {
			closeFDs(rds)
			return 0, nil, err
		}
		rds, wrs = append(rds, rd), append(wrs, wr)
		// Descriptors between stderr and the notification fd are closed
		// in the child (-1).
		for len(files) < req.notifyFD {
			files = append(files, ^uintptr(0))
		}
		files = append(files, uintptr(wr))
	}
	req.attr.Files = files
	if req.cgroup != "" {
		// Raw: an os.File would register with the netpoller, which the
		// spawner thread must not reach.
		cg, err := unix.Open(req.cgroup, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeFDs(rds)
			return 0, nil, fmt.Errorf("open cgroup: %w", err)
		}
		defer unix.Close(cg)
		sys := *req.attr.Sys
		sys.UseCgroupFD, sys.CgroupFD = true, cg
		req.attr.Sys = &sys
	}
	// The child's start time, read from the clock the kernel stamps it
	// with rather than from /proc/PID/stat after the fork, which costs the
	// supervisor an open, a read the kernel formats 52 fields for, and a
	// close per start (docs/BENCHMARKS.md, session 11).
	before := bootTicks()
	pid, err = syscall.ForkExec(req.path, req.argv, &req.attr)
	req.start = startBetween(before, bootTicks())
	if err != nil {
		closeFDs(rds)
		return 0, nil, err
	}
	return pid, rds, nil
}

// spawnOne runs req on the spawner thread and passes the read ends of its
// anonymous pipes, if any, to the supervisor's table.
func (sp *spawner) spawnOne(req *spawnReq, devnull, send int) spawnReply {
	pid, rds, err := forkExec(req, devnull)
	if err != nil {
		return spawnReply{err: err}
	}
	defer closeFDs(rds)
	if len(rds) > 0 {
		if err := unix.Sendmsg(send, []byte{0}, unix.UnixRights(rds...), nil, 0); err != nil {
			return spawnReply{pid: pid, err: fmt.Errorf("pass output pipes: %w", err)}
		}
		sp.passes++
	}
	return spawnReply{pid: pid, pipes: len(rds)}
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// spawn runs req on the spawner thread and returns the child's pid and the
// read ends of its anonymous pipes on the supervisor's table. A child
// whose pipes could not be passed is killed and waited for (the caller
// holds the reaper's forking lock, so the reap loop does not wait for it).
func (sp *spawner) spawn(req *spawnReq) (pid int, rds []int, err error) {
	req.reply = make(chan spawnReply, 1)
	sp.reqs <- req
	rep := <-req.reply
	if rep.err == nil && rep.pipes > 0 {
		rds, rep.err = sp.receive(rep.pipes)
	}
	if rep.err != nil && rep.pid > 0 {
		unix.Kill(-rep.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		ignoringEINTR(func() (int, error) { return unix.Wait4(rep.pid, &ws, 0, nil) })
		return 0, nil, rep.err
	}
	return rep.pid, rds, rep.err
}

// receive takes n descriptors from the socket pair.
func (sp *spawner) receive(n int) ([]int, error) {
	oob := make([]byte, unix.CmsgSpace(4*n))
	_, oobn, _, _, err := unix.Recvmsg(sp.recv, make([]byte, 1), oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive output pipes: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("receive output pipes: no descriptors")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != n {
		closeFDs(fds)
		return nil, fmt.Errorf("receive output pipes: got %d of %d descriptors", len(fds), n)
	}
	return fds, nil
}

// stop ends the spawner thread and waits for it.
func (sp *spawner) stop() {
	close(sp.reqs)
	<-sp.done
	unix.Close(sp.recv)
}
