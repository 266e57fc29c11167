package service

import "testing"

func TestParseSuitability(t *testing.T) {
	for _, tc := range []struct {
		ok   bool
		last string
		want uint64
	}{
		{true, "42", 42},
		{true, " 7 \r", 7},
		{true, "18446744073709551615", 18446744073709551615},
		{true, "-1", 0},
		{true, "high", 0},
		{true, "", 0},
		{false, "42", 0}, // a failed hook says nothing
	} {
		if got := parseSuitability(tc.ok, []byte(tc.last)); got != tc.want {
			t.Errorf("parseSuitability(%v, %q) = %d, want %d", tc.ok, tc.last, got, tc.want)
		}
	}
}
