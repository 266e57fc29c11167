package process

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// maxEvents bounds one epoll_wait. Level-triggered epoll moves what it
// reports to the back of its ready list, so with more ready pipes than this
// the rest come first next time.
const maxEvents = 128

// poller delivers the output of every pipe of a Reaper from one goroutine
// parked in epoll_wait. A goroutine per pipe parked on Go's netpoller costs at
// least an 8 KiB stack, an os.File and a poll descriptor, two per child; here
// an idle pipe costs its pump and a map entry, and the one read buffer
// belongs to the poller.
//
// Everything that changes a pump or an fd after Start (reads, deadlines,
// closing) happens on the poller goroutine, so a pump needs no lock and its
// emit is never called concurrently. Other goroutines only queue commands.
type poller struct {
	log *slog.Logger

	mu      sync.Mutex
	started bool
	epfd    int
	wake    int // eventfd, readable while commands may be queued
	queue   []command
	done    chan struct{} // closed when the goroutine has returned

	// Owned by the goroutine.
	pumps    map[uint32]*pump
	expiring []*pump // pumps with a deadline, some maybe finished
	lastID   uint32
	stopping bool
	paused   bool // Pause: nothing is read until Resume
	buf      []byte
}

type commandOp int

const (
	opAdd commandOp = iota
	opExpire
	opStop
	opPause
	opResume
)

type command struct {
	op    commandOp
	pumps []*pump
	at    time.Time // opExpire: when to stop waiting for EOF
	// opPause: where the partial lines go; closed once reading stopped.
	paused chan map[string][]byte
}

// start brings up the epoll instance and its goroutine on first use, so that
// a Reaper whose children have no output pipes never has one.
func (pp *poller) start() error {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.started {
		return nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll_create: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return fmt.Errorf("eventfd: %w", err)
	}
	// Pumps get ids from 1, so id 0 (Pad) is the wake-up.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	pp.epfd, pp.wake = epfd, wake
	pp.done = make(chan struct{})
	pp.pumps = make(map[uint32]*pump)
	pp.started = true
	go pp.run()
	return nil
}

// send queues c. The poller must have been started.
func (pp *poller) send(c command) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.queue = append(pp.queue, c)
	if len(pp.queue) > 1 {
		// The poller was woken for the first and takes the whole queue.
		return
	}
	one := [8]byte{1}
	// Cannot block or fail: the counter would have to reach 2^64-1.
	_, _ = ignoringEINTR(func() (int, error) { return unix.Write(pp.wake, one[:]) })
}

// add hands the read ends of a started process's pipes to the poller.
func (pp *poller) add(pumps []*pump) { pp.send(command{op: opAdd, pumps: pumps}) }

// expire makes the poller take what is in the pumps' pipes at the deadline
// and close them, EOF or not.
func (pp *poller) expire(pumps []*pump, at time.Time) {
	pp.send(command{op: opExpire, pumps: pumps, at: at})
}

// pause stops reading (see Reaper.Pause) and returns the partial lines
// of the FIFOs; nil if the poller does not answer within wait.
func (pp *poller) pause(wait time.Duration) map[string][]byte {
	pp.mu.Lock()
	started := pp.started
	pp.mu.Unlock()
	if !started {
		return nil
	}
	ch := make(chan map[string][]byte, 1)
	pp.send(command{op: opPause, paused: ch})
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case m := <-ch:
		return m
	case <-t.C:
		return nil
	}
}

func (pp *poller) resume() {
	pp.mu.Lock()
	started := pp.started
	pp.mu.Unlock()
	if started {
		pp.send(command{op: opResume})
	}
}

// stop makes the poller return once every pump has finished. Pumps must all
// have a deadline by then, or stop waits for their EOF.
func (pp *poller) stop() {
	pp.mu.Lock()
	started := pp.started
	pp.mu.Unlock()
	if started {
		pp.send(command{op: opStop})
	}
}

// wait waits for the goroutine of a stopped poller to return.
func (pp *poller) wait() {
	pp.mu.Lock()
	started, done := pp.started, pp.done
	pp.mu.Unlock()
	if started {
		<-done
	}
}

func (pp *poller) run() {
	defer close(pp.done)
	pp.buf = make([]byte, readSize)
	events := make([]unix.EpollEvent, maxEvents)
	for {
		pp.apply()
		if pp.stopping && len(pp.pumps) == 0 {
			unix.Close(pp.wake)
			unix.Close(pp.epfd)
			return
		}
		if pp.paused {
			// Level-triggered epoll would report the unread pipes at
			// once, for ever: wait for the next command alone.
			fds := []unix.PollFd{{Fd: int32(pp.wake), Events: unix.POLLIN}}
			_, _ = unix.Poll(fds, -1)
			var b [8]byte
			_, _ = ignoringEINTR(func() (int, error) { return unix.Read(pp.wake, b[:]) })
			continue
		}
		n, err := unix.EpollWait(pp.epfd, events, pp.timeout(time.Now()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// Only a bad epfd or events slice: a bug, and no output would
			// ever be delivered again.
			panic(fmt.Sprintf("process: epoll_wait: %v", err))
		}
		for _, ev := range events[:n] {
			if ev.Pad == 0 {
				var b [8]byte
				_, _ = ignoringEINTR(func() (int, error) { return unix.Read(pp.wake, b[:]) })
				continue
			}
			// Missing when a command finished it since the wait returned.
			if pm := pp.pumps[uint32(ev.Pad)]; pm != nil {
				// One read per ready pipe and turn: a pipe that is always
				// ready cannot starve the others. EPOLLHUP and EPOLLERR come
				// here too; the read reports what they mean.
				pp.read(pm)
			}
		}
		pp.expireDue(time.Now())
	}
}

// apply carries out the queued commands in order: a process's add is queued
// before its exit's expire.
func (pp *poller) apply() {
	pp.mu.Lock()
	queue := pp.queue
	pp.queue = nil
	pp.mu.Unlock()
	for _, c := range queue {
		switch c.op {
		case opAdd:
			for _, pm := range c.pumps {
				pp.register(pm)
			}
		case opExpire:
			for _, pm := range c.pumps {
				if !pm.closed {
					pm.deadline = c.at
					pp.expiring = append(pp.expiring, pm)
				}
			}
		case opStop:
			pp.stopping = true
		case opPause:
			pp.paused = true
			partials := map[string][]byte{}
			for _, pm := range pp.pumps {
				if pm.path != "" && len(pm.partial) > 0 {
					partials[pm.path] = pm.partial
				}
			}
			c.paused <- partials
		case opResume:
			pp.paused = false
		}
	}
}

func (pp *poller) register(pm *pump) {
	for {
		pp.lastID++
		if _, used := pp.pumps[pp.lastID]; pp.lastID != 0 && !used {
			break
		}
	}
	pm.id = pp.lastID
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(pm.fd), Pad: int32(pm.id)}
	if err := unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_ADD, pm.fd, &ev); err != nil {
		// Only out of memory or of epoll watches (fs.epoll.max_user_watches).
		// The child's writes fail, as if it had closed its output.
		pp.log.Error("cannot watch output pipe; closing it", "err", err)
		pp.finish(pm)
		return
	}
	pp.pumps[pm.id] = pm
}

// read reads once from a pipe epoll reported ready.
func (pp *poller) read(pm *pump) {
	if pm.exit != nil {
		pp.finish(pm)
		return
	}
	n, err := ignoringEINTR(func() (int, error) { return unix.Read(pm.fd, pp.buf) })
	switch {
	case n > 0:
		pm.write(pp.buf[:n])
	case err == unix.EAGAIN:
		// Spurious readiness; the pipe is still open.
	default:
		pp.finish(pm) // EOF, or the pipe failed
	}
}

// drain takes what is already in the pipe once the deadline has passed: data
// written before the exit is still wanted, but an escaped process that keeps
// writing must not hold the pump, so at most maxDrain bytes.
func (pp *poller) drain(pm *pump) {
	for total := 0; total < maxDrain; {
		n, err := ignoringEINTR(func() (int, error) { return unix.Read(pm.fd, pp.buf) })
		if err != nil || n <= 0 {
			break
		}
		pm.write(pp.buf[:n])
		total += n
	}
	pp.finish(pm)
}

// finish delivers the unterminated line, closes the pipe and tells the Proc.
func (pp *poller) finish(pm *pump) {
	if len(pm.partial) > 0 && !pm.wholeLines {
		pm.emit(pm.partial)
		pm.partial = nil
	}
	// Explicitly: a child forked meanwhile may hold a copy of the fd until it
	// execs, and epoll forgets an fd only when no copy is left.
	_ = unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_DEL, pm.fd, nil)
	if pm.exit == nil {
		// A pidfd is its Proc's, which signals through it until exit
		// (lostExit) has marked it reaped, and closes it then.
		unix.Close(pm.fd)
	}
	delete(pp.pumps, pm.id)
	pm.closed = true
	switch {
	case pm.exit != nil:
		pm.exit()
	case pm.proc != nil:
		pm.proc.finish()
	}
}

// expireDue drains and closes the pumps whose deadline has passed, and drops
// finished ones from the list.
func (pp *poller) expireDue(now time.Time) {
	kept := pp.expiring[:0]
	for _, pm := range pp.expiring {
		switch {
		case pm.closed:
		case !now.Before(pm.deadline):
			pp.drain(pm)
		default:
			kept = append(kept, pm)
		}
	}
	clear(pp.expiring[len(kept):])
	pp.expiring = kept
}

// timeout is epoll_wait's timeout in milliseconds until the next deadline,
// rounded up so that the wait does not end just before it; -1 for none.
func (pp *poller) timeout(now time.Time) int {
	ms := -1
	for _, pm := range pp.expiring {
		if pm.closed {
			continue
		}
		d := max(pm.deadline.Sub(now), 0)
		m := int((d + time.Millisecond - 1) / time.Millisecond)
		if ms < 0 || m < ms {
			ms = m
		}
	}
	return ms
}
