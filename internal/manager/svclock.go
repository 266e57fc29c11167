package manager

import (
	"context"
	"sync"

	"github.com/tend-sh/tend/internal/api"
)

// svcLocks serialises the control operations on one service. An operation
// may wait a long time (a stop's timeout, a start's init hook); it holds up
// the operations on its own service only, never another's.
type svcLocks struct {
	mu   sync.Mutex
	held map[string]*svcLock
}

type svcLock struct {
	ch    chan struct{} // holds one token while the lock is held
	users int           // holders and waiters; the entry goes at zero
}

// lock takes name's lock, or gives up when ctx ends.
func (l *svcLocks) lock(ctx context.Context, name string) (unlock func(), err error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = map[string]*svcLock{}
	}
	s := l.held[name]
	if s == nil {
		s = &svcLock{ch: make(chan struct{}, 1)}
		l.held[name] = s
	}
	s.users++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if s.users--; s.users == 0 {
			delete(l.held, name)
		}
		l.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, api.Errorf(api.Internal, "another operation on %s is still running: %v", name, ctx.Err())
	}
}
