package spec

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// groupRule is the group rule as the regular expression it replaced, the
// oracle for groupName with the UTF-8 check.
var groupRule = regexp.MustCompile(`^[^.#@/\s]+$`)

func FuzzGroupName(f *testing.F) {
	for _, g := range []string{"default", "", "a.b", "a b", "a\tb", "a\vb", "grüppe", "\xff", "x/y", "x#", "@x", "a\r"} {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, g string) {
		if got, want := groupName(g), groupRule.MatchString(g) && utf8.ValidString(g); got != want {
			t.Fatalf("groupName(%q) = %v, the rule says %v", g, got, want)
		}
	})
}

func TestNameIsTheIdentsSecondPart(t *testing.T) {
	for ident, want := range map[string]string{
		"core/redis": "redis", "core/redis/7.0.1": "redis", "core/redis/7.0.1/20240101000000": "redis",
		"core": "", "": "", "core/": "", "/redis": "redis",
	} {
		if got := (Spec{Ident: ident}).Name(); got != want {
			t.Errorf("Name of %q = %q, want %q", ident, got, want)
		}
		// The old definition, for the cases both answer.
		if parts := strings.Split(ident, "/"); len(parts) >= 2 && parts[1] != want {
			t.Errorf("%q: Split says %q", ident, parts[1])
		}
	}
}

// A group is gossiped in JSON, where a byte that is not UTF-8 would reach
// peers as U+FFFD: svc load refuses it with the rule in its message.
func TestGroupMustBeUTF8(t *testing.T) {
	s := New("core/redis")
	s.Group = "d\xe9fault"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("group %q: Validate() = %v, want a UTF-8 error", s.Group, err)
	}
	s.Group = "défault"
	if err := s.Validate(); err != nil {
		t.Fatalf("group %q: %v", s.Group, err)
	}
}
