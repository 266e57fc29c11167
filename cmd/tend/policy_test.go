package main

import (
	"runtime"
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
