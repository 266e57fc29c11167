package update

import (
	"testing"

	"github.com/tend-sh/tend/internal/ident"
)

func TestPick(t *testing.T) {
	id := ident.MustParse
	v1 := id("core/app/1.0.0/20260101000000")
	v2 := id("core/app/2.0.0/20260101000000")
	v10 := id("core/app/10.0.0/20250101000000") // 10 > 2 in Habitat's order, not in the strings'
	rc := id("core/app/2.0.0-rc1/20270101000000")
	none := ident.Ident{}
	for _, c := range []struct {
		name               string
		cond               string
		running, src, inst ident.Ident
		inSrc, isInst      bool
		want               ident.Ident
		ok                 bool
	}{
		{"nothing anywhere", Latest, v1, none, none, false, false, none, false},
		{"newer in the source", Latest, v1, v2, none, true, false, v2, true},
		{"newer installed (pkg install)", Latest, v1, none, v2, false, true, v2, true},
		{"newest of both", Latest, v1, v2, v10, true, true, v10, true},
		{"version order, not string order", Latest, v2, v10, none, true, false, v10, true},
		{"a pre-release is older than its release", Latest, v2, rc, none, true, false, none, false},
		{"never back with latest", Latest, v2, v1, v1, true, true, none, false},
		{"the same is no update", Latest, v2, v2, v2, true, true, none, false},
		{"track-channel follows the source back", TrackChannel, v2, v1, none, true, false, v1, true},
		{"track-channel ignores what is installed", TrackChannel, v1, none, v2, false, true, none, false},
		{"track-channel at the head stays", TrackChannel, v2, v2, v10, true, true, none, false},
	} {
		got, ok := Pick(c.cond, c.running, c.src, c.inSrc, c.inst, c.isInst)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s: Pick = %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestNewestSatisfiesTheSpecIdent(t *testing.T) {
	cands := []Candidate{
		{Ident: ident.MustParse("core/app/1.0.0/20260101000000")},
		{Ident: ident.MustParse("core/app/1.2.0/20260101000000")},
		{Ident: ident.MustParse("core/other/9.0.0/20260101000000")},
		{Ident: ident.MustParse("core/app/1.10.0/20250101000000")},
		{Ident: ident.MustParse("core/app/2.0.0/20260101000000")},
	}
	for fuzzy, want := range map[string]string{
		"core/app":       "core/app/2.0.0/20260101000000",
		"core/app/1.2.0": "core/app/1.2.0/20260101000000",
		"core/other":     "core/other/9.0.0/20260101000000",
	} {
		got, ok := Newest(cands, ident.MustParse(fuzzy))
		if !ok || got.Ident.String() != want {
			t.Errorf("Newest(%s) = %v %v, want %s", fuzzy, got.Ident, ok, want)
		}
	}
	if _, ok := Newest(cands, ident.MustParse("core/none")); ok {
		t.Error("Newest found a package of another name")
	}
}
