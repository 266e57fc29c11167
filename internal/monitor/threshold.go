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
// the previous verdict holds.
//
// How the bounds are read depends on the direction of the check:
//
//   - "below" checks (free bytes, free inodes: a low value is bad): unhealthy
//     when value < Lower, healthy again only when value > Upper.
//   - "above" checks (services down: a high value is bad): unhealthy when
//     value > Upper, healthy again only when value < Lower.
//
// Both comparisons are strict, the mirror image of each other; a check starts
// healthy.
type Threshold struct{ Lower, Upper float64 }

// Enabled reports whether the threshold takes part in /healthy.
func (t Threshold) Enabled() bool { return t.Lower != 0 || t.Upper != 0 }

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
		return !(v < t.Lower)
	}
	return v > t.Upper
}

var errThreshold = errors.New("invalid threshold")

// validateBelow checks a "below" threshold: it must be able to trip
// (Lower > 0) and to heal (Upper >= Lower, so no value is both "too low" and
// "high enough again").
func (t Threshold) validateBelow(name string) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.finite(name); err != nil {
		return err
	}
	if t.Lower <= 0 {
		return fmt.Errorf("%s: lower must be above 0 (got %g): %w", name, t.Lower, errThreshold)
	}
	if t.Upper < t.Lower {
		return fmt.Errorf("%s: upper (%g) must be at least lower (%g): %w", name, t.Upper, t.Lower, errThreshold)
	}
	return nil
}

// validateAboveCount checks an "above" threshold on a whole count. It must be
// able to heal (Lower > 0, since a count is never below 0) and no count may be
// both "too high" and "low enough again": there must be no integer c with
// Upper < c < Lower. That allows {Lower: 1, Upper: 0}, the natural way to say
// "unhealthy as soon as one is down, healthy when none is".
func (t Threshold) validateAboveCount(name string) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.finite(name); err != nil {
		return err
	}
	if t.Lower <= 0 {
		return fmt.Errorf("%s: lower must be above 0, or a count could never heal (got %g): %w", name, t.Lower, errThreshold)
	}
	if t.Upper < 0 {
		return fmt.Errorf("%s: upper must not be negative (got %g): %w", name, t.Upper, errThreshold)
	}
	if t.Lower > math.Floor(t.Upper)+1 {
		return fmt.Errorf("%s: lower (%g) must be at most upper+1 (%g), or a count could be both too high and low enough: %w",
			name, t.Lower, math.Floor(t.Upper)+1, errThreshold)
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
