package ident

import "testing"

// FuzzParse checks that Parse never panics and that whatever it accepts
// prints back to the same string and parses to the same ident.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"core/redis", "core/redis/4.0.14", "core/redis/4.0.14/20190319155852", "a/b/../c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, id.String())
		}
		again, err := Parse(id.String())
		if err != nil || again != id {
			t.Fatalf("Parse(%q) = %#v, %v; want %#v", id.String(), again, err, id)
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("Validate(%#v): %v", id, err)
		}
		CompareVersions(id.Version, id.Release) // must not panic
	})
}
