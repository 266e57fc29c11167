package main

import (
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
//   - Once settled, the heap the burst of renders, spawns and rumors left
//     behind is handed back at once, not over minutes.
//
// The moment start-up is over is the manager's: every start-up service has
// tried to start (manager.Config.Settled). GOGC stays Go's default (or the
// environment's): 25 once settled saved 0.85 MiB of RssAnon with 500
// services and cost 0.02 s of CPU per idle 30 s, over the budget.
type startupPolicy struct{}

// newStartupPolicy enters the start-up phase.
func newStartupPolicy() *startupPolicy {
	// Nothing serves heap profiles; sampling would keep a bucket table of
	// a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	return &startupPolicy{}
}

// settled enters the steady phase; the manager calls it once.
func (p *startupPolicy) settled() {
	debug.FreeOSMemory()
}
