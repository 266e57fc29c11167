package main

import (
	"strings"
	"testing"
)

func TestSecondsFlagStatesTheLimit(t *testing.T) {
	for in, want := range map[string]string{
		"10000000000":           "limit of 9223372036 seconds",
		"27670116111":           "limit of 9223372036 seconds",
		"99999999999999999999":  "limit of 9223372036 seconds",
		"-1":                    "negative",
		"-99999999999999999999": "negative",
		"5s":                    "not a whole number",
	} {
		var f secondsFlag
		if err := f.Set(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Set(%q) = %v; want %q", in, err, want)
		}
		if f.ptr() != nil {
			t.Errorf("Set(%q) failed but the flag is set", in)
		}
	}
	var f secondsFlag
	if f.ptr() != nil {
		t.Error("an unset flag gives a value")
	}
	if err := f.Set("9223372036"); err != nil || *f.ptr() != 9223372036 {
		t.Errorf("the largest value: %v", err)
	}
	if _, err := parseVersion("99999999999999999999"); err == nil || !strings.Contains(err.Error(), "limit of 18446744073709551615") {
		t.Errorf("parseVersion overflow: %v", err)
	}
}
