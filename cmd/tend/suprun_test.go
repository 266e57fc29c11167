package main

import (
	"slices"
	"testing"
	"time"
)

// Under a systemd watchdog the loops are asked and judged often enough
// that a stuck loop stops the WATCHDOG=1 pings well within WatchdogSec.
func TestBeatTiming(t *testing.T) {
	for _, tc := range []struct {
		watchdog, beat, stale time.Duration
	}{
		{0, time.Second, 5 * time.Second},
		{30 * time.Second, time.Second, 5 * time.Second},
		{2 * time.Second, 500 * time.Millisecond, time.Second},
	} {
		beat, stale := beatTiming(tc.watchdog)
		if beat != tc.beat || stale != tc.stale {
			t.Errorf("watchdog %s: beat %s stale %s, want %s %s", tc.watchdog, beat, stale, tc.beat, tc.stale)
		}
	}
}

// Services never see the supervisor's systemd notification socket or
// watchdog: READY=1 from a service would speak for the supervisor.
func TestServiceEnvDropsSystemd(t *testing.T) {
	got := serviceEnv([]string{"PATH=/bin", "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=30000000", "WATCHDOG_PID=1", "HOME=/root"})
	if want := []string{"PATH=/bin", "HOME=/root"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
