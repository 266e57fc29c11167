package main

import (
	"testing"
	"time"
)

// TestPushPullInterval: the steady window is sized by memberlist's own
// scaling of the push/pull interval (util.go pushPullScale, 30 s base).
func TestPushPullInterval(t *testing.T) {
	for n, want := range map[int]time.Duration{
		12: 30 * time.Second, 32: 30 * time.Second, 33: 60 * time.Second,
		50: 60 * time.Second, 64: 60 * time.Second, 100: 90 * time.Second,
		200: 120 * time.Second, 1000: 180 * time.Second, 5000: 270 * time.Second,
	} {
		if got := pushPullInterval(n); got != want {
			t.Errorf("pushPullInterval(%d) = %s, want %s", n, got, want)
		}
	}
	if got := earlyLongest(); got != 75*time.Second {
		t.Errorf("earlyLongest() = %s, want 75s (5 rounds of 1+2+4+8 s)", got)
	}
}

// TestRateOverTheChanges: a member's rate is taken between the first and
// the last change of its counter (tend refreshes it every 10 s), and the
// span says how long that was.
func TestRateOverTheChanges(t *testing.T) {
	t0 := time.Unix(0, 0)
	var ss []sample
	for s := range 31 {
		v := float64((s / 10) * 1000) // refreshed at 10, 20, 30 s
		ss = append(ss, sample{at: t0.Add(time.Duration(s) * time.Second), bytes: map[string]float64{"sent/wire": v}})
	}
	f := func(m map[string]float64) float64 { return m["sent/wire"] }
	if got := rate(ss, f); got != 100 {
		t.Errorf("rate = %v, want 100 B/s (2,000 B between 10 s and 30 s)", got)
	}
	if got := span(ss, f); got != 20 {
		t.Errorf("span = %v, want 20 s", got)
	}
}
