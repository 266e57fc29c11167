package hart

import (
	"bufio"
	"bytes"
	"path"
	"strings"
	"testing"
)

// Whatever the bytes, ReadHeader returns an error or a header, never
// panics, and never claims more bytes than it was given.
func FuzzReadHeader(f *testing.F) {
	_, sec, _ := GenerateKeyPair("acme", testTime)
	f.Add(signed(f, []byte("payload"), sec))
	f.Add([]byte("HART-1\nacme-20260101000000\nBLAKE2b\n\n\n"))
	f.Add([]byte("HART-1\r\nacme-20260101000000\r\nBLAKE2b\r\nAAAA\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, n, _ := ReadHeader(bufio.NewReader(bytes.NewReader(b)))
		if n > len(b) {
			t.Fatalf("read %d of %d bytes", n, len(b))
		}
	})
}

// Whatever tar it is given, a plan Scan accepts keeps every entry inside
// the package directory.
func FuzzScan(f *testing.F) {
	f.Add(payload(f, goodMembers()))
	f.Add(payload(f, append(goodMembers(), symlink(testPrefix+"up", "../x"))))
	f.Add(payload(f, append(goodMembers(), file(testPrefix+"../x", "x"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		plan, err := Scan(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, e := range plan.Entries {
			if e.Path != "" && (path.Clean(e.Path) != e.Path || strings.HasPrefix(e.Path, "/") || strings.HasPrefix(e.Path, "..")) {
				t.Fatalf("accepted entry %q", e.Path)
			}
			if e.Type == '2' && path.IsAbs(e.Linkname) {
				t.Fatalf("accepted symlink to %q", e.Linkname)
			}
		}
	})
}
