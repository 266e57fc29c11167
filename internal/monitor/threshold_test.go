package monitor

import (
	"errors"
	"math"
	"testing"
)

func TestStepBelow(t *testing.T) {
	th := Threshold{Lower: 10, Upper: 20}
	for _, tc := range []struct {
		was  bool
		v    float64
		want bool
	}{
		{false, 100, false},
		{false, 15, false}, // in the band: stays healthy
		{false, 10, false}, // strict: at Lower is not below it
		{false, 9, true},
		{true, 9, true},
		{true, 15, true}, // in the band: stays unhealthy
		{true, 20, true}, // strict: at Upper is not above it
		{true, 21, false},
	} {
		if got := th.stepBelow(tc.was, tc.v); got != tc.want {
			t.Errorf("stepBelow(was=%v, %g) = %v, want %v", tc.was, tc.v, got, tc.want)
		}
	}
}

func TestStepAbove(t *testing.T) {
	for _, tc := range []struct {
		th   Threshold
		was  bool
		v    float64
		want bool
	}{
		{Threshold{Lower: 1, Upper: 3}, false, 2, false},
		{Threshold{Lower: 1, Upper: 3}, false, 3, true}, // inclusive: upper is too many
		{Threshold{Lower: 1, Upper: 3}, true, 2, true},  // in the band: stays unhealthy
		{Threshold{Lower: 1, Upper: 3}, true, 1, false}, // inclusive: lower is few enough
		{Threshold{Lower: 1, Upper: 3}, false, 1, false},
		// The default: any one down is unhealthy, none is healthy.
		{Threshold{Lower: 0, Upper: 1}, false, 0, false},
		{Threshold{Lower: 0, Upper: 1}, false, 1, true},
		{Threshold{Lower: 0, Upper: 1}, true, 1, true},
		{Threshold{Lower: 0, Upper: 1}, true, 0, false},
	} {
		if got := tc.th.stepAbove(tc.was, tc.v); got != tc.want {
			t.Errorf("%+v.stepAbove(was=%v, %g) = %v, want %v", tc.th, tc.was, tc.v, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		th           Threshold
		below, above bool // valid as each kind
	}{
		{Threshold{}, true, true},
		{Threshold{Lower: 10, Upper: 20}, true, true},
		{Threshold{Lower: 10, Upper: 10}, true, false}, // above: 10 would be both
		{Threshold{Lower: 20, Upper: 10}, false, false},
		{Threshold{Lower: 0, Upper: 10}, true, true},  // below: off (lower 0)
		{Threshold{Lower: 5, Upper: 0}, false, true},  // above: off (upper 0)
		{Threshold{Lower: -1, Upper: 2}, true, false}, // below: off; above: negative count
		{Threshold{Lower: 1, Upper: math.Inf(1)}, false, false},
		{Threshold{Lower: math.NaN(), Upper: 1}, false, false},
	} {
		err := tc.th.validateBelow("x")
		if (err == nil) != tc.below {
			t.Errorf("%+v.validateBelow = %v, want valid=%v", tc.th, err, tc.below)
		}
		if err != nil && !errors.Is(err, errThreshold) {
			t.Errorf("validateBelow error %v does not wrap errThreshold", err)
		}
		if err := tc.th.validateAbove("x"); (err == nil) != tc.above {
			t.Errorf("%+v.validateAbove = %v, want valid=%v", tc.th, err, tc.above)
		}
	}
}

func TestThresholdOff(t *testing.T) {
	for _, tc := range []struct {
		th               Threshold
		onBelow, onAbove bool
	}{
		{Threshold{}, false, false},
		{Threshold{Lower: 0, Upper: 5}, false, true},
		{Threshold{Lower: 5, Upper: 0}, true, false},
		{Threshold{Lower: 1, Upper: 5}, true, true},
	} {
		if tc.th.onBelow() != tc.onBelow || tc.th.onAbove() != tc.onAbove {
			t.Errorf("%+v: onBelow=%v onAbove=%v", tc.th, tc.th.onBelow(), tc.th.onAbove())
		}
	}
}

func TestNewRejects(t *testing.T) {
	f := newFixture()
	for name, mod := range map[string]func(*Options){
		"no snapshot":     func(o *Options) { o.Snapshot = nil },
		"bad bytes":       func(o *Options) { o.DiskFreeBytes = Threshold{Lower: 5, Upper: 1} },
		"bad inodes":      func(o *Options) { o.DiskFreeInodes = Threshold{Lower: 1} },
		"bad down":        func(o *Options) { o.ServicesDown = Threshold{Lower: 3, Upper: 3} },
		"disk no root":    func(o *Options) { o.Root = ""; o.DiskFreeBytes = Threshold{Lower: 1, Upper: 2} },
		"negative record": func(o *Options) { o.StatusRecords = -1 },
	} {
		o := f.options()
		o.Root = "/"
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
