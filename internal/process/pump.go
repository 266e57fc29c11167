package process

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	// maxLine is the longest line delivered whole; longer ones are split.
	maxLine = 64 << 10
	// readSize is the size of the pooled read buffers.
	readSize = 32 << 10
	// maxDrain bounds the last read after the drain deadline, so an escaped
	// process that keeps writing cannot hold the pump.
	maxDrain = 256 << 10
)

// pump delivers the lines of one output pipe. It waits for readability on Go's
// poller without holding a buffer (RawConn.Read calls back only when it
// might read), so an idle pipe costs a parked goroutine and the bytes of an
// unfinished line.
type pump struct {
	f        *os.File
	emit     func([]byte)
	partial  []byte // an unterminated line, at most maxLine bytes
	finished atomic.Bool
}

func (pm *pump) run(bufs *sync.Pool, done func()) {
	defer done()
	defer pm.finished.Store(true)
	defer pm.f.Close()
	rc, err := pm.f.SyscallConn()
	if err != nil {
		return
	}
	var (
		buf  *[]byte
		n    int
		rerr error
	)
	read := func(fd uintptr) bool {
		b := bufs.Get().(*[]byte)
		n, rerr = ignoringEINTR(func() (int, error) { return unix.Read(int(fd), *b) })
		if rerr == unix.EAGAIN {
			bufs.Put(b)
			return false // wait for readability without a buffer
		}
		buf = b
		return true
	}
	for {
		buf = nil
		err := rc.Read(read)
		if buf != nil {
			if n > 0 {
				pm.write((*buf)[:n])
			}
			bufs.Put(buf)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			pm.drain(rc, bufs)
			break
		}
		if err != nil || rerr != nil || n <= 0 {
			break // EOF, or the pipe failed
		}
	}
	if len(pm.partial) > 0 {
		pm.emit(pm.partial)
		pm.partial = nil
	}
}

// drain takes what is already in the pipe once the deadline has passed: the
// poller refuses to read then, but data written before the exit is still
// wanted.
func (pm *pump) drain(rc interface {
	Control(func(fd uintptr)) error
}, bufs *sync.Pool) {
	b := bufs.Get().(*[]byte)
	defer bufs.Put(b)
	_ = rc.Control(func(fd uintptr) {
		for total := 0; total < maxDrain; {
			n, err := ignoringEINTR(func() (int, error) { return unix.Read(int(fd), *b) })
			if err != nil || n <= 0 {
				return
			}
			pm.write((*b)[:n])
			total += n
		}
	})
}

// write splits b into lines, joining the unterminated line of the last read.
func (pm *pump) write(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			pm.hold(b)
			return
		}
		line := b[:i]
		b = b[i+1:]
		if len(pm.partial) > 0 {
			line = append(pm.partial, line...)
			// Dropped, not kept for reuse: a silent pipe should not pin the
			// capacity of its longest line.
			pm.partial = nil
		}
		for len(line) > maxLine {
			pm.emit(line[:maxLine])
			line = line[maxLine:]
		}
		pm.emit(line)
	}
}

// hold keeps an unterminated piece, sending full maxLine chunks at once.
func (pm *pump) hold(b []byte) {
	pm.partial = append(pm.partial, b...)
	if len(pm.partial) <= maxLine {
		return
	}
	rest := pm.partial
	for len(rest) > maxLine {
		pm.emit(rest[:maxLine])
		rest = rest[maxLine:]
	}
	pm.partial = append([]byte(nil), rest...)
}
