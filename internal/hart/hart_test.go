package hart

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyFilesAreInHabitatFormat(t *testing.T) {
	c, sec := newCache(t)
	pubPath := filepath.Join(string(c), "acme-20261202110000.pub")
	secPath := filepath.Join(string(c), "acme-20261202110000.sig.key")
	for path, want := range map[string]struct {
		version string
		mode    os.FileMode
		size    int
	}{pubPath: {"SIG-PUB-1", 0o644, 32}, secPath: {"SIG-SEC-1", 0o600, 64}} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want.mode)
		}
		b, _ := os.ReadFile(path)
		lines := strings.Split(string(b), "\n")
		if len(lines) != 4 || lines[0] != want.version || lines[1] != "acme-20261202110000" || lines[2] != "" {
			t.Fatalf("%s: %q: want version, name, empty line, key", path, b)
		}
		key, err := base64.StdEncoding.DecodeString(lines[3])
		if err != nil || len(key) != want.size {
			t.Fatalf("%s: key %q: %d bytes, %v; want %d", path, lines[3], len(key), err, want.size)
		}
	}
	pub, err := c.Public(sec.Name)
	if err != nil || !pub.Key.Equal(sec.Key.Public()) {
		t.Fatalf("Public: %v %v", pub, err)
	}
	got, err := c.LatestSecret("acme")
	if err != nil || !got.Key.Equal(sec.Key) {
		t.Fatalf("LatestSecret: %v", err)
	}
	if _, _, err := c.WritePair(sec); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Fatalf("second WritePair of one name: %v", err)
	}
}

func TestLatestSecretIsTheNewestRevision(t *testing.T) {
	c, _ := newCache(t)
	_, newer, err := GenerateKeyPair("acme", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WritePair(newer); err != nil {
		t.Fatal(err)
	}
	got, err := c.LatestSecret("acme")
	if err != nil || got.Name.Revision != "20270101000000" {
		t.Fatalf("got %v, %v", got.Name, err)
	}
	if _, err := c.LatestSecret("other"); err == nil || !strings.Contains(err.Error(), "no secret signing key for origin other") {
		t.Fatalf("unknown origin: %v", err)
	}
}

func TestParseKeyRefusesBadFiles(t *testing.T) {
	_, sec, _ := GenerateKeyPair("acme", time.Now())
	good := string(sec.Public().Marshal())
	cases := map[string]string{
		"secret as public": string(sec.Marshal()),
		"no name":          strings.Replace(good, "acme-", "", 1),
		"short key":        good[:len(good)-8],
		"no blank line":    strings.Replace(good, "\n\n", "\nx\n", 1),
		"empty":            "",
	}
	for name, in := range cases {
		if _, err := ParsePublicKey([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A secret key whose public half is another key's would sign as one
	// key and name another.
	_, other, _ := GenerateKeyPair("acme", time.Now())
	mixed := append(append([]byte{}, sec.Key.Seed()...), other.Key.Public().(ed25519.PublicKey)...)
	b := []byte("SIG-SEC-1\n" + sec.Name.String() + "\n\n" + base64.StdEncoding.EncodeToString(mixed))
	if _, err := ParseSecretKey(b); err == nil || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(mixed)) {
		t.Fatalf("mixed halves: %v", err)
	}
}

func TestSignedMessageIsTheHexBLAKE2bOfThePayload(t *testing.T) {
	_, sec := newCache(t)
	art := signed(t, []byte("hearty goodness"), sec)
	lines := strings.SplitN(string(art), "\n", 6)
	if lines[0] != "HART-1" || lines[1] != sec.Name.String() || lines[2] != "BLAKE2b" || lines[4] != "" || lines[5] != "hearty goodness" {
		t.Fatalf("artifact %q", art)
	}
	sig, err := base64.StdEncoding.DecodeString(lines[3])
	if err != nil {
		t.Fatal(err)
	}
	// libsodium's combined mode: the signature, then the message. The
	// digest is BLAKE2b-256 of the payload (computed independently, with
	// Python's hashlib.blake2b(digest_size=32)), in lower-case hex.
	const digest = "f386e48b11c88269a95d41aafb8de3d4987d53a63c23cb52217c91f3ca017683"
	if string(sig[64:]) != digest {
		t.Fatalf("signed message %q, want %q", sig[64:], digest)
	}
	if !ed25519.Verify(sec.Key.Public().(ed25519.PublicKey), sig[64:], sig[:64]) {
		t.Fatal("signature does not verify")
	}
}

func TestOpenVerifiesAndRefuses(t *testing.T) {
	c, sec := newCache(t)
	p := payload(t, goodMembers())
	good := signed(t, p, sec)
	n := headerLen(good)

	a, err := Open(writeTemp(t, good), c)
	if err != nil {
		t.Fatalf("good artifact: %v", err)
	}
	var got []byte
	if err := a.ReadPayload(func(r io.Reader) error { got, err = io.ReadAll(r); return err }); err != nil || !bytes.Equal(got, p) {
		t.Fatalf("payload: %v", err)
	}
	a.Close()

	// Another key of the same name: what a wrong key looks like.
	_, imposter, _ := GenerateKeyPair("acme", testTime)
	wrongKey := signed(t, p, imposter)

	flipSig := append([]byte{}, good...)
	sigLine := strings.Split(string(good), "\n")[3]
	sig, _ := base64.StdEncoding.DecodeString(sigLine)
	sig[10] ^= 1
	flipSig = bytes.Replace(flipSig, []byte(sigLine), []byte(base64.StdEncoding.EncodeToString(sig)), 1)

	tampered := append([]byte{}, good...)
	tampered[len(tampered)-20] ^= 0xff

	_, stranger, _ := GenerateKeyPair("stranger", time.Now())

	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"wrong signature", flipSig, "signature does not verify with key acme-20261202110000"},
		{"signed by another key of the same name", wrongKey, "signature does not verify"},
		{"tampered payload", tampered, "the file is truncated or was changed"},
		{"truncated payload", good[:n+len(p)/2], "the file is truncated or was changed"},
		{"no payload", good[:n], "the file is truncated or was changed"},
		{"unknown key", signed(t, p, stranger), "signed with key stranger-"},
		{"unsigned tarball", p, "not a Habitat artifact"},
		{"empty file", nil, "the file is empty"},
		{"truncated header", good[:n-1], "ends before its empty line"},
		{"header cut in the signature", good[:n-3], "ends before its signature"},
		{"bad hash type", bytes.Replace(good, []byte("BLAKE2b"), []byte("SHA256"), 1), `hash type "SHA256"`},
		{"bad key name", bytes.Replace(good, []byte("acme-20261202110000"), []byte("acme"), 1), "not ORIGIN-REVISION"},
		{"key name with a path", bytes.Replace(good, []byte("acme-20261202110000"), []byte("../x-20261202110000"), 1), "origin"},
		{"no blank line", bytes.Replace(good, []byte("=\n\n"), []byte("=\nx\n"), 1), "should end with an empty line"},
		{"signature not base64", bytes.Replace(good, []byte(sigLine), []byte("not:base64"), 1), "not valid base64"},
		{"long line", append([]byte("HART-1\n"), bytes.Repeat([]byte("a"), 5000)...), "longer than"},
		{"binary junk", bytes.Repeat([]byte{0xfd}, 5000), "not a Habitat artifact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Open(writeTemp(t, tc.b), c)
			if err == nil {
				a.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestReadPayloadNoticesAChangedFile(t *testing.T) {
	c, sec := newCache(t)
	b := signed(t, payload(t, goodMembers()), sec)
	path := writeTemp(t, b)
	a, err := Open(path, c)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Changed in place after verification, as a writer of the file could.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{b[len(b)-20] ^ 0xff}, int64(len(b)-20)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = a.ReadPayload(func(r io.Reader) error { _, err := io.ReadAll(r); return err })
	if err == nil || !strings.Contains(err.Error(), "changed while it was being read") {
		t.Fatalf("got %v", err)
	}
}

func TestScanAcceptsHabitatLayouts(t *testing.T) {
	for _, prefix := range []string{"", "/", "./"} {
		var ms []member
		for _, m := range goodMembers() {
			m.name = prefix + m.name
			if m.typ == '1' {
				m.link = prefix + m.link
			}
			ms = append(ms, m)
		}
		plan, err := Scan(bytes.NewReader(payload(t, ms)))
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		if plan.Ident.String() != "acme/web/1.0.0/20260101000000" || len(plan.Entries) != 8 {
			t.Fatalf("prefix %q: %s, %d entries", prefix, plan.Ident, len(plan.Entries))
		}
	}
}

func TestScanRefusesUnsafePayloads(t *testing.T) {
	with := func(extra ...member) []member { return append(goodMembers(), extra...) }
	cases := []struct {
		name string
		ms   []member
		want string
	}{
		{"dot-dot out of the package", with(file(testPrefix+"../../../../../../etc/passwd", "x")), `escapes the package directory`},
		{"outside hab/pkgs", with(file("etc/passwd", "x")), `"etc/passwd" is not under hab/pkgs`},
		{"absolute outside hab/pkgs", with(file("/etc/passwd", "x")), `is not under hab/pkgs`},
		{"absolute symlink", with(symlink(testPrefix+"etc", "/etc")), `symlink "` + testPrefix + `etc" -> "/etc" leads outside`},
		{"symlink climbing out", with(symlink(testPrefix+"up", "../../x")), "leads outside"},
		{"symlink chain climbing out", with(symlink(testPrefix+"a/here", ".."), symlink(testPrefix+"a/out", "here/../..")), "leads outside"},
		{"symlink through a dot link", with(symlink(testPrefix+"self", "."), symlink(testPrefix+"esc", "self/../self/..")), "leads outside"},
		{"symlink loop", with(symlink(testPrefix+"l1", "l2"), symlink(testPrefix+"l2", "l1/x")), "loop"},
		{"write through a symlink", with(symlink(testPrefix+"etc", "lib"), file(testPrefix+"etc/passwd", "x")), "which is not a directory"},
		{"hard link outside", with(hardlink(testPrefix+"pw", "etc/passwd")), "hard link"},
		{"hard link to a later file", append([]member{hardlink(testPrefix+"early", testPrefix+"IDENT")}, goodMembers()...), "not a file earlier"},
		{"device", with(member{name: testPrefix + "dev", typ: '3', mode: 0o600}), "character device"},
		{"fifo", with(member{name: testPrefix + "fifo", typ: '6', mode: 0o600}), "named pipe"},
		{"two packages", with(file("hab/pkgs/acme/other/1/2/IDENT", "acme/other/1/2")), "more than one package"},
		{"same path twice", with(file(testPrefix+"lib/libx.so.1", "evil")), "appears twice"},
		{"file where a directory was", with(file(testPrefix+"hooks", "x")), "appears twice"},
		{"bad ident in path", []member{file("hab/pkgs/acme/we b/1/2/IDENT", "x")}, "invalid ident"},
		{"IDENT mismatch", []member{file(testPrefix+"IDENT", "acme/web/9.9.9/20260101000000")}, "IDENT says"},
		{"no IDENT", []member{file(testPrefix+"hooks/run", "#!/bin/sh\n")}, "has no IDENT"},
		{"empty", nil, "holds no package"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scan(bytes.NewReader(payload(t, tc.ms)))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line containing %q", err, tc.want)
			}
		})
	}
	if _, err := Scan(strings.NewReader("not xz")); err == nil || !strings.Contains(err.Error(), "not xz-compressed") {
		t.Fatalf("not xz: %v", err)
	}
	p := payload(t, goodMembers())
	if _, err := Scan(bytes.NewReader(p[:len(p)/2])); err == nil {
		t.Fatal("truncated xz accepted")
	}
}

func TestExtractUnpacksWhatScanPlanned(t *testing.T) {
	p := payload(t, goodMembers())
	plan, err := Scan(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Extract(bytes.NewReader(p), dir, plan); err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if read("IDENT") != "acme/web/1.0.0/20260101000000\n" || read("bin/x") != "ELF" || read("lib/libx-copy.so.1") != "ELF" {
		t.Fatal("contents differ")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "hooks/run")); fi.Mode().Perm() != 0o755 {
		t.Fatalf("hooks/run mode %v", fi.Mode())
	}
	if l, _ := os.Readlink(filepath.Join(dir, "bin/x")); l != "../lib/libx.so" {
		t.Fatalf("bin/x -> %q", l)
	}
	a, _ := os.Stat(filepath.Join(dir, "lib/libx.so.1"))
	b, _ := os.Stat(filepath.Join(dir, "lib/libx-copy.so.1"))
	if !os.SameFile(a, b) {
		t.Fatal("hard link unpacked as a copy")
	}

	// A payload other than the planned one is not unpacked past the point
	// where it differs.
	other := payload(t, append(goodMembers(), file(testPrefix+"extra", "x")))
	if err := Extract(bytes.NewReader(other), t.TempDir(), plan); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("other payload: %v", err)
	}
}

func TestPackMakesWhatScanAccepts(t *testing.T) {
	src := t.TempDir()
	for rel, body := range map[string]string{"IDENT": "acme/web/1.0.0/20260101000000\n", "hooks/run": "#!/bin/sh\n", "config/a.conf": "a"} {
		os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755)
		os.WriteFile(filepath.Join(src, rel), []byte(body), 0o640)
	}
	os.Symlink("config/a.conf", filepath.Join(src, "a.conf"))
	var buf bytes.Buffer
	plan0, _ := Scan(bytes.NewReader(payload(t, goodMembers())))
	if err := Pack(&buf, src, plan0.Ident); err != nil {
		t.Fatal(err)
	}
	plan, err := Scan(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range plan.Entries {
		got = append(got, e.Path+":"+e.Mode.String())
	}
	want := ":-rwxr-xr-x,IDENT:-rw-r-----,a.conf:-rwxrwxrwx,config:-rwxr-xr-x,config/a.conf:-rw-r-----,hooks:-rwxr-xr-x,hooks/run:-rw-r-----"
	if strings.Join(got, ",") != want {
		t.Fatalf("entries\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}
