package httpx

import (
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fanOutNice is the OS priority (nice value) of the thread that writes
// to long-lived streams' clients: the lowest. On loopback or a busy
// host, sending one event to a thousand followers costs the sender
// ~13 ms of CPU (the receiving side's TCP work runs inside the sender's
// write), ten times a second in a crash loop; at nice 0 that CPU was
// taken from the gateway's requests, whose p99 grew 5-10 times. At
// nice 19 the kernel runs the writes when nothing else wants the CPU.
const fanOutNice = 19

// fanOutLinger is how long the writer thread waits for more work
// before it ends (and its lowered priority with it): long enough that a
// stream of events keeps one thread, short enough that a server with no
// followers left holds none.
const fanOutLinger = 100 * time.Millisecond

// fanOut writes frames to streams' connections from one goroutine locked
// to an OS thread of its own at nice fanOutNice, without ever waiting
// on a client: each write is a non-blocking write on the socket, and
// what the socket does not take at once goes back to the stream's own
// goroutine, which finishes it with an ordinary write bounded by its
// deadline. One client that stops reading therefore costs the writer one
// failed write, not a wait. It writes two kinds of frames: a stream's
// own (a fanJob: the stream waits for it), and, for the streams parked
// on a feed, what the feed publishes, encoded once for all of them (see
// Feed). A server's streams share one (NewServer makes it); it starts
// with the first frame and ends after fanOutLinger without any.
type fanOut struct {
	mu      sync.Mutex
	queue   []*fanJob
	running bool
	wake    chan struct{} // cap 1: there is work

	// The feeds streams are parked on (see Feed), and whether one may
	// have something new.
	groups   map[Feed]*feedGroup
	notified bool

	// tid is the writer thread's id while it runs (tests read its
	// priority).
	tid int
}

// fanJob is one frame for one connection. The stream owns it and
// waits on done; the writer sets n (bytes written) and err.
type fanJob struct {
	conn    net.Conn
	rc      syscall.RawConn
	timeout time.Duration // the write deadline, from when the frame is written
	p       []byte
	n       int
	err     error
	done    chan struct{}
}

func newFanOut() *fanOut {
	return &fanOut{wake: make(chan struct{}, 1), groups: map[Feed]*feedGroup{}}
}

// write has the writer write j.p and waits until it did what it could
// without blocking; j.n tells how much went.
func (f *fanOut) write(j *fanJob) {
	f.kick(func() { f.queue = append(f.queue, j) })
	<-j.done
}

// kick gives the writer work (add runs under its lock), starting it when
// it is not running, and wakes it.
func (f *fanOut) kick(add func()) {
	f.mu.Lock()
	add()
	if !f.running {
		f.running = true
		go f.run()
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fanOut) run() {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The main thread, which any goroutine may run on: its
		// priority is the one ps and top show for the process, and it
		// cannot end (a goroutine that exits locked to it wedges it).
		// Go on from another thread: while this goroutine holds the
		// main thread, the new one cannot run there.
		moved := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(moved)
			f.loop()
		}()
		<-moved
		runtime.UnlockOSThread()
		return
	}
	f.loop()
}

// loop is the writer, on a thread of its own that is not the main one.
func (f *fanOut) loop() {
	// Never unlocked: when loop returns, the thread ends with it, and
	// no goroutine ever runs on a thread at this priority by chance.
	tid := unix.Gettid()
	// Setpriority with PRIO_PROCESS and a thread id sets that thread
	// only, on Linux. Failing to lower it is not worth failing a
	// stream for: the writes still never block.
	_ = unix.Setpriority(unix.PRIO_PROCESS, tid, fanOutNice)
	f.mu.Lock()
	f.tid = tid
	f.mu.Unlock()
	linger := time.NewTimer(fanOutLinger)
	defer linger.Stop()
	var batch []*fanJob
	var groups []*feedGroup
	for {
		f.mu.Lock()
		batch, f.queue = f.queue, batch[:0]
		if f.notified {
			f.notified = false
			for _, g := range f.groups {
				groups = append(groups, g)
			}
		}
		if len(batch) == 0 && len(groups) == 0 {
			f.mu.Unlock()
			linger.Reset(fanOutLinger)
			select {
			case <-f.wake:
				continue
			case <-linger.C:
			}
			f.mu.Lock()
			if len(f.queue) == 0 && !f.notified {
				f.running = false
				f.tid = 0
				f.mu.Unlock()
				return
			}
			f.mu.Unlock()
			continue
		}
		f.mu.Unlock()
		for i, g := range groups {
			g.pump()
			groups[i] = nil
		}
		groups = groups[:0]
		for i, j := range batch {
			// The deadline counts from now, not from when the frame was
			// queued: a client is cut for not reading, not for the time
			// this thread waited for the CPU.
			_ = j.conn.SetWriteDeadline(time.Now().Add(j.timeout))
			j.n, j.err = writeNow(j.rc, j.p)
			batch[i] = nil
			j.done <- struct{}{}
		}
	}
}

// writeNow writes as much of p to rc as its socket takes without
// waiting (the socket is non-blocking, as all of Go's are; the function
// given to RawConn.Write says "done" whatever the write returned, so
// the netpoller is never asked to wait). A full socket is not an error.
func writeNow(rc syscall.RawConn, p []byte) (n int, err error) {
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := unix.Write(int(fd), p[n:])
			n += max(m, 0)
			if e == unix.EINTR {
				continue
			}
			if e != nil && e != unix.EAGAIN {
				werr = e
			}
			if e != nil || m <= 0 {
				break // a full socket (EAGAIN), or an error
			}
		}
		return true
	}); err != nil {
		return n, err
	}
	return n, werr
}

// writerTID is the writer thread's id, 0 when none runs.
func (f *fanOut) writerTID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tid
}
