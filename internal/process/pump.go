package process

import (
	"bytes"
	"time"
)

const (
	// maxLine is the longest line delivered whole; longer ones are split.
	maxLine = 64 << 10
	// readSize is the size of the poller's read buffer, and so the most one
	// pipe gets read per turn.
	readSize = 32 << 10
	// maxDrain bounds the last reads after the drain deadline, so an escaped
	// process that keeps writing cannot hold the pump.
	maxDrain = 256 << 10
)

// pump splits the output of one pipe into lines. The Reaper's poller owns
// it: it reads the pipe and calls write, and no other goroutine touches it
// once Start has handed it over.
type pump struct {
	fd      int // read end, non-blocking
	proc    *Proc
	emit    func([]byte)
	partial []byte // an unterminated line, at most maxLine bytes
	// wholeLines drops an unterminated last line instead of delivering it
	// (a notification fd: only a newline means ready).
	wholeLines bool
	// exit, when set, makes this a pidfd, not a pipe: it is never read,
	// and its readiness (the process exited) calls exit, on the poller's
	// goroutine, once it is no longer watched; exit closes it.
	exit func()
	// path is the FIFO read, "" for an anonymous pipe: what a hand-over
	// keys the unterminated line by (Reaper.Pause).
	path string

	id       uint32    // the pipe's key in the poller and in its epoll events
	deadline time.Time // once the process has exited: stop waiting for EOF
	closed   bool
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
