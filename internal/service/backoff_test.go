package service

import (
	"testing"
	"time"
)

func TestBackoffGrowsCapsAndResets(t *testing.T) {
	r := newRestarts(Backoff{Min: time.Second, Max: 10 * time.Second, Cooldown: time.Minute})
	r.rand = func(n int64) int64 { return n - 1 } // always the top of the range
	var got []time.Duration
	for range 6 {
		got = append(got, r.next(50*time.Millisecond))
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 9 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays = %v; want %v", got, want)
		}
	}
	if d := r.next(2 * time.Minute); d != 0 {
		t.Fatalf("after a run longer than the cooldown the restart waits %v; want 0", d)
	}
	if d := r.next(0); d != time.Second {
		t.Fatalf("second restart after reset = %v; want Min", d)
	}
}

func TestBackoffZeroIsImmediate(t *testing.T) {
	r := newRestarts(Backoff{})
	for range 100 {
		if d := r.next(time.Millisecond); d != 0 {
			t.Fatalf("zero policy waited %v", d)
		}
	}
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	r := newRestarts(Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second, Cooldown: time.Hour})
	r.next(0)
	for range 1000 {
		d := r.next(0)
		if d < 100*time.Millisecond || d > 5*time.Second {
			t.Fatalf("delay %v outside [Min, Max]", d)
		}
	}
}
