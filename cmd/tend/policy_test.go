package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// While services start, Go has one P more than its default, for the
// thread that waits out each fork; once settled, its default again.
// GOMAXPROCS in the environment is left alone.
func TestStartupPolicyLendsAPWhileStarting(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	p := newStartupPolicy()
	if got := runtime.GOMAXPROCS(0); got != def+1 {
		t.Errorf("GOMAXPROCS while starting = %d, want %d", got, def+1)
	}
	p.settled()
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("GOMAXPROCS once settled = %d, want %d", got, def)
	}

	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(1)
	defer runtime.SetDefaultGOMAXPROCS()
	p = newStartupPolicy()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS=1 in the environment: %d while starting", got)
	}
	p.settled()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS=1 in the environment: %d once settled", got)
	}
}

// While services start, GOGC is startupGOGC; once settled, what it was.
// GOGC in the environment is left alone.
func TestStartupPolicyCollectsLessWhileStarting(t *testing.T) {
	t.Setenv("GOGC", "")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	p := newStartupPolicy()
	if got := debug.SetGCPercent(startupGOGC); got != startupGOGC {
		t.Errorf("GOGC while starting = %d, want %d", got, startupGOGC)
	}
	p.settled()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC once settled = %d, want 100", got)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	p = newStartupPolicy()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("GOGC=50 in the environment: %d while starting", got)
	}
	p.settled()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("GOGC=50 in the environment: %d once settled", got)
	}
}
