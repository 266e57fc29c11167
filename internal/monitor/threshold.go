package monitor

import (
	"errors"
	"fmt"
	"math"
)

// Threshold is a pair of hysteresis bounds, as Halon's
// monitor.healthy.*.lower/upper settings. The zero value disables the check.
//
// Two bounds instead of one keep /healthy from flapping when a value hovers
// around a single limit: a load balancer that drains and refills a member on
// every probe is worse than one that reacts a little late. Between the bounds
// the previous verdict holds; a check starts healthy.
//
// How the bounds are read depends on the direction of the check, and matches
// the configuration reference (docs/CONFIG.md):
//
//   - "below" checks (free bytes, free inodes: a low value is bad), on when
//     Lower > 0: unhealthy when value < Lower, healthy again only when
//     value > Upper. Upper >= Lower.
//   - "above" checks (services down: a high count is bad), on when Upper > 0:
//     unhealthy once value >= Upper, healthy again only when value <= Lower.
//     0 <= Lower < Upper. Halon's documentation does not spell out its
//     comparison for message counts; tend counts whole services, so upper
//     reads "this many is too many" and lower "this few is fine again", and
//     {Lower: 0, Upper: 1} means "any service down is unhealthy, none is
//     healthy".
type Threshold struct{ Lower, Upper float64 }

// onBelow reports whether a "below" threshold takes part in /healthy.
func (t Threshold) onBelow() bool { return t.Lower > 0 }

// onAbove reports whether an "above" threshold takes part in /healthy.
func (t Threshold) onAbove() bool { return t.Upper > 0 }

// stepBelow is the hysteresis step of a "below" check: it returns whether the
// check is unhealthy after seeing v, given whether it was before.
func (t Threshold) stepBelow(unhealthy bool, v float64) bool {
	if unhealthy {
		return !(v > t.Upper)
	}
	return v < t.Lower
}

// stepAbove is the hysteresis step of an "above" check.
func (t Threshold) stepAbove(unhealthy bool, v float64) bool {
	if unhealthy {
		return !(v <= t.Lower)
	}
	return v >= t.Upper
}

var errThreshold = errors.New("invalid threshold")

// validateBelow checks a "below" threshold: no value may be both "too low"
// and "high enough again", so Upper >= Lower.
func (t Threshold) validateBelow(name string) error {
	if err := t.finite(name); err != nil || !t.onBelow() {
		return err
	}
	if t.Upper < t.Lower {
		return fmt.Errorf("%s: upper (%g) must be at least lower (%g): %w", name, t.Upper, t.Lower, errThreshold)
	}
	return nil
}

// validateAbove checks an "above" threshold: no value may be both "too many"
// and "few enough again", so Lower < Upper, and a count is never negative.
func (t Threshold) validateAbove(name string) error {
	if err := t.finite(name); err != nil || !t.onAbove() {
		return err
	}
	if t.Lower < 0 {
		return fmt.Errorf("%s: lower must not be negative (got %g): %w", name, t.Lower, errThreshold)
	}
	if t.Lower >= t.Upper {
		return fmt.Errorf("%s: lower (%g) must be below upper (%g): %w", name, t.Lower, t.Upper, errThreshold)
	}
	return nil
}

func (t Threshold) finite(name string) error {
	for _, v := range [...]float64{t.Lower, t.Upper} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: bounds must be finite numbers (got %g/%g): %w", name, t.Lower, t.Upper, errThreshold)
		}
	}
	return nil
}
