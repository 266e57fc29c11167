package service

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/hook"
)

type healthResult struct {
	gen int
	res hook.Result
	out api.HookOutput // the check's log files, read as it ended
}

// maxHealthOutput caps how much of each stream of a check the snapshot
// keeps for /health; checks print a line or two.
const maxHealthOutput = 64 << 10

// setHealth sets a health that no check reported (start, stop, crash):
// no hook output goes with it.
func (st *state) setHealth(h api.Health) {
	st.w().Health, st.w().HealthOutput = h, nil
}

// checkHealth starts one run of the health-check hook in the background; its
// result comes back to the Run loop. A check may take up to the interval;
// one that outlives it is killed and counts as UNKNOWN.
func (r *Runner) checkHealth(ctx context.Context, st *state) {
	if st.phase != phaseUp || st.healthCancel != nil {
		return
	}
	if _, ok := st.tpl.hooks["health-check"]; !ok {
		return
	}
	hctx, cancel := context.WithCancel(ctx)
	st.healthCancel = cancel
	st.makeLogs()
	st.healthGen++
	gen := st.healthGen
	spec := r.hookSpec(st, "health-check", st.spec.HealthCheckInterval.D())
	out := resultChan(&st.healthRes, 1)
	st.bg.Go(func() {
		res := hook.Run(hctx, r.d.Reaper, spec)
		// Read here, with the result: the files are rewritten by the next
		// check, so /health reading them later could pair this status
		// with another check's output.
		hr := &healthResult{gen: gen, res: res, out: api.HookOutput{
			Stdout: readTail(filepath.Join(spec.LogDir, spec.Name+".stdout.log"), maxHealthOutput),
			Stderr: readTail(filepath.Join(spec.LogDir, spec.Name+".stderr.log"), maxHealthOutput),
		}}
		select {
		case out <- hr:
		case <-hctx.Done():
		}
	})
}

// cancelHealth abandons the check in flight and the next scheduled one.
func (r *Runner) cancelHealth(st *state) {
	if st.healthCancel != nil {
		st.healthCancel()
		st.healthCancel = nil
	}
	if st.healthT != nil {
		st.healthT.Stop()
		st.healthC = nil
	}
	st.healthGen++ // a result already queued is now stale
}

func (r *Runner) healthDone(st *state, hr *healthResult) {
	if hr.gen != st.healthGen {
		return
	}
	st.healthCancel = nil
	status := toHealth(hook.Health(hr.res))
	if status != api.HealthOK && inGrace(st, time.Now()) {
		// Not started yet, not failed: a Kubernetes startup probe's
		// failures before its threshold count for nothing either.
		r.record(st, true, "health check %s during the start-up grace (%s): reported UNKNOWN", status, st.spec.HealthCheckGraceD())
		status = api.HealthUnknown
	}
	prev := st.svc.Health
	st.w().Health, st.w().HealthOutput = status, &hr.out
	st.w().HealthHistory = appendCapped(st.svc.HealthHistory, api.HealthResult{
		At: time.Now(), Status: status, Duration: hr.res.Duration, Output: hr.res.Output,
	}, maxHistory)
	if status != prev {
		r.emit(events.Event{Type: events.ServiceHealth, State: string(status), From: string(prev), Output: hr.res.Output,
			Text: fmt.Sprintf("%s health %s (was %s)", r.sg, status, prev)})
	}
	switch {
	case status != api.HealthOK:
		r.record(st, false, "health check %s", status)
	case prev != api.HealthOK:
		r.record(st, true, "health check OK")
	}
	st.healthT = time.NewTimer(nextCheck(st, status))
	st.healthC = st.healthT.C
	r.publish(st)
}

// inGrace reports whether a failing check now falls in the service's
// start-up grace: no check has passed since the start, and the grace
// (svc load --health-check-grace) has not run out.
func inGrace(st *state, now time.Time) bool {
	g := st.spec.HealthCheckGraceD()
	return g > 0 && !st.healthOKSeen && now.Sub(st.startedAt) < g
}

// nextCheck follows Habitat: after the first OK a random splay within the
// interval (so checks of many services spread out), then the interval; a
// failed check is re-checked sooner, after a quarter of the interval (at
// least a second, at most 30 s).
func nextCheck(st *state, status api.Health) time.Duration {
	interval := st.spec.HealthCheckInterval.D()
	if status != api.HealthOK {
		return min(interval, max(interval/4, time.Second), 30*time.Second)
	}
	if !st.healthOKSeen {
		st.healthOKSeen = true
		return time.Duration(rand.Int64N(int64(interval)))
	}
	return interval
}

func toHealth(h hook.HealthStatus) api.Health {
	switch h {
	case hook.OK:
		return api.HealthOK
	case hook.Warning:
		return api.HealthWarning
	case hook.Critical:
		return api.HealthCritical
	default:
		return api.HealthUnknown
	}
}

// readTail returns at most the last n bytes of the file at path; "" when
// there is none (a hook run with no log directory).
func readTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return ""
		}
	}
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return string(b)
}
