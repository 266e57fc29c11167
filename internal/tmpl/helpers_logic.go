package tmpl

import "cmp"

// The comparison and logic helpers of handlebars-rust, which Habitat 2
// templates can use: (eq a b), (gt a b), (and a b …), (not a), (len a).
// Numbers compare by value whatever their type (1 == 1.0); strings and
// bools compare with each other; anything else is unordered, so gt and
// friends are false and eq is a deep comparison.

func eqHelper(a, b any) bool  { return equalValues(arg(a), arg(b)) }
func neHelper(a, b any) bool  { return !equalValues(arg(a), arg(b)) }
func gtHelper(a, b any) bool  { c, ok := compare(arg(a), arg(b)); return ok && c > 0 }
func gteHelper(a, b any) bool { c, ok := compare(arg(a), arg(b)); return ok && c >= 0 }
func ltHelper(a, b any) bool  { c, ok := compare(arg(a), arg(b)); return ok && c < 0 }
func lteHelper(a, b any) bool { c, ok := compare(arg(a), arg(b)); return ok && c <= 0 }
func notHelper(a any) bool    { return !truthy(arg(a)) }

func andHelper(args ...any) bool {
	for _, a := range args {
		if !truthy(arg(a)) {
			return false
		}
	}
	return true
}

func orHelper(args ...any) bool {
	for _, a := range args {
		if truthy(arg(a)) {
			return true
		}
	}
	return false
}

// lenHelper is the length of an array, object or string (in bytes, as
// Rust's str::len); 0 for anything else.
func lenHelper(a any) int64 {
	switch a := arg(a).(type) {
	case []any:
		return int64(len(a))
	case map[string]any:
		return int64(len(a))
	case string:
		return int64(len(a))
	}
	return 0
}

// num is a number from data (int64, uint64, float64) or a literal (int).
type num struct {
	i     int64
	f     float64
	isInt bool
}

func number(v any) (num, bool) {
	switch v := v.(type) {
	case int64:
		return num{i: v, f: float64(v), isInt: true}, true
	case int:
		return num{i: int64(v), f: float64(v), isInt: true}, true
	case uint64:
		return num{f: float64(v)}, true
	case float64:
		return num{f: v}, true
	}
	return num{}, false
}

func compare(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		y, ok := number(b)
		if !ok {
			return 0, false
		}
		if x.isInt && y.isInt {
			return cmp.Compare(x.i, y.i), true
		}
		return cmp.Compare(x.f, y.f), true
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(boolInt(x), boolInt(y)), true
		}
	}
	return 0, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func equalValues(a, b any) bool {
	if c, ok := compare(a, b); ok {
		return c == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalValues(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}
