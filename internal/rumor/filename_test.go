package rumor

import (
	"strings"
	"testing"
)

func TestCheckFilename(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\nb", "a\x00b", "a\rb", "a\xffb", strings.Repeat("x", 256)} {
		if CheckFilename(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
		r := Rumor{Kind: KindFile, File: &File{ServiceGroup: "web.default", Filename: bad}}
		if r.Validate() == nil {
			t.Errorf("rumor with file %q accepted", bad)
		}
	}
	for _, ok := range []string{"a", "app.conf", "..a", "é.txt", strings.Repeat("x", 255)} {
		if err := CheckFilename(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
