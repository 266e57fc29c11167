package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSpecFile checks that whatever Parse accepts, Encode writes a file
// that reads back as the same spec and writes the same bytes again: kept
// keys and tables never break the document they are written into.
func FuzzSpecFile(f *testing.F) {
	for _, name := range []string{"habitat-1.6-redis.spec", "habitat-1.6-web.spec", "tend-written.spec"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("ident = \"a/b\"\nx.y = 1\n[t]\nz = 'q'\n[[u]]\n[health_check_interval]\nsecs = 3\n"))
	f.Add([]byte("ident = \"a/b\"\ngroup = \"x\\ny\"\nchannel = '''\nz\"'''\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("x.spec", data)
		if err != nil {
			return
		}
		out := s.Encode()
		back, err := Parse("x.spec", out)
		if err != nil {
			t.Fatalf("tend cannot read what it wrote: %v\n--- in\n%s\n--- out\n%s", err, data, out)
		}
		if again := back.Encode(); !bytes.Equal(again, out) {
			t.Fatalf("second write differs:\n--- first\n%s\n--- second\n%s", out, again)
		}
	})
}
