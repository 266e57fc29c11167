package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

func ints(n int) *Broadcaster[int] { return New[int](Limits{Keep: n}, nil, nil) }

func takeAll[T any](t *testing.T, r *Reader[T]) []T {
	t.Helper()
	got, _, err := r.Take(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Last-Event-ID N replays exactly what followed N, and then what comes.
func TestFollowReplaysWhatFollowedAnID(t *testing.T) {
	b := ints(8)
	for i := 1; i <= 5; i++ {
		if id := b.Publish(i * 10); id != uint64(i) {
			t.Fatalf("item %d got id %d", i, id)
		}
	}
	r, missed := b.Follow(3)
	if missed != 0 {
		t.Errorf("missed %d", missed)
	}
	if got := takeAll(t, r); !slices.Equal(got, []int{30, 40, 50}) {
		t.Fatalf("replay after id 2: %v", got)
	}
	b.Publish(60)
	if got := takeAll(t, r); !slices.Equal(got, []int{60}) {
		t.Fatalf("then %v", got)
	}
	// from 0: only what is published from now on.
	r, _ = b.Follow(0)
	if got := takeAll(t, r); len(got) != 0 {
		t.Fatalf("a new reader got %v", got)
	}
}

// The ring keeps Keep items across many wraps; an id no longer kept
// replays the oldest kept and says how many were lost.
func TestFollowPastTheRingSaysWhatWasLost(t *testing.T) {
	b := ints(4)
	for i := 1; i <= 10; i++ {
		b.Publish(i)
	}
	r, missed := b.Follow(2) // 2..6 are gone
	if missed != 5 {
		t.Errorf("missed %d; want 5", missed)
	}
	if got := takeAll(t, r); !slices.Equal(got, []int{7, 8, 9, 10}) {
		t.Fatalf("kept %v", got)
	}
	// An id from an earlier run (past the newest) replays what is kept.
	r, missed = b.Follow(500)
	if missed != -1 {
		t.Errorf("missed %d; want -1 (unknown)", missed)
	}
	if got := takeAll(t, r); !slices.Equal(got, []int{7, 8, 9, 10}) {
		t.Fatalf("kept %v", got)
	}
}

func TestTailAndMaxBytes(t *testing.T) {
	b := New[string](Limits{Keep: 100, MaxBytes: 10}, func(s string) int { return len(s) }, nil)
	for _, s := range []string{"aaaa", "bbbb", "cccc", "dd"} {
		b.Publish(s)
	}
	// 4+4+4 > 10: "aaaa" went; "bbbb"+"cccc"+"dd" = 10 fit.
	if got := takeAll(t, b.Tail(100)); !slices.Equal(got, []string{"bbbb", "cccc", "dd"}) {
		t.Fatalf("kept %q", got)
	}
	if got := takeAll(t, b.Tail(2)); !slices.Equal(got, []string{"cccc", "dd"}) {
		t.Fatalf("tail 2: %q", got)
	}
	// One item over the whole budget is still kept, alone.
	b.Publish("0123456789abc")
	if got := takeAll(t, b.Tail(100)); !slices.Equal(got, []string{"0123456789abc"}) {
		t.Fatalf("kept %q", got)
	}
}

// A reader that stops reading does not hold up Publish, and once what it
// had not read is overwritten it is told it was dropped.
func TestSlowReaderIsDroppedAndNeverBlocks(t *testing.T) {
	b := ints(16)
	slow, _ := b.Follow(0)
	fast, _ := b.Follow(0)
	for i := range 1000 {
		b.Publish(i)
		if i%10 == 0 {
			takeAll(t, fast)
		}
	}
	if _, _, err := slow.Take(nil, 0); !errors.Is(err, ErrDropped) {
		t.Fatalf("slow reader: %v; want ErrDropped", err)
	}
	if got := takeAll(t, fast); !slices.Equal(got, []int{991, 992, 993, 994, 995, 996, 997, 998, 999}) {
		t.Fatalf("fast reader got %v", got)
	}
}

func TestTakeHonoursMax(t *testing.T) {
	b := ints(8)
	r, _ := b.Follow(0)
	for i := range 5 {
		b.Publish(i)
	}
	got, _, _ := r.Take(nil, 2)
	got, _, _ = r.Take(got, 2)
	if !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("two takes of 2: %v", got)
	}
}

// A waiting reader is woken by the next Publish and by Close, at once.
func TestWaitingReaderIsWoken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewStream()
		r, _ := b.Follow(0)
		got := make(chan Event, 10)
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				evs, wait, err := r.Take(nil, 0)
				if err != nil {
					close(got)
					return
				}
				for _, e := range evs {
					got <- e
				}
				if wait != nil {
					<-wait
				}
			}
		})
		synctest.Wait() // the reader waits
		start := time.Now()
		b.Publish(Event{Type: ServiceState, Service: "a.default"})
		synctest.Wait()
		e := <-got
		if e.ID != 1 || e.Service != "a.default" || e.At.IsZero() {
			t.Fatalf("got %+v", e)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("woken after %s of fake time; want at once", d)
		}
		b.Close()
		wg.Wait()
		if _, ok := <-got; ok {
			t.Fatal("an event after Close")
		}
		if id := b.Publish(Event{}); id != 0 {
			t.Errorf("Publish after Close gave id %d", id)
		}
	})
}

// Many readers and a publisher at once, under -race: every reader that
// keeps up sees every id, in order.
func TestConcurrentReadersSeeEveryIDInOrder(t *testing.T) {
	b := NewStream()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const readers, n = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		r, _ := b.Follow(0)
		wg.Go(func() {
			want := uint64(1)
			for want <= n {
				evs, wait, err := r.Take(nil, 0)
				if err != nil {
					errs <- err
					return
				}
				for _, e := range evs {
					if e.ID != want {
						errs <- fmt.Errorf("id %d; want %d", e.ID, want)
						return
					}
					want++
				}
				if wait != nil {
					select {
					case <-wait:
					case <-ctx.Done():
						errs <- ctx.Err()
						return
					}
				}
			}
		})
	}
	for range n {
		b.Publish(Event{Type: Control})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A reader made by Tail can fall behind before its first Take, when a
// service writes flat out: it is told so, and FollowLogs (which then
// tails again) shows what is kept.
func TestFollowLogsTailWhileTheRingTurns(t *testing.T) {
	out := New[api.LogLine](Limits{Keep: 4}, nil, nil)
	for i := range 4 {
		out.Publish(api.LogLine{Text: fmt.Sprint(i)})
	}
	rd := out.Tail(-1)
	out.Publish(api.LogLine{Text: "4"}) // overwrites the line rd was to start at
	if _, _, err := rd.Take(nil, 0); !errors.Is(err, ErrDropped) {
		t.Fatalf("Take after the ring turned: %v", err)
	}
	var got []string
	err := FollowLogs(Output{Recent: out}, LogQuery{Tail: 10}, func(ls []api.LogLine) error {
		for _, l := range ls {
			got = append(got, l.Text)
		}
		return nil
	}, nil)
	if err != nil || strings.Join(got, ",") != "1,2,3,4" {
		t.Fatalf("FollowLogs: %q, %v", got, err)
	}
}

// A Publish wakes Wake of the readers waiting, not every one: each one
// woken wakes the next as it takes, so that a thousand followers are
// never a thousand goroutines made runnable at once (with everything else
// the supervisor does queued behind their writes). Every reader still
// gets the item, and Close wakes them all at once.
func TestPublishWakesReadersInTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const readers, wake = 20, 2
		b := New[int](Limits{Keep: 8, Wake: wake}, nil, nil)
		gate := make(chan struct{}) // a woken reader waits here before it takes
		var awake, got atomic.Int64 // awake: woken, yet to take
		var wg sync.WaitGroup
		for range readers {
			r, _ := b.Follow(0)
			wg.Go(func() {
				for {
					items, ch, err := r.Take(nil, 0)
					if err != nil {
						return
					}
					got.Add(int64(len(items)))
					if ch == nil {
						continue
					}
					<-ch
					awake.Add(1)
					<-gate
					awake.Add(-1)
				}
			})
		}
		synctest.Wait() // every reader waits
		b.Publish(1)
		for {
			synctest.Wait()
			if got.Load() == readers {
				break
			}
			switch n := awake.Load(); {
			case n > wake:
				t.Fatalf("%d readers woken at once; want at most %d", n, wake)
			case n == 0:
				t.Fatalf("%d readers of %d got the item, and none is woken", got.Load(), readers)
			}
			gate <- struct{}{} // one of those woken takes, and wakes the next
		}
		if n := awake.Load(); n != 0 {
			t.Errorf("%d readers woken with nothing new", n)
		}
		b.Close()
		synctest.Wait()
		if n := awake.Load(); n != readers {
			t.Errorf("Close woke %d readers of %d", n, readers)
		}
		close(gate)
		wg.Wait()
	})
}

// A reader woken in its turn that does something else before it takes
// (a heartbeat to a client that stopped reading) leaves, and the next
// reader is woken; a reader that left is not.
func TestLeavePassesTheTurnOn(t *testing.T) {
	b := New[int](Limits{Keep: 8, Wake: 1}, nil, nil)
	var chs []<-chan struct{}
	var rs []*Reader[int]
	for range 3 {
		r, _ := b.Follow(0)
		_, ch, err := r.Take(nil, 0)
		if ch == nil || err != nil {
			t.Fatalf("a new reader's Take: %v, %v", ch, err)
		}
		rs, chs = append(rs, r), append(chs, ch)
	}
	rs[2].Leave() // stops following
	b.Publish(1)
	if len(chs[0]) != 1 || len(chs[1]) != 0 {
		t.Fatalf("after Publish, woken: first %d, second %d; want the first only", len(chs[0]), len(chs[1]))
	}
	rs[0].Leave()
	if len(chs[1]) != 1 {
		t.Fatal("the first reader left without taking, and the second was not woken")
	}
	rs[1].Leave()
	if len(chs[2]) != 0 {
		t.Fatal("a reader that left was woken")
	}
	if got := takeAll(t, rs[2]); !slices.Equal(got, []int{1}) {
		t.Fatalf("the reader that left then takes %v", got)
	}
}

// A broadcaster that continues another keeps its items with their ids
// and numbers on from there, wrapping as any other.
func TestContinueKeepsTheIDs(t *testing.T) {
	a := NewStream()
	for i := range 5 {
		a.Publish(Event{Type: ServiceState, Text: fmt.Sprint(i)})
	}
	got, _, _ := a.Tail(3).Take(nil, 0)
	b := NewStream()
	b.Continue(got, got[len(got)-1].ID+1)
	if id := b.Publish(Event{Type: ServiceState, Text: "new"}); id != 6 {
		t.Fatalf("first id after Continue: %d, want 6", id)
	}
	r, missed := b.Follow(4)
	items, _, _ := r.Take(nil, 0)
	if missed != 0 || len(items) != 3 || items[0].ID != 4 || items[0].Text != "3" || items[2].Text != "new" {
		t.Fatalf("from 4: %+v (missed %d)", items, missed)
	}
	for i := range Keep + 10 { // wraps past the continued ones
		b.Publish(Event{Type: ServiceState, Text: fmt.Sprint("w", i)})
	}
	items, _, _ = b.Tail(2).Take(nil, 0)
	if len(items) != 2 || items[1].ID != b.Next()-1 || items[1].Text != fmt.Sprint("w", Keep+9) {
		t.Fatalf("after wrapping: %+v", items)
	}
}

// A watcher is told of every publish and of Close, without a reader
// waiting, until it stops watching.
func TestWatchIsToldOfEachPublish(t *testing.T) {
	b := ints(4)
	told := 0
	stop := b.Watch(func() { told++ })
	b.Publish(1)
	b.Publish(2)
	if told != 2 {
		t.Fatalf("told of %d publishes of 2", told)
	}
	stop()
	b.Publish(3)
	if told != 2 {
		t.Fatalf("told after it stopped watching")
	}
	stop = b.Watch(func() { told++ })
	defer stop()
	b.Close()
	if told != 3 {
		t.Fatalf("not told of Close")
	}
}

// A reader moved on past what was delivered another way takes what
// follows, and is dropped as any reader is when that is no longer kept.
func TestSkipToMovesTheReaderOn(t *testing.T) {
	b := ints(4)
	r, _ := b.Follow(0)
	for i := range 3 {
		b.Publish(i)
	}
	r.SkipTo(3) // ids 1 and 2 went another way
	if got := takeAll(t, r); !slices.Equal(got, []int{2}) {
		t.Fatalf("after SkipTo(3): %v", got)
	}
	r.SkipTo(99) // past the newest: to the newest
	b.Publish(3)
	if got := takeAll(t, r); !slices.Equal(got, []int{3}) {
		t.Fatalf("after SkipTo past the newest: %v", got)
	}
	old, _ := b.Follow(1)
	for i := range 8 {
		b.Publish(10 + i)
	}
	old.SkipTo(2)
	if _, _, err := old.Take(nil, 0); !errors.Is(err, ErrDropped) {
		t.Fatalf("skipped to an id no longer kept: %v; want ErrDropped", err)
	}
}
