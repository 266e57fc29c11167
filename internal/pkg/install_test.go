package pkg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/ident"
)

func TestInstall(t *testing.T) {
	files := with(minimal(), map[string]string{
		"IDENT":               "core/app/1.2.3/20180608091922\n",
		"hooks/init":          "init\n",
		"default.toml":        "port = 1\n",
		"config/a/b/c.conf":   "deep\n",
		"bin/app":             "binary",
		"secret":              "s",
		"lib/":                "",
		"RUNTIME_ENVIRONMENT": "A=1\n",
	})
	src := newPkg(t, files)
	if err := os.Chmod(filepath.Join(src, "secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "bin", "app"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "lib"), 0o750|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../bin/app", filepath.Join(src, "lib", "app-link")); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, src)

	root := t.TempDir()
	got, err := Install(root, src)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(root, "pkgs", "core", "app", "1.2.3", "20180608091922")
	if got.Path != dest {
		t.Errorf("Path = %q, want %q", got.Path, dest)
	}
	reread, err := Read(dest)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(reread, got); diff != "" {
		t.Errorf("Install returned something other than the installed package (-read +returned):\n%s", diff)
	}
	fromSrc, _ := Read(src)
	fromSrc.Path = dest
	if diff := cmp.Diff(fromSrc, got); diff != "" {
		t.Errorf("installed package differs from its source (-src +installed):\n%s", diff)
	}
	if diff := cmp.Diff(before, listTree(t, dest)); diff != "" {
		t.Errorf("installed tree differs (-src +dest):\n%s", diff)
	}
	if diff := cmp.Diff(before, listTree(t, src)); diff != "" {
		t.Errorf("source changed:\n%s", diff)
	}
	for name, want := range map[string]fs.FileMode{
		"secret":    0o600,
		"bin/app":   0o751,
		"hooks/run": 0o755,
		"IDENT":     0o644,
		"lib":       fs.ModeDir | 0o750 | fs.ModeSetgid,
		"config/a":  fs.ModeDir | 0o755,
	} {
		fi, err := os.Lstat(filepath.Join(dest, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
	if link, err := os.Readlink(filepath.Join(dest, "lib", "app-link")); err != nil || link != "../bin/app" {
		t.Errorf("symlink: %q, %v", link, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "bin", "app")); err != nil || string(b) != "binary" {
		t.Errorf("bin/app: %q, %v", b, err)
	}
	assertNoTemps(t, filepath.Dir(dest))
}

// assertNoTemps checks that Install left nothing of its own beside the
// release directories in dir.
func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

func TestInstallReplaces(t *testing.T) {
	root := t.TempDir()
	old := newPkg(t, with(minimal(), map[string]string{"hooks/run": "old\n", "only-in-old": "x", "ro/file": "x"}))
	// A read-only directory in the installed copy must not stop its removal.
	if err := os.Chmod(filepath.Join(old, "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(old, "ro"), 0o755) })
	if _, err := Install(root, old); err != nil {
		t.Fatal(err)
	}
	p, err := Install(root, newPkg(t, with(minimal(), map[string]string{"hooks/run": "new\n"})))
	if err != nil {
		t.Fatal(err)
	}
	if p.Hooks["run"] != "new\n" {
		t.Errorf("run = %q", p.Hooks["run"])
	}
	if diff := cmp.Diff([]string{"IDENT", "hooks/", "hooks/run"}, listTree(t, p.Path)); diff != "" {
		t.Errorf("replaced tree (-want +got):\n%s", diff)
	}
	if entries, err := os.ReadDir(filepath.Dir(p.Path)); err != nil || len(entries) != 1 {
		t.Errorf("version dir holds %v (%v), want only the release", entries, err)
	}
}

func TestInstallFromItsOwnDirectoryIsANoOp(t *testing.T) {
	root := t.TempDir()
	p, err := Install(root, newPkg(t, minimal()))
	if err != nil {
		t.Fatal(err)
	}
	before := listTree(t, root)
	for _, dir := range []string{p.Path, p.Path + "/", filepath.Join(p.Path, "hooks", "..")} {
		again, err := Install(root, dir)
		if err != nil {
			t.Fatalf("Install(%q): %v", dir, err)
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Errorf("Install(%q) (-first +again):\n%s", dir, diff)
		}
	}
	// The same directory reached through a symlink.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(p.Path, link); err != nil {
		t.Fatal(err)
	}
	again, err := Install(root, link)
	if err != nil || again.Path != p.Path {
		t.Errorf("Install(%q) = %v, %v", link, again, err)
	}
	if diff := cmp.Diff(before, listTree(t, root)); diff != "" {
		t.Errorf("root changed (-before +after):\n%s", diff)
	}
}

func TestInstallThroughASymlink(t *testing.T) {
	src := newPkg(t, minimal())
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	p, err := Install(root, link)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(p.Path); err != nil || !fi.IsDir() {
		t.Errorf("installed %s is not a directory: %v %v", p.Path, fi, err)
	}
	if diff := cmp.Diff(listTree(t, src), listTree(t, p.Path)); diff != "" {
		t.Errorf("installed tree (-src +installed):\n%s", diff)
	}
}

func TestInstallRefusesToCopyIntoItself(t *testing.T) {
	src := newPkg(t, minimal())
	if err := os.Mkdir(filepath.Join(src, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{src, filepath.Join(src, "root"), filepath.Join(src, "not-yet")} {
		_, err := Install(root, src)
		if err == nil || !strings.Contains(err.Error(), "would be copied into itself") {
			t.Fatalf("Install(%s, %s): err = %v", root, src, err)
		}
	}
	if diff := cmp.Diff([]string{"IDENT", "hooks/", "hooks/run", "root/"}, listTree(t, src)); diff != "" {
		t.Errorf("source changed (-want +got):\n%s", diff)
	}
}

func TestInstallRefusesSpecialFiles(t *testing.T) {
	src := newPkg(t, minimal())
	if err := mkfifo(filepath.Join(src, "fifo")); err != nil {
		t.Skip(err)
	}
	root := t.TempDir()
	_, err := Install(root, src)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(src, "fifo")) {
		t.Fatalf("err = %v", err)
	}
	// The version directory may remain, but no package and no temporary.
	dir := filepath.Join(root, "pkgs", "core", "app", "1.0.0")
	if got := listTree(t, dir); len(got) != 0 {
		t.Errorf("left %q", got)
	}
}

// TestInstallConcurrent replaces one package over and over while readers
// read it: every read sees one whole copy (its run hook and config agree),
// or fails because the directory is briefly gone, never a mix or a
// half-copied package.
func TestInstallConcurrent(t *testing.T) {
	root := t.TempDir()
	const writers, rounds, readers = 2, 15, 2
	srcs := make([]string, writers*rounds)
	for i := range srcs {
		srcs[i] = newPkg(t, with(minimal(), map[string]string{
			"hooks/run":    fmt.Sprintf("gen %d\n", i),
			"config/gen":   fmt.Sprint(i),
			"config/a/gen": fmt.Sprint(i),
		}))
	}
	dest := InstallDir(root, ident.MustParse("core/app/1.0.0/20200101000000"))
	if _, err := Install(root, srcs[0]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var reads, misses atomic.Int64
	done := make(chan struct{})
	var wdone sync.WaitGroup
	for w := range writers {
		wdone.Add(1)
		go func() {
			defer wdone.Done()
			for r := range rounds {
				if _, err := Install(root, srcs[w*rounds+r]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wdone.Wait(); close(done) }()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				p, err := Read(dest)
				if err != nil {
					// The writers replace the package without end, so a
					// reader starved of CPU may meet a replace on every
					// attempt and give up (Read's bound): a clean error,
					// never a mixed copy.
					if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errReplaced) {
						t.Errorf("Read during replace: %v", err)
						return
					}
					misses.Add(1)
					continue
				}
				reads.Add(1)
				gen := strings.TrimSuffix(strings.TrimPrefix(p.Hooks["run"], "gen "), "\n")
				if p.ConfigTemplates["gen"] != gen || p.ConfigTemplates["a/gen"] != gen {
					t.Errorf("mixed copies: run %q, config %q", p.Hooks["run"], p.ConfigTemplates)
					return
				}
			}
		}()
	}
	wg.Wait()
	wdone.Wait()
	t.Logf("%d reads, %d found no package or gave up", reads.Load(), misses.Load())
	if reads.Load() == 0 {
		t.Fatal("no read found a whole package")
	}
	assertNoTemps(t, filepath.Dir(dest))
	if _, err := Read(dest); err != nil {
		t.Fatal(err)
	}
}
