package tmpl

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	in := map[string]any{
		"ints":   []any{1, int8(-2), int32(3), uint16(4), uint64(math.MaxUint64), json.Number("5")},
		"floats": []any{float32(0.1), 2.5, math.NaN(), math.Inf(-1), json.Number("1.5")},
		"time":   time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"typed":  map[string]int{"a": 1},
		"nilmap": map[string]any(nil),
		"nilarr": []any(nil),
		"ok":     map[string]any{"s": "x", "i": int64(1), "f": 1.5, "b": true, "n": nil},
	}
	want := map[string]any{
		"ints":   []any{int64(1), int64(-2), int64(3), int64(4), uint64(math.MaxUint64), int64(5)},
		"floats": []any{0.1, 2.5, nil, nil, 1.5},
		"time":   "2024-01-02T03:04:05Z",
		"typed":  map[string]any{"a": int64(1)},
		"nilmap": map[string]any{},
		"nilarr": []any{},
		"ok":     map[string]any{"s": "x", "i": int64(1), "f": 1.5, "b": true, "n": nil},
	}
	got, err := normalizeRoot(in)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("-want +got:\n%s", d)
	}
}

// TestNormalizeSharesNormalData pins down the allocation saving: data
// already in normal form (as cfg from svccfg mostly is) is not copied.
func TestNormalizeSharesNormalData(t *testing.T) {
	data := map[string]any{
		"cfg": map[string]any{"port": int64(80), "ratio": 0.5, "tags": []any{"a", "b"}, "tls": map[string]any{"on": true}},
		"pkg": map[string]any{"name": "redis", "deps": []any{map[string]any{"origin": "core"}}},
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := normalizeRoot(data); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations normalising data that is already normal", n)
	}
}
