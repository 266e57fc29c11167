package logfile

import (
	"io"
	"strconv"
	"sync"
)

// QueueBytes bounds what one log file may have waiting for the disk. The
// poller hands over at most 32 KiB of a pipe per turn, so this is several
// turns of a service writing flat out.
const QueueBytes = 256 << 10

// Writer takes lines without ever waiting for the disk: they queue in
// memory, up to a bound, and a goroutine of the writer's own writes them
// out. A line that finds the queue full is dropped and counted, and the
// count is written where the lines went missing, as
// "[tend: N lines dropped]". The goroutine runs only while lines wait, so
// a quiet service holds none; Close waits for it.
type Writer struct {
	out   io.WriteCloser
	limit int

	mu      sync.Mutex
	pending []byte // lines waiting, each with its newline
	spare   []byte // the buffer the goroutine wrote last, for reuse
	dropped int    // since the last note
	running bool   // the goroutine is draining
	closed  bool
	wg      sync.WaitGroup
}

// NewWriter returns a writer to out (a Rotator) that queues up to limit
// bytes; limit 0 means QueueBytes.
func NewWriter(out io.WriteCloser, limit int) *Writer {
	if limit <= 0 {
		limit = QueueBytes
	}
	return &Writer{out: out, limit: limit}
}

// WriteLine queues line and a newline. It never blocks on I/O; after
// Close it does nothing.
func (w *Writer) WriteLine(line []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if len(w.pending)+len(line)+1 > w.limit {
		w.dropped++
		return
	}
	w.noteDropped()
	w.pending = append(append(w.pending, line...), '\n')
	w.kick()
}

// noteDropped queues the count of lines dropped since the last note. The
// note may take the queue a little past its bound: it is short.
func (w *Writer) noteDropped() {
	if w.dropped == 0 {
		return
	}
	w.pending = append(w.pending, "[tend: "+strconv.Itoa(w.dropped)+" lines dropped]\n"...)
	w.dropped = 0
}

// kick starts the goroutine unless it runs. Called with mu held.
func (w *Writer) kick() {
	if w.running || len(w.pending) == 0 {
		return
	}
	w.running = true
	w.wg.Add(1)
	go w.drain()
}

// drain writes what is queued until the queue is empty. A failed write
// (disk full) loses those lines; the supervisor's log still has them. Two
// buffers take turns while lines keep coming; an idle writer keeps none,
// so a service that once logged a burst does not hold its size for good.
func (w *Writer) drain() {
	defer w.wg.Done()
	w.mu.Lock()
	for len(w.pending) > 0 {
		buf := w.pending
		w.pending, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		_, _ = w.out.Write(buf)
		w.mu.Lock()
		w.spare = buf[:0]
	}
	w.pending, w.spare = nil, nil
	w.running = false
	w.mu.Unlock()
}

// Flush returns once every line queued so far is written (a supervisor
// about to re-execute itself must not leave lines in memory). Lines
// queued meanwhile may be written too.
func (w *Writer) Flush() {
	w.mu.Lock()
	w.noteDropped()
	w.kick()
	w.mu.Unlock()
	w.wg.Wait()
}

// Close writes what is queued (and the count of lines dropped last),
// waits for the goroutine, and closes out. Later lines are ignored.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.noteDropped()
	w.kick()
	w.mu.Unlock()
	w.wg.Wait()
	return w.out.Close()
}
