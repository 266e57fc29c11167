package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// While its services start, the supervisor collects its heap less often;
// once settled, it is back at the target it started with.
func TestStartupPolicyCollectsLessOftenUntilSettled(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	p := newStartupPolicy()
	if got := gcPercent(); got != startupGCPercent {
		t.Fatalf("GOGC during start-up %d; want %d", got, startupGCPercent)
	}
	p.settled()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GOGC once settled %d; want 100 back", got)
	}
}

// A GOGC the operator set is theirs, during start-up too.
func TestStartupPolicyKeepsTheEnvironmentsGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	p := newStartupPolicy()
	if got := gcPercent(); got != 50 {
		t.Fatalf("GOGC during start-up %d; want the environment's 50", got)
	}
	p.settled()
	if got := gcPercent(); got != 50 {
		t.Fatalf("GOGC once settled %d; want 50", got)
	}
}
