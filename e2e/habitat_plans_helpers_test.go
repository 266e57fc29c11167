package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests in habitat_plans_test.go run real Habitat plans (the seven in
// ../shared/habitat-plans, from habitat-sh/core-plans) with Debian's
// daemons. A plan becomes a package the way hab-plan-build would make one:
// its config/, hooks/ and default.toml copied byte for byte, and the
// metadata files tend reads (IDENT, EXPORTS, BINDS, SVC_USER, DEPS,
// RUNTIME_ENVIRONMENT ...) written from plan.sh. What the build would have
// compiled is mapped to Debian's binaries: the package's own bin directory
// holds symlinks to them, and every Habitat dependency a hook names with
// pkgPathFor is laid down under the root's pkgs/ with a bin/ of symlinks.

const habitatPlansDir = "../../shared/habitat-plans" // beside the repository, as internal/httpgw finds habitat-reference

// planRelease is the release every package made from a plan gets.
const planRelease = "20260101000000"

// planVars is what plan.sh assigns: scalars, and arrays as their items
// (an associative array's items are "key=value").
type planVars struct {
	scalars map[string]string
	arrays  map[string][]string
}

// readPlanSh reads the pkg_* assignments at the top level of plan.sh: the
// forms the plans use (NAME=value, NAME=(items), NAME=(\n items \n)).
// Function bodies and other variables are ignored.
func readPlanSh(t *testing.T, file string) planVars {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := planVars{scalars: map[string]string{}, arrays: map[string][]string{}}
	sc := bufio.NewScanner(f)
	var open string // the array being read across lines
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if open != "" {
			if line == ")" {
				open = ""
				continue
			}
			v.arrays[open] = append(v.arrays[open], planItems(line)...)
			continue
		}
		if !strings.HasPrefix(line, "pkg_") {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if rest, ok := strings.CutPrefix(val, "("); ok {
			if body, closed := strings.CutSuffix(rest, ")"); closed {
				v.arrays[name] = planItems(body)
			} else {
				open = name
				v.arrays[name] = planItems(rest)
			}
			continue
		}
		v.scalars[name] = unquote(val)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// planItems splits one line of array items; comments are dropped, and
// [key]="value" becomes key=value.
func planItems(line string) []string {
	if i := strings.Index(line, "#"); i >= 0 {
		line = line[:i]
	}
	var out []string
	for _, f := range strings.Fields(line) {
		if k, val, ok := strings.Cut(f, "]="); ok && strings.HasPrefix(k, "[") {
			out = append(out, k[1:]+"="+unquote(val))
			continue
		}
		out = append(out, unquote(f))
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// habitatPlan describes how one plan is turned into a package.
type habitatPlan struct {
	name string
	// bins maps a program the hooks run from $PATH to Debian's binary; the
	// links go into the package's first pkg_bin_dirs entry.
	bins map[string]string
	// deps maps a dependency a hook names with pkgPathFor (core/bash) to
	// the programs its bin/ holds.
	deps map[string]map[string]string
	// user and group stand in for Habitat's default service user "hab",
	// which Debian does not have, when plan.sh does not name one.
	user, group string
}

// planPackage writes the package for p under a fresh directory and lays
// down the dependencies it names in root. It returns the package directory.
func planPackage(t *testing.T, root string, p habitatPlan) string {
	t.Helper()
	src := filepath.Join(habitatPlansDir, p.name)
	vars := readPlanSh(t, filepath.Join(src, "plan.sh"))
	id := fmt.Sprintf("%s/%s/%s/%s", vars.scalars["pkg_origin"], vars.scalars["pkg_name"], vars.scalars["pkg_version"], planRelease)
	if strings.Contains(id, "//") {
		t.Fatalf("%s/plan.sh: no origin, name or version", src)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // the service user reads the installed copy's files
	// Templates byte for byte, modes kept.
	for _, sub := range []string{"config", "hooks", "default.toml"} {
		if _, err := os.Stat(filepath.Join(src, sub)); err != nil {
			continue
		}
		if out, err := exec.Command("cp", "-R", "--preserve=mode", filepath.Join(src, sub), dir).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", sub, err, out)
		}
	}
	write := func(rel, content string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("IDENT", id+"\n", 0o644)
	lines := func(key string) string {
		var b strings.Builder
		for _, it := range vars.arrays[key] {
			b.WriteString(it + "\n")
		}
		return b.String()
	}
	for file, key := range map[string]string{"EXPORTS": "pkg_exports", "BINDS": "pkg_binds", "BINDS_OPTIONAL": "pkg_binds_optional"} {
		if len(vars.arrays[key]) > 0 {
			write(file, lines(key), 0o644)
		}
	}
	user, group := vars.scalars["pkg_svc_user"], vars.scalars["pkg_svc_group"]
	if user == "" {
		user = p.user
	}
	if group == "" {
		group = p.group
		if vars.scalars["pkg_svc_user"] != "" {
			group = user // hab-plan-build: the group defaults to the user's name
		}
	}
	if user != "" {
		write("SVC_USER", user+"\n", 0o644)
	}
	if group != "" {
		write("SVC_GROUP", group+"\n", 0o644)
	}

	// What the build compiles: the package's own bin directory, as links.
	binDirs := vars.arrays["pkg_bin_dirs"]
	var path []string
	installed := filepath.Join(root, "pkgs", strings.ReplaceAll(id, "/", string(filepath.Separator)))
	if len(p.bins) > 0 {
		if len(binDirs) == 0 {
			t.Fatalf("%s/plan.sh has no pkg_bin_dirs for %v", src, p.bins)
		}
		bin := strings.TrimPrefix(binDirs[0], "/")
		linkAll(t, filepath.Join(dir, bin), p.bins)
		path = append(path, filepath.Join(installed, bin))
	}

	// Dependencies named by pkgPathFor: installed packages of links.
	var deps []string
	depNames := make([]string, 0, len(p.deps))
	for d := range p.deps {
		depNames = append(depNames, d)
	}
	sort.Strings(depNames)
	for _, d := range depNames {
		depID := d + "/0.0.0/" + planRelease
		// Laid down as hab pkg install would: `tend pkg install` takes
		// only packages with a run hook, and these are libraries.
		ddir := filepath.Join(root, "pkgs", d, "0.0.0", planRelease)
		linkAll(t, filepath.Join(ddir, "bin"), p.deps[d])
		if err := os.WriteFile(filepath.Join(ddir, "IDENT"), []byte(depID+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		deps = append(deps, depID)
		path = append(path, filepath.Join(ddir, "bin"))
	}
	if len(deps) > 0 {
		write("DEPS", strings.Join(deps, "\n")+"\n", 0o644)
	}
	// The package's PATH, as hab-plan-build records it, then the base
	// system in place of core/busybox. Not /usr/local/bin: a clean machine
	// has nothing there, and the daemons must come from the links above.
	path = append(path, "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	write("RUNTIME_ENVIRONMENT", "PATH="+strings.Join(path, ":")+"\n", 0o644)

	// A plan without hooks/run has pkg_svc_run: hab-plan-build writes a
	// run file that starts it from the service directory.
	if _, err := os.Stat(filepath.Join(src, "hooks", "run")); err != nil {
		run := vars.scalars["pkg_svc_run"]
		if run == "" {
			t.Fatalf("%s: neither hooks/run nor pkg_svc_run", src)
		}
		write("run", "#!/bin/sh\nexport HOME={{pkg.svc_data_path}}\ncd {{pkg.svc_path}}\nexec "+run+" 2>&1\n", 0o755)
	}
	return dir
}

func linkAll(t *testing.T, dir string, links map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// debianTool finds one of Debian's daemons or clients by its absolute path
// (daemons live in /usr/sbin, which a non-root $PATH may lack). Missing, it
// skips the test, or fails it under TEND_REQUIRE_TOOLS=1 (make test).
func debianTool(t *testing.T, pkg string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if strings.ContainsRune(c, '*') {
			m, _ := filepath.Glob(c)
			if len(m) == 0 {
				continue
			}
			sort.Strings(m) // the newest version last, for single-digit majors and up
			c = m[len(m)-1]
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s not installed (TEND_REQUIRE_TOOLS=1): none of %v", pkg, candidates)
	}
	t.Skipf("%s not installed", pkg)
	return ""
}

// rootOnly skips a test on a supervisor that is not root: the plan runs its
// daemon as root, and Debian's daemon needs it (nginx writes /run/nginx.pid).
func rootOnly(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the plan's daemon runs as root")
	}
}

// servedRoot makes a supervisor root that a service user can reach.
func servedRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.Chmod(filepath.Dir(root), 0o755)
	os.Chmod(root, 0o755)
	return root
}

// freePort is a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(monFreePort(t))
	n, _ := strconv.Atoi(port)
	return n
}

// userTOML writes ROOT/user/SVC/config/user.toml before the service loads.
func userTOML(t *testing.T, root, svc, content string) {
	t.Helper()
	dir := filepath.Join(root, "user", svc, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "user.toml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// planClient never reuses a connection, so each request is balanced anew.
var planClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// httpBody GETs url: its status and body, or code 0 when the request failed.
func httpBody(url string) (int, string) {
	resp, err := planClient.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logsOnFailure shows a service's rendered files when the test fails.
func logsOnFailure(t *testing.T, root, svc string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		filepath.WalkDir(filepath.Join(root, "svc", svc), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if strings.Contains(rel, "/data/") {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && len(b) < 20000 {
				t.Logf("--- %s\n%s", rel, b)
			}
			return nil
		})
	})
}
