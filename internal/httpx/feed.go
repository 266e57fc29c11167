package httpx

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Feed is something many streams follow alike, each getting the same
// bytes in the same order: the supervisor's events, one service's log
// lines in one format. A stream that is up to date with its feed parks
// on it (Stream.Park), and the server's writer thread then writes what
// the feed publishes to every parked stream itself: it encodes it once,
// frames it once, and writes the same bytes to each connection without
// waiting, so that a publish costs the gateway's own goroutines the same
// whether one stream follows or a thousand. Streams whose Feeds are
// equal (==) share one cursor: a Feed must be comparable.
type Feed interface {
	// Cursor starts reading the feed at position pos. It calls notify,
	// which does not block, whenever there may be something after the
	// cursor, until the cursor is closed.
	Cursor(pos uint64, notify func()) FeedCursor
}

// FeedCursor reads a feed for the writer thread.
type FeedCursor interface {
	// Next appends to p a part of what follows the cursor, encoded as a
	// stream's body, moves past it and returns p and the position after
	// it; nothing new: p and the position as they were. What follows
	// may encode to nothing (the streams want none of it): then p is
	// unchanged and the position moves. An error means the cursor can
	// go no further (it fell behind the feed, the feed closed): its
	// streams find out for themselves.
	Next(p []byte) ([]byte, uint64, error)
	// Close stops the cursor: it no longer calls notify.
	Close()
}

// feedGroup is the streams parked on one feed, and its cursor. Its
// mutex is held by the writer thread while it writes one frame to the
// group's streams (non-blocking writes, so briefly), and by a stream
// joining or leaving.
type feedGroup struct {
	feed Feed
	fan  *fanOut

	mu      sync.Mutex
	cur     FeedCursor // nil until the first stream joins
	pos     uint64     // the cursor's position
	members []*parked
	dead    bool   // the cursor is closed: a stream joins a new group
	body    []byte // the frame being written, reused
	chunk   []byte
}

// parked is a stream while it is parked on a feed. The writer thread
// sets its fields under the group's mutex, and on taking it out of the
// group sends on woken; the stream reads them once it is out.
type parked struct {
	s     *Stream
	g     *feedGroup
	idx   int    // in g.members, while a member
	pos   uint64 // the position it is up to
	rest  []byte // the part of a frame the writer could not write
	err   error  // a write failed: the connection is unusable
	woken chan struct{}
}

// join parks m on feed at position m.pos and returns the group it
// joined; nil when the feed's cursor is past m.pos already: the stream
// is not up to date and should take what is new itself.
func (f *fanOut) join(feed Feed, m *parked) *feedGroup {
	for {
		f.mu.Lock()
		g := f.groups[feed]
		if g == nil {
			g = &feedGroup{feed: feed, fan: f}
			f.groups[feed] = g
		}
		f.mu.Unlock()
		g.mu.Lock()
		if g.dead {
			g.mu.Unlock()
			continue
		}
		fresh := g.cur == nil
		if fresh {
			g.pos = m.pos
			g.cur = feed.Cursor(m.pos, f.notify)
		}
		if m.pos < g.pos {
			g.mu.Unlock()
			return nil
		}
		m.g, m.idx = g, len(g.members)
		g.members = append(g.members, m)
		g.mu.Unlock()
		if fresh {
			// What was published before the cursor watched.
			f.notify()
		}
		return g
	}
}

// leave takes m out of its group, if the writer thread has not already.
func (g *feedGroup) leave(m *parked) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.g == g {
		g.remove(m)
	}
}

// remove takes m out of the group; the last member out closes it.
// Called with g.mu held.
func (g *feedGroup) remove(m *parked) {
	last := g.members[len(g.members)-1]
	g.members[m.idx], last.idx = last, m.idx
	g.members[len(g.members)-1] = nil
	g.members = g.members[:len(g.members)-1]
	m.g = nil
	if len(g.members) == 0 {
		g.close()
	}
}

// close closes the group's cursor and forgets it. Called with g.mu held.
func (g *feedGroup) close() {
	g.dead = true
	if g.cur != nil {
		g.cur.Close()
	}
	g.body, g.chunk = nil, nil
	g.fan.mu.Lock()
	if g.fan.groups[g.feed] == g {
		delete(g.fan.groups, g.feed)
	}
	g.fan.mu.Unlock()
}

// wake takes m out of the group and sends its stream back to work.
// Called with g.mu held.
func (g *feedGroup) wake(m *parked) {
	g.remove(m)
	m.woken <- struct{}{}
}

// pump writes what is new on the group's feed to its streams, on the
// writer thread. A stream whose socket does not take a whole frame, or
// whose write fails, is woken to finish (or end) itself; so is every
// stream when the cursor can go no further, and a stream that is not
// where a frame begins (it joined ahead of the cursor and the frame
// spans its position: rare).
func (g *feedGroup) pump() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.dead && g.cur != nil {
		from := g.pos
		body, to, err := g.cur.Next(g.body[:0])
		g.body = body
		if err != nil {
			for len(g.members) > 0 && !g.dead {
				g.wake(g.members[len(g.members)-1])
			}
			if !g.dead {
				g.close()
			}
			return
		}
		if to == from {
			return
		}
		g.pos = to
		var chunk []byte
		if len(body) > 0 {
			chunk = strconv.AppendUint(g.chunk[:0], uint64(len(body)), 16)
			chunk = append(chunk, "\r\n"...)
			chunk = append(chunk, body...)
			chunk = append(chunk, "\r\n"...)
			g.chunk = chunk
		}
		for i := 0; i < len(g.members) && !g.dead; {
			m := g.members[i]
			switch {
			case m.pos >= to:
				i++ // joined ahead of this frame
				continue
			case m.pos != from:
				g.wake(m)
				continue
			}
			m.pos = to
			if len(chunk) == 0 {
				i++
				continue
			}
			n, err := writeNow(m.s.job.rc, chunk)
			if err != nil || n < len(chunk) {
				m.err = err
				m.rest = append(m.rest[:0], chunk[n:]...)
				g.wake(m)
				continue
			}
			i++
		}
		if cap(g.chunk) > 64<<10 {
			g.body, g.chunk = nil, nil // do not keep a large frame's buffer
		}
	}
}

// notify is a feed cursor's: there may be something new. It does not
// block (it runs inside the feed's publish).
func (f *fanOut) notify() { f.kick(func() { f.notified = true }) }

// Park waits for what follows position pos on feed, as Wait does for
// ch, but over plain TCP and HTTP/1.1 (see Stream) it leaves the
// writing to the server's writer thread, which writes what feed
// publishes to this stream while it is parked. It returns the position
// the stream is at then (what the writer wrote for it counted; the
// caller moves its reader there and goes on from it), and false when
// ctx ends or a write fails. It returns when the writer could not write
// a whole frame (after this goroutine has written the rest, bounded by
// the deadline), when the stream is not up to date with the feed, when
// the feed's cursor can go no further, and on a tick, after writing
// line. The caller has stopped waiting on its reader (away) before it
// parks; on a stream that cannot park, Park is Wait.
func (s *Stream) Park(ctx context.Context, feed Feed, pos uint64, ch <-chan struct{}, away func(), tick <-chan time.Time, line []byte) (uint64, bool) {
	if s.fan == nil {
		return pos, s.Wait(ctx, ch, away, tick, line)
	}
	if away != nil {
		away()
	}
	if s.err != nil {
		return pos, false
	}
	if !s.headSent {
		if err := s.sendHead(); err != nil {
			return pos, false
		}
	}
	m := &s.park
	if m.woken == nil {
		m.woken = make(chan struct{}, 1)
	}
	m.s, m.pos, m.err = s, pos, nil
	m.rest = m.rest[:0]
	// The writer's writes never wait, and a write deadline that passed
	// while parked would fail them: none while parked. Every way out
	// sets one again.
	_ = s.conn.SetWriteDeadline(time.Time{})
	g := s.fan.join(feed, m)
	if g == nil {
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		return pos, true
	}
	beat := false
	select {
	case <-m.woken:
	case <-ctx.Done():
	case <-tick:
		beat = true
	}
	g.leave(m)
	select {
	case <-m.woken: // the writer took it out meanwhile
	default:
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if m.err != nil {
		s.fail(m.err)
		return m.pos, false
	}
	if len(m.rest) > 0 {
		if _, err := s.conn.Write(m.rest); err != nil {
			s.fail(err)
			return m.pos, false
		}
		if cap(m.rest) > 64<<10 {
			m.rest = nil
		}
	}
	if ctx.Err() != nil {
		return m.pos, false
	}
	if beat {
		if _, err := s.Write(line); err != nil {
			return m.pos, false
		}
	}
	return m.pos, true
}
