package service

import (
	"math/rand/v2"
	"time"
)

// Backoff is the restart policy: how long to wait before restarting a
// service that exited on its own.
type Backoff struct {
	Min, Max time.Duration
	// Cooldown is how long a service must stay up for its next crash to be
	// treated as a first one again (restarted at once, delays reset).
	Cooldown time.Duration
}

// restarts is the pure restart tracker of one service ("decorrelated
// jitter", as Habitat and AWS's backoff note use): the first restart is
// immediate, each later one waits a random time between Min and three times
// the previous wait, capped at Max.
type restarts struct {
	policy Backoff
	prev   time.Duration
	streak int // restarts since the last reset
	rand   func(n int64) int64
}

func newRestarts(p Backoff) *restarts {
	return &restarts{policy: p, rand: rand.Int64N}
}

// next returns the delay before the next start of a service that ran for
// upFor before it exited.
func (r *restarts) next(upFor time.Duration) time.Duration {
	if upFor >= r.policy.Cooldown {
		r.reset()
	}
	r.streak++
	if r.streak == 1 {
		return 0
	}
	lo := r.policy.Min
	hi := 3 * r.prev
	if hi < lo {
		hi = lo
	}
	d := lo
	if hi > lo {
		d = lo + time.Duration(r.rand(int64(hi-lo)+1))
	}
	if d > r.policy.Max {
		d = r.policy.Max
	}
	if d < r.policy.Min {
		d = r.policy.Min
	}
	r.prev = d
	return d
}

func (r *restarts) reset() { r.prev, r.streak = 0, 0 }
