package svccfg

import "testing"

// FuzzMerge parses two TOML documents, merges them, and checks that the
// result survives EncodeTOML then ParseTOML unchanged.
func FuzzMerge(f *testing.F) {
	f.Add("port = 1\n[tls]\non = true", "port = 2\n[tls]\ncert = \"x\"")
	f.Add("[[a]]\nx = 1\n[[a]]\ny = 2", "a = [1, {b = 2}]")
	f.Add("t = 1979-05-27T07:32:00Z\nd = 1979-05-27", "f = nan\ng = -inf\nh = 1e300")
	f.Add("\"\" = \"\\u0000\"\n\"a.b\" = 1", "x.y.z = 1\n[x.y]\nw = 2")
	f.Fuzz(func(t *testing.T, doc1, doc2 string) {
		a, err := ParseTOML("a", []byte(doc1))
		if err != nil {
			return
		}
		b, err := ParseTOML("b", []byte(doc2))
		if err != nil {
			return
		}
		roundTrip(t, Merge(a, b))
	})
}
