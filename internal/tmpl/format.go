package tmpl

import (
	"math"
	"strconv"
	"strings"
)

// display is how {{x}} prints a value: Habitat's renderer (handlebars-rust
// over serde_json values) writes strings as they are, numbers as serde_json
// does, null as nothing, arrays as "[a, b]" and objects as "[object]".
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return formatFloat(v)
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(display(e))
		}
		b.WriteByte(']')
		return b.String()
	case map[string]any:
		return "[object]"
	default:
		// Only values made inside a helper get here; data is normalised.
		n, err := normal(v)
		if err != nil {
			return ""
		}
		return display(n)
	}
}

// formatFloat prints a float as serde_json does (through the ryu crate), so
// that cfg values render exactly as under Habitat:
//
//	1.0 -> "1.0"   0.5 -> "0.5"   1e16 -> "1e16"   1.5e-7 -> "1.5e-7"
//	0.0001 -> "0.0001"   123456.0 -> "123456.0"
//
// That is: shortest digits that round-trip; plain notation with at least one
// fractional digit while the decimal exponent is in [-5, 16); otherwise
// d.ddde±x without a '+' sign. A whole float keeps its ".0", which is what
// tells a reader (and TOML) it is a float. NaN and infinities never reach
// here: normalisation turns them into null, as serde_json does.
func formatFloat(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	// 'e' with precision -1 gives the shortest round-trip digits:
	// [-]d[.ddd]e±XX.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	// The value is 0.DIGITS × 10^kk.
	kk := exp + 1
	n := len(digits)

	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case n <= kk && kk <= 16:
		// Whole number: digits, padding zeros, ".0".
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", kk-n))
		b.WriteString(".0")
	case 0 < kk && kk <= 16:
		b.WriteString(digits[:kk])
		b.WriteByte('.')
		b.WriteString(digits[kk:])
	case -5 < kk && kk <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -kk))
		b.WriteString(digits)
	default:
		b.WriteByte(digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		b.WriteString(strconv.Itoa(kk - 1))
	}
	return b.String()
}

// truthy is Habitat's (handlebars-rust's) idea of true for if, unless,
// with and each: false, null, 0, "", [] and {} are false. A float is true
// only when it is a normal number, which is what the Rust code checks.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case int64:
		return v != 0
	case int:
		return v != 0
	case uint64:
		return v != 0
	case float64:
		return isNormal(v)
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	default:
		n, err := normal(v)
		if err != nil {
			return false
		}
		return truthy(n)
	}
}

func isNormal(f float64) bool {
	a := math.Abs(f)
	return a >= 0x1p-1022 && !math.IsInf(f, 0) && !math.IsNaN(f)
}
