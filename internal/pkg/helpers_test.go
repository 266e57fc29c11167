package pkg

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// minimal is the smallest valid package.
func minimal() map[string]string {
	return map[string]string{
		"IDENT":     "core/app/1.0.0/20200101000000\n",
		"hooks/run": "#!/bin/sh\nexec app\n",
	}
}

// with returns a copy of files with changes applied; an empty value removes
// the file (a key ending in "/" is a directory and always added).
func with(files map[string]string, changes map[string]string) map[string]string {
	out := maps.Clone(files)
	for k, v := range changes {
		if v == "" && !strings.HasSuffix(k, "/") {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// writeTree creates files under dir (slash-separated paths). A path ending
// in "/" is made a directory. Hooks and the plain run file are executable.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(0o644)
		if strings.HasPrefix(name, "hooks/") || name == "run" {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(files[name]), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// newPkg writes files into a new temporary directory and returns it.
func newPkg(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	return dir
}

// listTree lists everything under dir, slash-separated, directories with a
// trailing "/".
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
