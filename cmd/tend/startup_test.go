package main

import (
	"runtime/debug"
	"testing"
)

// The supervisor collects at Go's default pace while it starts and at 25 %
// once settled; a GOGC the operator set is left alone in both phases.
func TestStartupPolicyGOGCPhases(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	p := newStartupPolicy(func(string) string { return "" })
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Fatalf("GOGC during start-up = %d, want %d", got, startupGCPercent)
	}
	p.settled()
	if got := debug.SetGCPercent(steadyGCPercent); got != steadyGCPercent {
		t.Fatalf("GOGC once settled = %d, want %d", got, steadyGCPercent)
	}

	debug.SetGCPercent(300) // as GOGC=300 in the environment would
	p = newStartupPolicy(func(k string) string {
		if k == "GOGC" {
			return "300"
		}
		return ""
	})
	p.settled()
	if got := debug.SetGCPercent(300); got != 300 {
		t.Fatalf("GOGC=300 from the environment became %d", got)
	}
}
