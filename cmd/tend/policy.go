package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// startupPolicy is everything tend does differently while it starts its
// services, kept only where it pays on a host (docs/BENCHMARKS.md, issue
// 11, measured on a fresh root and on a restart over an existing one):
//
//   - Writes a service does not need to start (hooks/, config/, data/,
//     var/ of a service whose run hook is exec'd directly and that has no
//     other hook or template) wait until start-up is over: service.Deps.Settled, closed by the manager just before it
//     calls settled.
//   - One more P than Go's default while the burst of forks runs. The
//     thread that forks holds its P, without using a CPU, until the child
//     has exec'd (Go's vfork blocks the thread with the P and preemption
//     off), ~0.4 ms a start; without the extra P, one of two CPUs' worth
//     of Go work waits out every fork of the burst. Not when GOMAXPROCS
//     is set in the environment: that is the operator's choice.
//   - GOGC 400 while the burst runs: most of what it allocates (renders,
//     spawn requests, statuses, rumors) is garbage within milliseconds,
//     and collecting it at Go's default of 100 was 5-8 % of the
//     supervisor's CPU until the last start. Not when GOGC is set in the
//     environment.
//   - Once settled, GOGC is what it was, the heap the burst left behind is
//     handed back at once, not over minutes, and GOMAXPROCS is Go's
//     default again (which also follows later changes to the CPUs tend
//     may use).
//
// The moment start-up is over is the manager's: every start-up service has
// tried to start (manager.Config.Settled). Once settled, GOGC stays Go's
// default (or the environment's): 25 saved 0.85 MiB of RssAnon with 500
// services and cost 0.02 s of CPU per idle 30 s, over the budget.
type startupPolicy struct {
	extraP bool // GOMAXPROCS raised by one until settled
	gogc   int  // the GOGC to go back to once settled; 0: unchanged
}

// startupGOGC is GOGC while services start.
const startupGOGC = 400

// newStartupPolicy enters the start-up phase.
func newStartupPolicy() *startupPolicy {
	// Nothing serves heap profiles; sampling would keep a bucket table of
	// a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	p := &startupPolicy{}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
		p.extraP = true
	}
	if os.Getenv("GOGC") == "" {
		p.gogc = debug.SetGCPercent(startupGOGC)
	}
	return p
}

// settled enters the steady phase; the manager calls it once.
func (p *startupPolicy) settled() {
	if p.extraP {
		runtime.SetDefaultGOMAXPROCS()
	}
	if p.gogc != 0 {
		debug.SetGCPercent(p.gogc)
	}
	debug.FreeOSMemory()
}
