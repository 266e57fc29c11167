package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/hart"
	"github.com/ulikunitz/xz"
)

// mustRun runs the CLI against root and fails unless it exits 0.
func mustRun(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := runTend(t, root, args...)
	if r.code != 0 {
		t.Fatalf("tend %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// A package signed into a .hart with a key made by `tend origin key
// generate` installs with `tend pkg install x.hart`, and its service runs.
func TestHartSignInstallAndRun(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	out := mustRun(t, root, "origin", "key", "generate", "acme")
	if !strings.HasPrefix(out, "Generated origin key pair acme-") {
		t.Fatalf("key generate said %q", out)
	}
	keys, _ := filepath.Glob(filepath.Join(root, "cache", "keys", "acme-*"))
	modes := map[string]fs.FileMode{}
	for _, k := range keys {
		fi, _ := os.Stat(k)
		modes[strings.SplitN(filepath.Base(k), ".", 2)[1]] = fi.Mode().Perm()
	}
	if len(keys) != 2 || modes["pub"] != 0o644 || modes["sig.key"] != 0o600 {
		t.Fatalf("key files %v, modes %v", keys, modes)
	}

	tag := uniqueTag()
	src := pkgDir(t, map[string]string{
		"IDENT":     "acme/hartsvc/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
	art := filepath.Join(t.TempDir(), "hartsvc.hart")
	if out := mustRun(t, root, "pkg", "sign", src, art); !strings.Contains(out, "Signed acme/hartsvc/1.0.0/20260101000000 with acme-") {
		t.Fatalf("sign said %q", out)
	}
	if b, _ := os.ReadFile(art); !bytes.HasPrefix(b, []byte("HART-1\nacme-")) {
		t.Fatalf("artifact starts %q", b[:min(len(b), 40)])
	}
	out = mustRun(t, root, "pkg", "install", art)
	dest := filepath.Join(root, "pkgs", "acme", "hartsvc", "1.0.0", "20260101000000")
	if !strings.Contains(out, "Installed acme/hartsvc/1.0.0/20260101000000 at "+dest) {
		t.Fatalf("install said %q", out)
	}
	if out := mustRun(t, root, "pkg", "install", art); !strings.Contains(out, "already installed") {
		t.Fatalf("second install said %q", out)
	}

	s := startSup(t, root)
	s.mustTend("svc", "load", "acme/hartsvc")
	waitFor(t, 15*time.Second, "the installed package's service running", func() bool {
		return len(procsWith("sleep 1000"+tag)) == 1 && s.status()["hartsvc.default"].State == "up"
	})
}

// treeState records every path under dir with its type, mode and content
// digest, to show that a refused install changed nothing.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			return nil
		}
		fi, _ := d.Info()
		fmt.Fprintf(&b, "%s %v", p, fi.Mode())
		if fi.Mode().IsRegular() {
			c, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(c))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

// Bad artifacts each get one line naming what is wrong, exit 1, and leave
// ROOT/pkgs as it was.
func TestHartBadInputIsRefusedWithOneLineAndNoChange(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mustRun(t, root, "origin", "key", "generate", "acme")
	sleeperFiles := func(name string) map[string]string {
		return map[string]string{"IDENT": "acme/" + name + "/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\nexec sleep 1000\n"}
	}
	dir := t.TempDir()
	sign := func(root, name string, files map[string]string) string {
		art := filepath.Join(dir, name+".hart")
		mustRun(t, root, "pkg", "sign", pkgDir(t, files), art)
		return art
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Something installed already, so that a refusal has something to
	// disturb.
	mustRun(t, root, "pkg", "install", sign(root, "present", sleeperFiles("present")))

	good, _ := os.ReadFile(sign(root, "good", sleeperFiles("good")))
	lines := strings.SplitN(string(good), "\n", 5)
	sig, _ := base64.StdEncoding.DecodeString(lines[3])
	sig[3] ^= 0x01
	lines[3] = base64.StdEncoding.EncodeToString(sig)
	wrongSig := write("wrongsig.hart", []byte(strings.Join(lines, "\n")))
	truncated := write("truncated.hart", good[:len(good)-len(good)/3])
	tampered := append([]byte{}, good...)
	tampered[len(tampered)-30] ^= 0x40
	tamperedPath := write("tampered.hart", tampered)

	// A key this root has never seen.
	other := t.TempDir()
	mustRun(t, other, "origin", "key", "generate", "stranger")
	unknownKey := sign(other, "stranger", map[string]string{"IDENT": "stranger/x/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\n"})

	// A validly signed payload with an entry that climbs out of the
	// package directory: `tend pkg sign` refuses to make one, so it is
	// signed here with the root's own key.
	key, err := hart.KeyCache(filepath.Join(root, "cache", "keys")).LatestSecret("acme")
	if err != nil {
		t.Fatal(err)
	}
	const pre = "hab/pkgs/acme/evil/1.0.0/20260101000000/"
	escape := signedPayload(t, dir, "escape.hart", key, [][2]string{
		{pre + "IDENT", "acme/evil/1.0.0/20260101000000"},
		{pre + "hooks/run", "#!/bin/sh\n"},
		{pre + "../../../../../../../../tmp/pwned", "x"},
	})
	linkEscape := signedPayload(t, dir, "link.hart", key, [][2]string{
		{pre + "IDENT", "acme/evil/1.0.0/20260101000000"},
		{pre + "hooks/run", "#!/bin/sh\n"},
		{pre + "etc", "->/etc"},
	})

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong signature", []string{"pkg", "install", wrongSig}, "signature does not verify with key acme-"},
		{"truncated payload", []string{"pkg", "install", truncated}, "the file is truncated or was changed"},
		{"tampered payload", []string{"pkg", "install", tamperedPath}, "the file is truncated or was changed"},
		{"unknown key", []string{"pkg", "install", unknownKey}, "signed with key stranger-"},
		{"path escape", []string{"pkg", "install", escape}, "escapes the package directory"},
		{"symlink escape", []string{"pkg", "install", linkEscape}, `-> "/etc" leads outside the package directory`},
		{"not an artifact", []string{"pkg", "install", write("junk.hart", []byte("hello\n"))}, "not a Habitat artifact"},
		{"bad origin name", []string{"origin", "key", "generate", "../etc"}, "origin"},
		{"sign without a key", []string{"pkg", "sign", pkgDir(t, map[string]string{"IDENT": "nokey/x/1/2", "hooks/run": "#!/bin/sh\n"}), filepath.Join(dir, "nokey.hart")}, "no secret signing key for origin nokey"},
	}
	before := treeState(t, filepath.Join(root, "pkgs"))
	keysBefore := treeState(t, filepath.Join(root, "cache"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runTend(t, root, tc.args...)
			line := strings.TrimSpace(r.stderr)
			if r.code != 1 || strings.Contains(line, "\n") || !strings.Contains(line, tc.want) || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q: want exit 1 and one line containing %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
	if after := treeState(t, filepath.Join(root, "pkgs")); after != before {
		t.Fatalf("ROOT/pkgs changed:\n%s\n->\n%s", before, after)
	}
	if after := treeState(t, filepath.Join(root, "cache")); after != keysBefore {
		t.Fatalf("ROOT/cache changed:\n%s\n->\n%s", keysBefore, after)
	}
	if _, err := os.Lstat("/tmp/pwned"); err == nil {
		t.Fatal("/tmp/pwned exists")
	}
}

// signedPayload writes an artifact of a tar of entries (name -> body; a
// body "->TARGET" makes a symlink) signed with key.
func signedPayload(t *testing.T, dir, name string, key hart.SecretKey, entries [][2]string) string {
	t.Helper()
	var buf bytes.Buffer
	xw, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(xw)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o755, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		if target, ok := strings.CutPrefix(e[1], "->"); ok {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, target, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e[1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := hart.Sign(&out, bytes.NewReader(buf.Bytes()), key); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
