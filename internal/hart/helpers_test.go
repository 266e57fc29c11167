package hart

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

// testTime is the revision of test keys: 20261202110000.
var testTime = time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)

const testPrefix = "hab/pkgs/acme/web/1.0.0/20260101000000/"

// member is one tar entry of a test payload.
type member struct {
	name, body, link string
	typ              byte
	mode             int64
}

func file(name, body string) member {
	return member{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}
func dir(name string) member { return member{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) member {
	return member{name: name, link: to, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, to string) member {
	return member{name: name, link: to, typ: tar.TypeLink, mode: 0o644}
}

// goodMembers is a small sound package.
func goodMembers() []member {
	return []member{
		dir("hab/"), dir("hab/pkgs/"),
		dir(testPrefix),
		file(testPrefix+"IDENT", "acme/web/1.0.0/20260101000000\n"),
		dir(testPrefix + "hooks/"),
		{name: testPrefix + "hooks/run", body: "#!/bin/sh\nexec sleep 1000\n", typ: tar.TypeReg, mode: 0o755},
		file(testPrefix+"lib/libx.so.1", "ELF"),
		symlink(testPrefix+"lib/libx.so", "libx.so.1"),
		symlink(testPrefix+"bin/x", "../lib/libx.so"),
		hardlink(testPrefix+"lib/libx-copy.so.1", testPrefix+"lib/libx.so.1"),
	}
}

// payload makes an xz-compressed tar of ms.
func payload(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	xw, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(xw)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: m.mode, Linkname: m.link, ModTime: time.Unix(1767225600, 0)}
		if m.typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newCache makes a key cache holding a fresh pair for origin acme.
func newCache(t *testing.T) (KeyCache, SecretKey) {
	t.Helper()
	c := KeyCache(filepath.Join(t.TempDir(), "keys"))
	_, sec, err := GenerateKeyPair("acme", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WritePair(sec); err != nil {
		t.Fatal(err)
	}
	return c, sec
}

// signed makes an artifact of payload p.
func signed(t testing.TB, p []byte, key SecretKey) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Sign(&out, bytes.NewReader(p), key); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeTemp writes b to a new file and returns its path.
func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.hart")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// headerLen is where an artifact's payload starts.
func headerLen(b []byte) int {
	n := 0
	for range 5 {
		n += bytes.IndexByte(b[n:], '\n') + 1
	}
	return n
}
