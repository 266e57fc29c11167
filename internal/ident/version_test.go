package ident

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestCompareVersions(t *testing.T) {
	// Each pair is in ascending order. Most come from Habitat's own
	// version_sort tests; the rest pin the cases tend decides itself.
	tests := []struct{ lo, hi string }{
		{"1.0", "2.0"},
		{"1.0.0", "2.0.0"},
		{"2.0.0", "2.0.1"},
		{"2.1.1.4", "2.1.1.5"},
		{"20150521131346", "20150521131347"},
		{"1.9", "1.10"},
		{"1.2.9", "1.10.0"},
		{"1.0.0-alpha1", "1.0.0-alpha2"},
		{"1.0.0-alpha1000", "1.0.0-beta1"},
		{"2.1.1-alpha2", "2.1.1"},
		{"2.1.1-alpha2", "3.2.0-rc.0"},
		{"2016i", "2016j"},
		{"1.2", "1.2.1"},
		{"0.x.x", "0.1"},                                  // "0." has an empty part: unreadable
		{"master", "0.0.1"},                               // unreadable is older than any number
		{"master", "trunk"},                               // unreadable ones compare as strings
		{"1..2", "1"},                                     // empty part
		{"99999999999999999999", "100000000000000000000"}, // past uint64
		{"v1.9", "v1.10"},                                 // Habitat skips a prefix
		{"1.2", "1.2.0"},                                  // equivalent: by bytes
		{"01", "1"},                                       // equivalent: by bytes
		{"1.0.0-", "1.0.0-a"},                             // a lone "-" is the extension
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.lo, tt.hi); got != -1 {
			t.Errorf("CompareVersions(%q, %q) = %d, want -1", tt.lo, tt.hi, got)
		}
		if got := CompareVersions(tt.hi, tt.lo); got != 1 {
			t.Errorf("CompareVersions(%q, %q) = %d, want 1", tt.hi, tt.lo, got)
		}
	}
	for _, v := range []string{"", "1", "1.0.0-rc1", "master"} {
		if got := CompareVersions(v, v); got != 0 {
			t.Errorf("CompareVersions(%q, %q) = %d", v, v, got)
		}
	}
}

func TestCompare(t *testing.T) {
	// Ascending.
	order := []string{
		"core/redis",
		"core/redis/master/20200101000000",
		"core/redis/1.9/20200101000000",
		"core/redis/1.10/zzz",
		"core/redis/1.10/9",
		"core/redis/1.10/20180608091922",
		"core/redis/1.10/20180608091923",
		"core/redis/1.10.0/20180608091923", // equivalent version, later bytes
		"core/redis/1.10/100000000000000",
		"core/redis/1.10.1/1",
	}
	for i := range order {
		for j := range order {
			a, b := MustParse(order[i]), MustParse(order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(a, b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	// Origin and name only break ties.
	if Compare(MustParse("zz/redis/1.0/1"), MustParse("aa/redis/1.0/2")) != -1 {
		t.Error("origin outranks release")
	}
	if Compare(MustParse("aa/redis/1.0/1"), MustParse("zz/redis/1.0/1")) != -1 {
		t.Error("origin does not break a tie")
	}
}

// genVersion draws versions that exercise every branch: realistic dotted
// numbers with extensions, strings Habitat cannot read, and arbitrary bytes.
func genVersion() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.StringMatching(`[0-9]{1,3}(\.[0-9]{1,3}){0,3}(-?[a-z0-9.]{0,4})?`),
		rapid.StringMatching(`[v.]?[0-9.]{0,5}[a-z-]{0,3}`),
		rapid.StringMatching(`0{0,2}[0-9]{1,2}(\.0{0,2}[0-9]){0,2}`),
		rapid.SampledFrom([]string{"", "1", "1.0", "1.0.0", "01", "master", "1.0-", "1.0-a", "1..0", "."}),
		rapid.String(),
	)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func TestPropCompareVersionsTotalOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genVersion().Draw(t, "a")
		b := genVersion().Draw(t, "b")
		c := genVersion().Draw(t, "c")
		if CompareVersions(a, a) != 0 {
			t.Fatalf("not reflexive: %q", a)
		}
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != sign(ab) {
			t.Fatalf("CompareVersions(%q, %q) = %d, not -1/0/1", a, b, ab)
		}
		if ab != -ba {
			t.Fatalf("not antisymmetric: (%q, %q) = %d, reversed %d", a, b, ab, ba)
		}
		if (ab == 0) != (a == b) {
			t.Fatalf("CompareVersions(%q, %q) = %d: 0 must mean equal", a, b, ab)
		}
		// Transitivity, checked on the sorted triple in both directions.
		s := []string{a, b, c}
		slices.SortFunc(s, CompareVersions)
		if CompareVersions(s[0], s[1]) > 0 || CompareVersions(s[1], s[2]) > 0 || CompareVersions(s[0], s[2]) > 0 {
			t.Fatalf("not transitive: %q", s)
		}
		if CompareVersions(a, b) <= 0 && CompareVersions(b, c) <= 0 && CompareVersions(a, c) > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
	})
}

func TestPropCompareTotalOrder(t *testing.T) {
	gen := rapid.Custom(func(t *rapid.T) Ident {
		return Ident{
			Origin:  rapid.SampledFrom([]string{"a", "b"}).Draw(t, "origin"),
			Name:    rapid.SampledFrom([]string{"x", "y"}).Draw(t, "name"),
			Version: genVersion().Draw(t, "version"),
			Release: rapid.OneOf(rapid.StringMatching(`[0-9]{0,3}`), rapid.StringMatching(`[0-9a-z]{0,3}`)).Draw(t, "release"),
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := gen.Draw(t, "a"), gen.Draw(t, "b"), gen.Draw(t, "c")
		ab, ba := Compare(a, b), Compare(b, a)
		if ab != -ba || ab != sign(ab) {
			t.Fatalf("not antisymmetric: %#v %#v: %d %d", a, b, ab, ba)
		}
		if (ab == 0) != (a == b) {
			t.Fatalf("Compare(%#v, %#v) = %d: 0 must mean equal", a, b, ab)
		}
		if Compare(a, b) <= 0 && Compare(b, c) <= 0 && Compare(a, c) > 0 {
			t.Fatalf("not transitive: %#v %#v %#v", a, b, c)
		}
	})
}
