package ident

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Ident
	}{
		{"core/redis", Ident{Origin: "core", Name: "redis"}},
		{"core/redis/4.0.14", Ident{"core", "redis", "4.0.14", ""}},
		{"core/redis/4.0.14/20190319155852", Ident{"core", "redis", "4.0.14", "20190319155852"}},
		{"My_Org-1/the_last__dj/1.0.0-rc.1+b7/x", Ident{"My_Org-1", "the_last__dj", "1.0.0-rc.1+b7", "x"}},
		{"a/b/.hidden/r", Ident{"a", "b", ".hidden", "r"}},
		{"a/b/v\u00e9rsion", Ident{"a", "b", "v\u00e9rsion", ""}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("Parse(%q).String() = %q", tt.in, s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, wantInMsg string
	}{
		{"", "got 1 parts"},
		{"core", "got 1 parts"},
		{"a/b/c/d/e", "got 5 parts"},
		{"/redis", "origin is empty"},
		{"core/", "name is empty"},
		{"core/redis/", "version is empty"},
		{"core//1.0", "name is empty"},
		{"core/redis/1.0/", "release is empty"},
		{"core/redis//20180608091922", "version is empty"},
		{"co re/redis", `origin "co re" may only hold`},
		{"core/re.dis", `name "re.dis" may only hold`},
		{"core/redis%", `name "redis%" may only hold`},
		{"core/r\u00e9dis", "name"},
		{"core/redis/1 0", `version "1 0" contains whitespace`},
		{"core/redis/1.0/2018\t01", `release "2018\t01" contains whitespace`},
		{"core/redis/1.0\u00a0", "version"},
		{"core/redis/1\x00", `version "1\x00" contains a control character`},
		{"core/redis/\xff", "not valid UTF-8"},
		{"core/redis/..", `version may not be ".."`},
		{"core/redis/1.0/.", `release may not be "."`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error", tt.in)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.wantInMsg) {
			t.Errorf("Parse(%q) error %q does not mention %q", tt.in, err, tt.wantInMsg)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error %q is more than one line", tt.in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Ident{"core", "redis", "", "2018"}).Validate(); err == nil {
		t.Error("release without version accepted")
	}
	if err := (Ident{"core", "redis", "1.0", ""}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (Ident{}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero ident: %v", err)
	}
}

func TestFullyQualified(t *testing.T) {
	for s, want := range map[string]bool{
		"core/redis":          false,
		"core/redis/1.0":      false,
		"core/redis/1.0/2018": true,
	} {
		if got := MustParse(s).FullyQualified(); got != want {
			t.Errorf("%s: FullyQualified() = %v", s, got)
		}
	}
}

func TestSatisfies(t *testing.T) {
	full := MustParse("core/redis/4.0.14/20190319155852")
	tests := []struct {
		fuzzy string
		want  bool
	}{
		{"core/redis", true},
		{"core/redis/4.0.14", true},
		{"core/redis/4.0.14/20190319155852", true},
		{"core/redis/4.0", false},
		{"core/redis/4.0.14/20190319155853", false},
		{"other/redis", false},
		{"core/redis-cli", false},
	}
	for _, tt := range tests {
		if got := full.Satisfies(MustParse(tt.fuzzy)); got != tt.want {
			t.Errorf("%s.Satisfies(%s) = %v, want %v", full, tt.fuzzy, got, tt.want)
		}
	}
	// A fuzzy ident does not satisfy a more specific one.
	if MustParse("core/redis").Satisfies(full) {
		t.Error("core/redis satisfies a fully qualified ident")
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("nope")
}

// genIdent draws valid idents of every length, with tails that use the
// awkward characters Parse allows.
func genIdent() *rapid.Generator[Ident] {
	name := rapid.StringMatching(`[A-Za-z0-9_-]{1,12}`)
	tail := rapid.StringMatching(`[A-Za-z0-9._+~:@=-]{1,12}`).Filter(func(s string) bool {
		return s != "." && s != ".."
	})
	return rapid.Custom(func(t *rapid.T) Ident {
		id := Ident{Origin: name.Draw(t, "origin"), Name: name.Draw(t, "name")}
		switch rapid.IntRange(2, 4).Draw(t, "parts") {
		case 4:
			id.Release = tail.Draw(t, "release")
			fallthrough
		case 3:
			id.Version = tail.Draw(t, "version")
		}
		return id
	})
}

func TestPropParseStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := genIdent().Draw(t, "ident")
		got, err := Parse(id.String())
		if err != nil {
			t.Fatalf("Parse(%q): %v", id.String(), err)
		}
		if got != id {
			t.Fatalf("Parse(%q) = %#v, want %#v", id.String(), got, id)
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("Validate(%#v): %v", id, err)
		}
		if !id.Satisfies(id) {
			t.Fatalf("%s does not satisfy itself", id)
		}
	})
}
