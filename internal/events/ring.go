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
//
// Readers waiting for the next item are woken a few at a time, in turn:
// each one woken wakes the next as it takes what is new (see Limits.Wake).
// A reader that does not wait on a channel of its own can Watch instead:
// the gateway's writer thread does, for the followers it writes to
// (httpx.Feed), which then do not wait on their readers at all.
package events

import (
	"errors"
	"runtime"
	"slices"
	"sync"
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
	// Wake is how many waiting readers a Publish wakes at once; each
	// of them, as it takes what is new, wakes the next reader waiting,
	// so that Wake readers at most are woken and yet to take. 0: half
	// the CPUs Go uses, at least one. Waking every reader at once made
	// a thousand /events followers a thousand runnable goroutines, and
	// a /services request queued behind all of their writes. (Followers
	// over plain HTTP/1.1 no longer wait on their readers; those over
	// TLS or HTTP/2, and the control socket's, still do.)
	Wake int
}

// Broadcaster is a numbered, bounded ring of items with readers that follow
// it. The first item published has id 1. It is safe for concurrent use;
// Publish holds a mutex for a copy and never blocks otherwise.
type Broadcaster[T any] struct {
	lim   Limits
	size  func(T) int      // nil: items count, not bytes
	stamp func(*T, uint64) // nil: items do not carry their id

	mu     sync.Mutex
	buf    []T   // circular once full; grows up to lim.Keep, so an idle one holds little
	sizes  []int // of buf's items, when size is set
	first  uint64
	next   uint64
	base   uint64 // the id at buf[0] while buf grows: 1, or where Continue began
	bytes  int
	closed bool

	// The readers waiting for the next item, in the order they came
	// (so by position: each came up to date), and how many of those
	// woken have not taken yet.
	head, tail *Reader[T]
	woken      int

	// Told of every Publish and of Close (see Watch).
	watchers []*func()
}

// New returns a broadcaster keeping what lim allows. size, when not nil,
// is an item's cost against lim.MaxBytes; stamp, when not nil, writes an
// item's id into it as it is published.
func New[T any](lim Limits, size func(T) int, stamp func(*T, uint64)) *Broadcaster[T] {
	lim.Keep = max(lim.Keep, 1)
	if lim.Wake <= 0 {
		lim.Wake = max(runtime.GOMAXPROCS(0)/2, 1)
	}
	return &Broadcaster[T]{lim: lim, size: size, stamp: stamp, first: 1, next: 1, base: 1}
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
	id := b.publishLocked(v, sz)
	b.wakeSome()
	b.tellWatchers()
	return id
}

// Watch has f called, with the broadcaster's mutex held (so f must not
// block nor call the broadcaster), after each Publish and on Close,
// until stop is called. It is for a reader that does not wait on Take's
// channel: the server's writer thread, which follows many feeds and
// cannot wait on each one's channel.
func (b *Broadcaster[T]) Watch(f func()) (stop func()) {
	w := &f
	b.mu.Lock()
	b.watchers = append(b.watchers, w)
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if i := slices.Index(b.watchers, w); i >= 0 {
			b.watchers = slices.Delete(b.watchers, i, i+1)
		}
	}
}

func (b *Broadcaster[T]) tellWatchers() {
	for _, w := range b.watchers {
		(*w)()
	}
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
	return id
}

// slot is where id lives in buf. buf grows by one with each of the first
// Keep items (ids base..base+Keep-1 at 0..Keep-1), then wraps.
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

// wakeSome wakes waiting readers, oldest first, while fewer than
// lim.Wake are woken and yet to take, and there is something new for
// them; after Close, all of them. Called with mu held.
func (b *Broadcaster[T]) wakeSome() {
	for r := b.head; r != nil && (b.closed || (b.woken < b.lim.Wake && r.next < b.next)); r = b.head {
		b.unlink(r)
		r.state = hasTurn
		b.woken++
		select {
		case r.wake <- struct{}{}:
		default: // cannot be: enqueue emptied it
		}
	}
}

func (b *Broadcaster[T]) unlink(r *Reader[T]) {
	if r.prev != nil {
		r.prev.succ = r.succ
	} else {
		b.head = r.succ
	}
	if r.succ != nil {
		r.succ.prev = r.prev
	} else {
		b.tail = r.prev
	}
	r.prev, r.succ = nil, nil
}

// Close wakes every reader with ErrClosed once it has read what is kept.
func (b *Broadcaster[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.wakeSome()
		b.tellWatchers()
	}
}

// Next is the id the next item published will get.
func (b *Broadcaster[T]) Next() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next
}

// Reader follows a broadcaster from one id on. It is one goroutine's.
// A reader that waited (Take returned a channel) and stops following
// must Leave.
type Reader[T any] struct {
	b    *Broadcaster[T]
	next uint64

	// Held by b.mu:
	state      readerState
	prev, succ *Reader[T]    // in b's queue of waiting readers
	wake       chan struct{} // sent on when woken; made on the first wait
}

type readerState uint8

const (
	reading readerState = iota // not waiting
	queued                     // in the queue of its broadcaster
	hasTurn                    // woken in its turn, yet to take
)

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
// is sent on once there may be; it is nil when items were returned. A
// reader that fell behind gets ErrDropped, and after Close, once it has
// read everything kept, ErrClosed. A reader that was woken passes its
// turn on to the next reader waiting, whatever Take returns.
func (r *Reader[T]) Take(buf []T, max int) ([]T, <-chan struct{}, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	r.leave()
	if r.next < b.first {
		return buf, nil, ErrDropped
	}
	n := b.next - r.next
	if n == 0 {
		if b.closed {
			return buf, nil, ErrClosed
		}
		r.enqueue()
		return buf, r.wake, nil
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

// Leave says the reader no longer waits on the channel Take returned: it
// leaves the queue of waiting readers, or, woken, passes its turn on.
// Call it when it stops following, and before anything else that may
// block while it waits (a heartbeat's write to a client that stopped
// reading): until a reader woken in its turn takes or leaves, the
// readers after it are not woken. Take again to wait again.
func (r *Reader[T]) Leave() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.leave()
}

func (r *Reader[T]) leave() {
	b := r.b
	switch r.state {
	case queued:
		b.unlink(r)
	case hasTurn:
		b.woken--
		b.wakeSome()
	}
	r.state = reading
}

// enqueue puts the reader last in the queue of waiting readers.
func (r *Reader[T]) enqueue() {
	b := r.b
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	select {
	case <-r.wake: // a wake its reader did not wait for
	default:
	}
	r.state = queued
	r.prev = b.tail
	if b.tail != nil {
		b.tail.succ = r
	} else {
		b.head = r
	}
	b.tail = r
}

// Position is the id of the next item the reader will take.
func (r *Reader[T]) Position() uint64 { return r.next }

// SkipTo moves the reader on to id, when id is ahead of it: the items
// before id reached its follower another way (the server's writer
// thread wrote them). A reader that is not waiting calls it.
func (r *Reader[T]) SkipTo(id uint64) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.next = max(r.next, min(id, r.b.next))
}
