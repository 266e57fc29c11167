package spec

import (
	"regexp"
	"strings"
	"testing"
)

// habitatSG is Habitat's service group rule as a regular expression, the
// oracle for the hand-written parser.
var habitatSG = regexp.MustCompile(`\A[^#@.]+\.[^#@.]+(@[^#@.]+)?\z`)

// FuzzServiceGroup checks that formatting and parsing agree with each other
// and with Habitat's rule.
func FuzzServiceGroup(f *testing.F) {
	for _, seed := range [][3]string{
		{"redis", "default", ""},
		{"redis", "default", "acme"},
		{"re.dis", "default", ""},
		{"redis", "de@fault", ""},
		{"redis", "default", "ac#me"},
		{"", "default", ""},
		{"redis", "", "acme"},
		{"ünïcode", "grüppe", "örg"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, svc, group, org string) {
		sg, err := FormatServiceGroup(svc, group, org)
		valid := svc != "" && group != "" &&
			!strings.ContainsAny(svc+group+org, forbiddenInName)
		if (err == nil) != valid {
			t.Fatalf("format(%q, %q, %q): err %v, valid %v", svc, group, org, err, valid)
		}
		if err == nil {
			if !habitatSG.MatchString(sg) {
				t.Fatalf("%q accepted but Habitat's rule rejects it", sg)
			}
			s, g, o, err := ParseServiceGroup(sg)
			if err != nil || s != svc || g != group || o != org {
				t.Fatalf("parse(%q) = %q %q %q %v", sg, s, g, o, err)
			}
		}
		// Any string: the parser agrees with Habitat's rule, and what it
		// accepts formats back to itself.
		for _, in := range []string{svc, svc + "." + group, svc + "." + group + "@" + org} {
			s, g, o, err := ParseServiceGroup(in)
			if (err == nil) != habitatSG.MatchString(in) {
				t.Fatalf("parse(%q): err %v, Habitat's rule says %v", in, err, habitatSG.MatchString(in))
			}
			if err == nil {
				if back, _ := FormatServiceGroup(s, g, o); back != in {
					t.Fatalf("parse(%q) formats back as %q", in, back)
				}
			}
		}
	})
}
