// Package events holds the supervisor's live feeds: a bounded broadcaster
// that numbers what is published, keeps the latest of it for replay and
// lets any number of readers follow at their own pace. The manager owns
// one for its event stream (Event) and each service one for its output
// lines (api.LogLine).
//
// Every reader has a queue of its own, bounded: it is the part of the
// shared ring between the reader's cursor and the newest item, so a
// reader costs no memory and publishing costs the same whatever the
// readers do. Publishing never waits on a reader; a reader that falls
// further behind than the ring keeps is dropped (Take says ErrDropped),
// which is what drop-on-full is with a queue per reader.
package events

import (
	"errors"
	"sync"
	"sync/atomic"
)

// ErrDropped means the reader fell so far behind that what it had not
// read yet is no longer kept.
var ErrDropped = errors.New("events: reader fell behind and was dropped")

// ErrClosed means the broadcaster was closed: nothing more will come.
var ErrClosed = errors.New("events: closed")

// Limits bound what a broadcaster keeps.
type Limits struct {
	// Keep is how many items are kept (at least 1).
	Keep int
	// MaxBytes bounds the items kept by their Size too; 0: no bound.
	MaxBytes int
}

// Broadcaster is a numbered, bounded ring of items with readers that follow
// it. The first item published has id 1. It is safe for concurrent use;
// Publish holds a mutex for a copy and never blocks otherwise.
type Broadcaster[T any] struct {
	lim   Limits
	size  func(T) int      // nil: items count, not bytes
	stamp func(*T, uint64) // nil: items do not carry their id

	// mu is held to write by Publish and Close, to read by the readers:
	// a thousand readers woken by one Publish copy what is new side by
	// side, rather than queueing on a mutex (a convoy that held up every
	// other goroutine of the supervisor for hundreds of milliseconds).
	mu      sync.RWMutex
	buf     []T   // circular once full; grows up to lim.Keep, so an idle one holds little
	sizes   []int // of buf's items, when size is set
	first   uint64
	next    uint64
	base    uint64 // the id at buf[0] while buf grows: 1, or where Continue began
	bytes   int
	wake    chan struct{} // closed by the next Publish when waiting
	waiting atomic.Bool   // a reader holds wake: Publish must close it (set under a read lock)
	closed  bool
}

// New returns a broadcaster keeping what lim allows. size, when not nil,
// is an item's cost against lim.MaxBytes; stamp, when not nil, writes an
// item's id into it as it is published.
func New[T any](lim Limits, size func(T) int, stamp func(*T, uint64)) *Broadcaster[T] {
	lim.Keep = max(lim.Keep, 1)
	return &Broadcaster[T]{lim: lim, size: size, stamp: stamp, first: 1, next: 1, base: 1, wake: make(chan struct{})}
}

// Publish adds v, dropping the oldest items past the limits, wakes the
// readers, and returns v's id. After Close it does nothing and returns 0.
func (b *Broadcaster[T]) Publish(v T) uint64 {
	sz := 0
	if b.size != nil {
		sz = b.size(v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0
	}
	return b.publishLocked(v, sz)
}

func (b *Broadcaster[T]) publishLocked(v T, sz int) uint64 {
	id := b.next
	if b.stamp != nil {
		b.stamp(&v, id)
	}
	for b.next-b.first >= uint64(b.lim.Keep) || (b.lim.MaxBytes > 0 && b.first < b.next && b.bytes+sz > b.lim.MaxBytes) {
		b.dropOldest()
	}
	i := b.slot(id)
	if i < len(b.buf) {
		b.buf[i] = v
	} else {
		b.buf = append(b.buf, v) // growing: i == len(b.buf)
	}
	if b.size != nil {
		if i < len(b.sizes) {
			b.sizes[i] = sz
		} else {
			b.sizes = append(b.sizes, sz)
		}
		b.bytes += sz
	}
	b.next++
	b.signal()
	return id
}

// slot is where id lives in buf. buf grows by one with each of the first
// Keep items (ids 1..Keep at 0..Keep-1), then wraps.
func (b *Broadcaster[T]) slot(id uint64) int { return int((id - b.base) % uint64(b.lim.Keep)) }

// Continue makes an empty broadcaster go on where another left off (a
// supervisor that re-executed itself): items, that one's latest, oldest
// first, are kept with the ids they had, the last being next-1, and the
// next item published gets next. A follower that resumes from an id it
// saw misses nothing and sees nothing twice. It does nothing once
// anything was published, or for a next that does not fit items.
func (b *Broadcaster[T]) Continue(items []T, next uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next != 1 || b.closed || next < uint64(len(items))+1 {
		return
	}
	b.first = next - uint64(len(items))
	b.next, b.base = b.first, b.first
	for _, v := range items {
		sz := 0
		if b.size != nil {
			sz = b.size(v)
		}
		b.publishLocked(v, sz)
	}
}

func (b *Broadcaster[T]) dropOldest() {
	i := b.slot(b.first)
	var zero T
	b.buf[i] = zero // let what it held go
	if b.size != nil {
		b.bytes -= b.sizes[i]
	}
	b.first++
}

// signal wakes the readers waiting. Called with mu held.
func (b *Broadcaster[T]) signal() {
	if b.waiting.Swap(false) {
		close(b.wake)
		b.wake = make(chan struct{})
	}
}

// Close wakes every reader with ErrClosed once it has read what is kept.
func (b *Broadcaster[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.waiting.Store(true)
		b.signal()
	}
}

// Next is the id the next item published will get.
func (b *Broadcaster[T]) Next() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.next
}

// Reader follows a broadcaster from one id on. It is one goroutine's.
type Reader[T any] struct {
	b    *Broadcaster[T]
	next uint64
}

// Follow returns a reader of the items from id from on. from 0 means
// those published from now on. A from older than the oldest item kept
// starts at the oldest, and missed counts the items lost in between; a
// from past the newest (an id of an earlier run, numbered anew) starts at
// the oldest kept too, with missed -1: how many is not known.
func (b *Broadcaster[T]) Follow(from uint64) (r *Reader[T], missed int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case from == 0:
		from = b.next
	case from > b.next:
		from, missed = b.first, -1
	case from < b.first:
		from, missed = b.first, int64(b.first-from)
	}
	return &Reader[T]{b: b, next: from}, missed
}

// Tail returns a reader of the last n items kept (fewer when fewer are
// kept), then what follows.
func (b *Broadcaster[T]) Tail(n int) *Reader[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	from := b.first
	if n >= 0 && b.next-b.first > uint64(n) {
		from = b.next - uint64(n)
	}
	return &Reader[T]{b: b, next: from}
}

// Take appends to buf up to max items not read yet (max <= 0: all there
// are) and returns them. When there are none it returns a channel that
// is closed once there may be; it is nil when items were returned. A
// reader that fell behind gets ErrDropped, and after Close, once it has
// read everything kept, ErrClosed.
func (r *Reader[T]) Take(buf []T, max int) ([]T, <-chan struct{}, error) {
	b := r.b
	b.mu.RLock()
	defer b.mu.RUnlock()
	if r.next < b.first {
		return buf, nil, ErrDropped
	}
	n := b.next - r.next
	if n == 0 {
		if b.closed {
			return buf, nil, ErrClosed
		}
		b.waiting.Store(true)
		return buf, b.wake, nil
	}
	if max > 0 && n > uint64(max) {
		n = uint64(max)
	}
	for id := r.next; id < r.next+n; id++ {
		buf = append(buf, b.buf[b.slot(id)])
	}
	r.next += n
	return buf, nil, nil
}

// Position is the id of the next item the reader will take.
func (r *Reader[T]) Position() uint64 { return r.next }
