package ctl

import (
	"sync"
	"time"
)

// rateLimiter lets one event through per period and counts the others, so
// a log line can say how many were left out since the last one.
type rateLimiter struct {
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time // when the last event was let through; zero at first
	suppressed int
}

// allow reports whether this event may be logged and, if so, how many were
// suppressed since the last one that was.
func (l *rateLimiter) allow() (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	l.last = now
	n := l.suppressed
	l.suppressed = 0
	return true, n
}
