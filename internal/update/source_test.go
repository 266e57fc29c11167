package update

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/ident"
)

const runHook = "#!/bin/sh\nexec sleep 1000\n"

func writePkg(t *testing.T, dir, id string) {
	t.Helper()
	for rel, body := range map[string]string{"IDENT": id + "\n", "hooks/run": runHook} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// entry is one tar entry: a directory (body "/"), a symlink (link set) or a file.
type entry struct{ name, body, link string }

func writeArchive(t *testing.T, p string, entries []entry) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case e.body == "/":
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	gz.Close()
	f.Close()
}

// The source offers package directories and archives (flat or under one
// directory); unusable entries are reported, not fatal, and dot entries
// (a copy in progress) are not looked at.
func TestScan(t *testing.T) {
	src := t.TempDir()
	writePkg(t, filepath.Join(src, "app-1"), "core/app/1.0.0/20260101000000")
	writePkg(t, filepath.Join(src, ".app-9"), "core/app/9.0.0/20260101000000")
	writeArchive(t, filepath.Join(src, "app-2.tar.gz"), []entry{
		{"app-2/", "/", ""}, {"app-2/IDENT", "core/app/2.0.0/20260101000000\n", ""}, {"app-2/hooks/run", runHook, ""},
	})
	writeArchive(t, filepath.Join(src, "app-3.tar.gz"), []entry{
		{"./IDENT", "core/app/3.0.0/20260101000000\n", ""}, {"./hooks/run", runHook, ""},
	})
	writeArchive(t, filepath.Join(src, "fuzzy.tar.gz"), []entry{{"IDENT", "core/app\n", ""}})
	writeArchive(t, filepath.Join(src, "escape.tar.gz"), []entry{{"../IDENT", "core/app/4.0.0/20260101000000\n", ""}})
	os.WriteFile(filepath.Join(src, "notes.txt"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(src, "empty"), 0o755)

	found, skipped, err := Scan(src)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range found {
		ids = append(ids, c.Ident.String())
	}
	slices.Sort(ids)
	want := []string{"core/app/1.0.0/20260101000000", "core/app/2.0.0/20260101000000", "core/app/3.0.0/20260101000000"}
	if !slices.Equal(ids, want) {
		t.Errorf("found %v, want %v", ids, want)
	}
	var why []string
	for _, e := range skipped {
		why = append(why, e.Error())
	}
	all := strings.Join(why, "\n")
	for _, w := range []string{"fuzzy.tar.gz: IDENT: core/app is not fully qualified", "escape.tar.gz: entry \"../IDENT\" leads out", "empty/IDENT"} {
		if !strings.Contains(all, w) {
			t.Errorf("skipped reasons lack %q:\n%s", w, all)
		}
	}
	if _, _, err := Scan(filepath.Join(src, "missing")); err == nil {
		t.Error("a missing source is no error")
	}
}

// An archive is unpacked and installed as the ident it announced; a
// symlink leading out of the package is refused and installs nothing.
func TestInstallArchive(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	good := filepath.Join(src, "app-2.tar.gz")
	writeArchive(t, good, []entry{
		{"app-2/IDENT", "core/app/2.0.0/20260101000000\n", ""}, {"app-2/hooks/run", runHook, ""},
		{"app-2/config/link", "", "../hooks/run"},
	})
	c := Candidate{Ident: ident.MustParse("core/app/2.0.0/20260101000000"), Path: good}
	p, err := Install(root, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "pkgs", "core", "app", "2.0.0", "20260101000000"); p.Path != want {
		t.Errorf("installed at %s, want %s", p.Path, want)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "cache", "update")); len(ents) != 0 {
		t.Errorf("unpack directories left behind: %v", ents)
	}

	bad := filepath.Join(src, "app-3.tar.gz")
	writeArchive(t, bad, []entry{
		{"app-3/IDENT", "core/app/3.0.0/20260101000000\n", ""}, {"app-3/hooks/run", runHook, ""},
		{"app-3/config/etc", "", "../../../etc/passwd"},
	})
	c = Candidate{Ident: ident.MustParse("core/app/3.0.0/20260101000000"), Path: bad}
	if _, err := Install(root, c); err == nil || !strings.Contains(err.Error(), "leads out of the package") {
		t.Fatalf("Install of an escaping symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "pkgs", "core", "app", "3.0.0")); err == nil {
		t.Error("the refused archive was installed")
	}
}
