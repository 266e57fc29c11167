package httpgw

import (
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// followable is what a feed's cursor reads: an events.Broadcaster (the
// event stream, one service's output).
type followable[T any] interface {
	Follow(from uint64) (*events.Reader[T], int64)
	Watch(func()) (stop func())
}

// readerCursor is an httpx.FeedCursor over a broadcaster: the one reader
// a feed's parked followers share. appendItem encodes one item as their
// body, or nothing for an item they do not want.
type readerCursor[T any] struct {
	rd         *events.Reader[T]
	stop       func()
	batch      int
	appendItem func([]byte, *T) []byte
	items      []T
	err        error // the cursor cannot start
}

func newReaderCursor[T any](src followable[T], pos uint64, notify func(), batch int, appendItem func([]byte, *T) []byte) httpx.FeedCursor {
	rd, missed := src.Follow(pos)
	c := &readerCursor[T]{rd: rd, stop: src.Watch(notify), batch: batch, appendItem: appendItem}
	if missed != 0 {
		// pos is no longer kept: the followers find out themselves.
		c.err = events.ErrDropped
	}
	return c
}

func (c *readerCursor[T]) Next(p []byte) ([]byte, uint64, error) {
	if c.err != nil {
		return p, c.rd.Position(), c.err
	}
	items, wait, err := c.rd.Take(c.items[:0], c.batch)
	if wait != nil {
		c.rd.Leave() // the cursor is told of what comes by Watch
	}
	for i := range items {
		p = c.appendItem(p, &items[i])
	}
	clear(items)
	c.items = items[:0]
	return p, c.rd.Position(), err
}

func (c *readerCursor[T]) Close() {
	c.stop()
	c.rd.Leave()
}
