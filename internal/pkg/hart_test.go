package pkg

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/hart"
	"github.com/ulikunitz/xz"
)

const appIdent = "core/app/1.0.0/20200101000000"

// newKey makes a key pair for origin in root's key cache.
func newKey(t *testing.T, root, origin string) hart.SecretKey {
	t.Helper()
	_, sec, err := hart.GenerateKeyPair(origin, time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hart.KeyCache(KeysDir(root)).WritePair(sec); err != nil {
		t.Fatal(err)
	}
	return sec
}

// signDir signs the package of files into a new artifact and returns its path.
func signDir(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "app.hart")
	if _, err := Sign(root, newPkg(t, files), dest, ""); err != nil {
		t.Fatal(err)
	}
	return dest
}

// signTar signs a payload of the given tar entries (name -> body; a body
// starting with "->" makes a symlink) with key, bypassing Sign's checks.
func signTar(t *testing.T, key hart.SecretKey, entries [][2]string) string {
	t.Helper()
	var buf bytes.Buffer
	xw, _ := xz.NewWriter(&buf)
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
			tw.Write([]byte(e[1]))
		}
	}
	tw.Close()
	xw.Close()
	dest := filepath.Join(t.TempDir(), "x.hart")
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := hart.Sign(f, bytes.NewReader(buf.Bytes()), key); err != nil {
		t.Fatal(err)
	}
	return dest
}

func TestInstallHartInstallsASignedPackage(t *testing.T) {
	root := t.TempDir()
	newKey(t, root, "core")
	files := with(minimal(), map[string]string{"config/app.conf": "port={{cfg.port}}\n", "default.toml": "port = 80\n"})
	art := signDir(t, root, files)

	res, err := InstallHart(root, art)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(root, "pkgs", "core", "app", "1.0.0", "20200101000000")
	if res.Already || res.Package.Path != dest || res.Package.Ident.String() != appIdent || res.Signer.String() != "core-20261202110000" {
		t.Fatalf("result %+v", res)
	}
	if got, want := listTree(t, dest), listTree(t, newPkg(t, files)); !slices.Equal(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
	if fi, _ := os.Stat(filepath.Join(dest, "hooks", "run")); fi.Mode().Perm() != 0o755 {
		t.Fatalf("hooks/run mode %v", fi.Mode())
	}
	if p, err := Find(root, res.Package.Ident); err != nil || p.Path != dest {
		t.Fatalf("Find after install: %v %v", p, err)
	}

	// The same artifact again: nothing to do.
	before := listTree(t, filepath.Join(root, "pkgs"))
	res, err = InstallHart(root, art)
	if err != nil || !res.Already {
		t.Fatalf("second install: %+v %v", res, err)
	}
	// Another artifact of the same release with other contents: refused,
	// the installed copy untouched.
	other := signDir(t, root, with(files, map[string]string{"default.toml": "port = 81\n"}))
	if _, err := InstallHart(root, other); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "build a new release") {
		t.Fatalf("conflicting release: %v", err)
	}
	if got := listTree(t, filepath.Join(root, "pkgs")); !slices.Equal(got, before) {
		t.Fatalf("pkgs changed: %v -> %v", before, got)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "default.toml")); string(b) != "port = 80\n" {
		t.Fatalf("installed default.toml now %q", b)
	}
}

func TestInstallHartRefusalsLeavePkgsAlone(t *testing.T) {
	root := t.TempDir()
	core := newKey(t, root, "core")
	evil := newKey(t, root, "evil")
	good := signDir(t, root, minimal())
	tampered, _ := os.ReadFile(good)
	tampered[len(tampered)-10] ^= 1
	tamperedPath := filepath.Join(t.TempDir(), "t.hart")
	os.WriteFile(tamperedPath, tampered, 0o644)

	const pre = "hab/pkgs/" + appIdent + "/"
	ident := [2]string{pre + "IDENT", appIdent}
	run := [2]string{pre + "hooks/run", "#!/bin/sh\n"}
	cases := []struct {
		name, path, want string
	}{
		{"tampered", tamperedPath, "truncated or was changed"},
		{"path escape", signTar(t, core, [][2]string{ident, run, {pre + "../../../../../../../etc/x", "x"}}), "escapes the package directory"},
		{"symlink escape", signTar(t, core, [][2]string{ident, run, {pre + "hooks/init", "->/etc/shadow"}}), "leads outside the package directory"},
		{"another origin's key", signTar(t, evil, [][2]string{ident, run}), "signed with key evil-20261202110000, of another origin"},
		{"not a service", signTar(t, core, [][2]string{ident}), "hooks/run: missing"},
	}
	// An existing package, so that a refusal could disturb something.
	if _, err := Install(root, newPkg(t, with(minimal(), map[string]string{"IDENT": "core/other/1/2"}))); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, filepath.Join(root, "pkgs"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := InstallHart(root, tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v: want one line containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tempPrefix) {
				t.Fatalf("error names a temporary directory: %v", err)
			}
			if got := listTree(t, filepath.Join(root, "pkgs")); !slices.Equal(got, before) {
				t.Fatalf("pkgs changed: %v -> %v", before, got)
			}
		})
	}

	// A root with no keys: the artifact's key is unknown, and not even
	// ROOT/pkgs is made.
	bare := t.TempDir()
	if _, err := InstallHart(bare, good); err == nil || !strings.Contains(err.Error(), "signed with key core-20261202110000, which is not in") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(bare, "pkgs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ROOT/pkgs made by a refused install: %v", err)
	}
}

func TestInstallHartRemovesDirectoriesItMadeOnRefusal(t *testing.T) {
	root := t.TempDir()
	core := newKey(t, root, "core")
	// Refused only once unpacked: it is no service.
	art := signTar(t, core, [][2]string{{"hab/pkgs/" + appIdent + "/IDENT", appIdent}})
	if _, err := InstallHart(root, art); err == nil {
		t.Fatal("accepted")
	}
	if _, err := os.Stat(filepath.Join(root, "pkgs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ROOT/pkgs left behind: %v", err)
	}
}

func TestSignRefuses(t *testing.T) {
	root := t.TempDir()
	newKey(t, root, "core")
	dest := filepath.Join(t.TempDir(), "x.hart")
	if _, err := Sign(root, newPkg(t, minimal()), dest, "evil"); err == nil || !strings.Contains(err.Error(), "not of origin evil") {
		t.Fatalf("origin mismatch: %v", err)
	}
	if _, err := Sign(t.TempDir(), newPkg(t, minimal()), dest, ""); err == nil || !strings.Contains(err.Error(), "no secret signing key for origin core") {
		t.Fatalf("no key: %v", err)
	}
	src := newPkg(t, minimal())
	os.Symlink("/etc/passwd", filepath.Join(src, "passwd"))
	if _, err := Sign(root, src, dest, ""); err == nil || !strings.Contains(err.Error(), "would not install") {
		t.Fatalf("escaping symlink: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dest)); len(ents) != 0 {
		t.Fatalf("refused sign left %v", ents)
	}
}

// The payload `hab pkg build` makes: GNU tar of the package's absolute
// path, then `xz --compress -6 --threads=0`; `tend pkg sign` signs it as it
// is, and what it signs installs.
func TestHartBuiltWithTarAndXzInstalls(t *testing.T) {
	for _, tool := range []string{"tar", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	root := t.TempDir()
	newKey(t, root, "core")
	build := t.TempDir()
	rel := filepath.Join("hab", "pkgs", "core", "app", "1.0.0", "20200101000000")
	writeTree(t, filepath.Join(build, rel), with(minimal(), map[string]string{"bin/app": "#!/bin/sh\n"}))
	os.MkdirAll(filepath.Join(build, rel, "lib"), 0o755)
	os.Symlink("../bin/app", filepath.Join(build, rel, "lib", "app"))
	tarf := filepath.Join(build, "app.tar")
	for _, args := range [][]string{{"tar", "-cf", tarf, "-C", build, rel}, {"xz", "--compress", "-6", "--threads=0", tarf}} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	art := filepath.Join(build, "app.hart")
	if s, err := Sign(root, tarf+".xz", art, "core"); err != nil || s.Ident.String() != appIdent {
		t.Fatalf("sign: %+v %v", s, err)
	}
	res, err := InstallHart(root, art)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listTree(t, res.Package.Path), listTree(t, filepath.Join(build, rel)); !slices.Equal(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}

	// And the other way: what tend packs, xz and tar read.
	ours := signDir(t, root, minimal())
	b, _ := os.ReadFile(ours)
	n := 0
	for range 5 {
		n += bytes.IndexByte(b[n:], '\n') + 1
	}
	cmd := exec.Command("sh", "-c", "xz -d | tar -tf -")
	cmd.Stdin = bytes.NewReader(b[n:])
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "hab/pkgs/core/app/1.0.0/20200101000000/\nhab/pkgs/core/app/1.0.0/20200101000000/IDENT\nhab/pkgs/core/app/1.0.0/20200101000000/hooks/\nhab/pkgs/core/app/1.0.0/20200101000000/hooks/run\n"
	if string(out) != want {
		t.Fatalf("tar lists\n%s\nwant\n%s", out, want)
	}
}
