package service

import (
	"bytes"
	"context"
	"strconv"
	"sync"
)

// Suitability is the service's answer to its suitability hook, which its
// group's leader election ranks members by: the last line of the hook's
// stdout as an unsigned integer; 0 when it has no such hook, the hook
// failed or printed something else, or it has not run yet. It runs each
// time the service comes up and after each reconfigure, so it is as of
// then, not of the moment an election starts (Habitat asks it then).
func (r *Runner) Suitability() uint64 { return r.suitability.Load() }

// runSuitability runs the suitability hook beside the loop.
func (r *Runner) runSuitability(ctx context.Context, st *state) {
	if _, ok := st.tpl.hooks["suitability"]; !ok {
		return
	}
	st.makeLogs()
	spec := r.hookSpec(st, "suitability", st.spec.HookTimeoutD())
	var mu sync.Mutex
	var last []byte
	log := spec.Log
	spec.Log = func(stream byte, line []byte) {
		if stream == 'O' {
			mu.Lock()
			last = append(last[:0], line...)
			mu.Unlock()
		}
		log(stream, line)
	}
	st.bg.Go(func() {
		res := r.runHookIn(ctx, spec)
		mu.Lock()
		defer mu.Unlock()
		r.suitability.Store(parseSuitability(res.OK(), last))
	})
}

func parseSuitability(ok bool, last []byte) uint64 {
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(last)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
