package supcfg

import (
	"strings"
	"testing"
)

// Numbers that overflow are refused with the limit in the message, never
// wrapped around or called malformed.
func TestOverflowStatesTheLimit(t *testing.T) {
	for _, tt := range []struct {
		parse func(string) error
		in    string
		want  string
	}{
		{durationErr, "27670116111", "limit of 2562047h47m16s (9223372036s"},
		{durationErr, "9223372037", "limit of"},
		{durationErr, "1e400", "limit of"},
		{durationErr, "3000000h", "limit of"},
		{durationErr, "99999999999999999999s", "limit of"},
		{durationErr, "5x", "not a duration"},
		{durationErr, "-5", "negative"},
		{countErr, "99999999999999999999", "limit of 18446744073709551615"},
		{countErr, "-1", "not a whole number"},
		{sizeErr, "99999999999999999999", "limit of 18446744073709551615 bytes"},
		{sizeErr, "99999999999TiB", "limit of"},
	} {
		err := tt.parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
	}
	for _, ok := range []string{"9223372035", "2562047h", "0.5", "1m30s"} {
		if err := durationErr(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func durationErr(s string) error { _, err := parseDuration(s); return err }
func countErr(s string) error    { _, err := parseCount(s); return err }
func sizeErr(s string) error     { _, err := parseBytes(s); return err }
