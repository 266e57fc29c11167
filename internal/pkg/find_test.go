package pkg

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/ident"
)

// installAll installs a package for each ident under a new root.
func installAll(t *testing.T, idents ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, id := range idents {
		src := newPkg(t, with(minimal(), map[string]string{"IDENT": id + "\n", "hooks/run": "run " + id + "\n"}))
		if _, err := Install(root, src); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestFind(t *testing.T) {
	root := installAll(t,
		"core/redis/1.9.0/20180101000000",
		"core/redis/1.10.0/20170101000000", // newer version, older release
		"core/redis/1.10.0/20160101000000",
		"core/redis/1.10.0-rc1/20190101000000", // pre-release of the same version: older
		"core/redis/1.2/20200101000000",
		"core/redis/master/20210101000000", // not a number: oldest
		"other/redis/9.0/20200101000000",
		"core/redis-cli/9.0/20200101000000",
	)
	tests := []struct{ fuzzy, want string }{
		{"core/redis", "core/redis/1.10.0/20170101000000"},
		{"core/redis/1.10.0", "core/redis/1.10.0/20170101000000"},
		{"core/redis/1.9.0", "core/redis/1.9.0/20180101000000"},
		{"core/redis/1.10.0/20160101000000", "core/redis/1.10.0/20160101000000"},
		{"core/redis/master", "core/redis/master/20210101000000"},
		{"other/redis", "other/redis/9.0/20200101000000"},
	}
	for _, tt := range tests {
		p, err := Find(root, ident.MustParse(tt.fuzzy))
		if err != nil {
			t.Errorf("Find(%s): %v", tt.fuzzy, err)
			continue
		}
		if p.Ident.String() != tt.want {
			t.Errorf("Find(%s) = %s, want %s", tt.fuzzy, p.Ident, tt.want)
		}
		if p.Hooks["run"] != "run "+tt.want+"\n" || p.Path != InstallDir(root, p.Ident) {
			t.Errorf("Find(%s) read the wrong package: %+v", tt.fuzzy, p)
		}
	}
}

func TestFindNotFound(t *testing.T) {
	root := installAll(t, "core/redis/1.0/20180101000000")
	for _, fuzzy := range []string{"core/nope", "core/redis/2.0", "core/redis/1.0/20180101000001", "nope/redis", "core/redis/1"} {
		_, err := Find(root, ident.MustParse(fuzzy))
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%s): %v, want ErrNotFound", fuzzy, err)
			continue
		}
		want := fuzzy + ": package not found in " + filepath.Join(root, "pkgs")
		if err.Error() != want {
			t.Errorf("Find(%s):\n got %v\nwant %s", fuzzy, err, want)
		}
	}
	// An empty root, with no pkgs/ at all.
	if _, err := Find(t.TempDir(), ident.MustParse("core/redis")); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty root: %v", err)
	}
}

func TestFindSkipsWhatIsNotAnInstalledPackage(t *testing.T) {
	root := installAll(t, "core/redis/1.0/20180101000000")
	versionDir := filepath.Join(root, "pkgs", "core", "redis", "1.0")
	// Install's temporaries and stray files sort newer by name, but are no
	// packages; a release name no ident can have is skipped too.
	for _, dir := range []string{".tend-new-99999999999999-123", "2099 01"} {
		if err := os.MkdirAll(filepath.Join(versionDir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(versionDir, "99999999999999"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "pkgs", "core", "redis", "9.0"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Find(root, ident.MustParse("core/redis"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Ident.String() != "core/redis/1.0/20180101000000" {
		t.Errorf("Find = %s", p.Ident)
	}
	if _, err := Find(root, ident.MustParse("core/redis/9.0")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(core/redis/9.0), a file: %v", err)
	}
	// A whole ident is read straight away; a file in its place is still
	// no package.
	if _, err := Find(root, ident.MustParse("core/redis/1.0/99999999999999")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(core/redis/1.0/99999999999999), a file: %v", err)
	}
}

func TestFindRefusesABrokenNewestPackage(t *testing.T) {
	root := installAll(t, "core/redis/1.0/20180101000000")
	// A package whose IDENT disagrees with where it is installed.
	dir := filepath.Join(root, "pkgs", "core", "redis", "2.0", "20180101000000")
	writeTree(t, dir, minimal())
	_, err := Find(root, ident.MustParse("core/redis"))
	want := filepath.Join(dir, "IDENT") + ": ident core/app/1.0.0/20200101000000 does not match the directory it is installed in"
	if err == nil || err.Error() != want || !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestFindInvalidIdent(t *testing.T) {
	_, err := Find(t.TempDir(), ident.Ident{Origin: "core", Name: "../x"})
	if !errors.Is(err, ident.ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

func TestResolve(t *testing.T) {
	root := installAll(t, "core/app/0.9/20180101000000")
	src := newPkg(t, with(minimal(), map[string]string{"IDENT": "core/app/1.0/20190101000000\n"}))

	// A path installs.
	p, err := Resolve(root, src)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ident.String() != "core/app/1.0/20190101000000" || p.Path != InstallDir(root, p.Ident) {
		t.Errorf("Resolve(path) = %s at %s", p.Ident, p.Path)
	}

	// A relative path, too.
	t.Chdir(filepath.Dir(src))
	if p, err := Resolve(root, "./"+filepath.Base(src)); err != nil || p.Path != InstallDir(root, p.Ident) {
		t.Errorf("Resolve(relative path) = %v, %v", p, err)
	}

	// An ident finds the newest.
	for _, arg := range []string{"core/app", "core/app/0.9"} {
		p, err := Resolve(root, arg)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", arg, err)
		}
		want := map[string]string{"core/app": "core/app/1.0/20190101000000", "core/app/0.9": "core/app/0.9/20180101000000"}[arg]
		if p.Ident.String() != want {
			t.Errorf("Resolve(%s) = %s, want %s", arg, p.Ident, want)
		}
	}

	// A directory that happens to be named like an ident but holds no
	// IDENT is not a package: the ident is looked up.
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join("core", "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := Resolve(root, "core/app"); err != nil || p.Ident.String() != "core/app/1.0/20190101000000" {
		t.Errorf("Resolve(core/app) with a core/app directory = %v, %v", p, err)
	}
}

func TestResolveErrors(t *testing.T) {
	root := t.TempDir()
	// A directory without IDENT that is no ident either: say what is wrong
	// with the directory.
	dir := newPkg(t, map[string]string{"hooks/run": "x"})
	_, err := Resolve(root, dir)
	if !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), filepath.Join(dir, "IDENT")+": missing") {
		t.Errorf("Resolve(dir without IDENT) = %v", err)
	}
	// A malformed package directory changes nothing.
	bad := newPkg(t, with(minimal(), map[string]string{"EXPOSES": "http"}))
	if _, err := Resolve(root, bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("Resolve(bad) = %v", err)
	}
	if got := listTree(t, root); len(got) != 0 {
		t.Errorf("root holds %q", got)
	}
	// Not an ident, not a directory.
	if _, err := Resolve(root, "redis"); !errors.Is(err, ident.ErrInvalid) {
		t.Errorf("Resolve(redis) = %v", err)
	}
	if _, err := Resolve(root, "/no/such/dir"); !errors.Is(err, ident.ErrInvalid) {
		t.Errorf("Resolve(/no/such/dir) = %v", err)
	}
	// An ident that is not installed.
	if _, err := Resolve(root, "core/redis"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "core/redis") {
		t.Errorf("Resolve(core/redis) = %v", err)
	}
}

// A bare name is the one origin that has it installed; two origins are
// refused by name, none is not found.
func TestQualify(t *testing.T) {
	root := installAll(t, "core/redis/1.0/20200101000000", "other/redis/9.0/20200101000000", "core/web/1.0/20200101000000")
	if id, err := Qualify(root, "web"); err != nil || id.String() != "core/web" {
		t.Errorf("Qualify(web) = %v, %v; want core/web", id, err)
	}
	if _, err := Qualify(root, "redis"); err == nil || !strings.Contains(err.Error(), "core/redis, other/redis") {
		t.Errorf("Qualify(redis) with two origins: %v", err)
	}
	if _, err := Qualify(root, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Qualify(nope): %v; want ErrNotFound", err)
	}
	if _, err := Qualify(root, "../x"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Qualify(../x): %v; want an invalid name", err)
	}
}

// TestSubdirs checks the listing Find and sup run look packages up with:
// directories only (not a symlink to one), sorted, and none where there is
// no directory.
func TestSubdirs(t *testing.T) {
	dir := newPkg(t, map[string]string{"b/": "", "a/": "", "c/x": "x", "file": "x"})
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		dir:                           {"a", "b", "c"},
		filepath.Join(dir, "c"):       {},
		filepath.Join(dir, "file"):    nil,
		filepath.Join(dir, "missing"): nil,
		filepath.Join(dir, "link"):    {},
	} {
		got, err := subdirs(path)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("subdirs(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
}

// BenchmarkNewestInstalled looks up the newest release of a package, as
// sup run does for each start-up service before anything starts.
func BenchmarkNewestInstalled(b *testing.B) {
	root := b.TempDir()
	if _, err := Install(root, newPkg(b, minimal())); err != nil {
		b.Fatal(err)
	}
	fuzzy := ident.Ident{Origin: "core", Name: "app"}
	for b.Loop() {
		if _, found, err := newestInstalled(root, fuzzy); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}
