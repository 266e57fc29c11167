package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every bad input gets one clear line, a non-zero exit, and changes nothing.
func TestBadInputIsRefusedWithOneLineAndNoChange(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	good := sleeper(t, "good", uniqueTag())
	s.mustTend("svc", "load", good)

	specsBefore := listDir(t, filepath.Join(root, "sup", "default", "specs"))
	pkgsBefore := listTree(t, filepath.Join(root, "pkgs"))

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing IDENT", []string{"svc", "load", pkgDir(t, map[string]string{"hooks/run": "#!/bin/sh\n"})}, 1, "IDENT"},
		{"bad EXPORTS line", []string{"svc", "load", pkgDir(t, map[string]string{
			"IDENT": "test/bad/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\n", "EXPORTS": "port=port\nnonsense\n"})}, 1, "EXPORTS:2"},
		{"malformed template", []string{"svc", "load", pkgDir(t, map[string]string{
			"IDENT": "test/badtpl/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\n{{#if cfg.x}}\necho\n"})}, 1, "hooks/run"},
		{"malformed default.toml", []string{"svc", "load", pkgDir(t, map[string]string{
			"IDENT": "test/badtoml/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\n", "default.toml": "a = 1\nb = = 2\n"})}, 1, "default.toml:2"},
		{"unknown template dialect", []string{"svc", "load", pkgDir(t, map[string]string{
			"IDENT": "test/baddialect/1.0.0/20260101000000", "hooks/run": "#!/bin/sh\n", "TEMPLATE_DIALECT": "handlebars4\n"})}, 1, "TEMPLATE_DIALECT:1: unknown template dialect"},
		{"unknown bind", []string{"svc", "load", sleeper(t, "binder", ""), "--bind", "db:postgres.default"}, 1, "unknown bind"},
		{"duplicate load", []string{"svc", "load", good}, 1, "already loaded"},
		{"unknown service", []string{"svc", "stop", "nosuch"}, 1, "not loaded"},
		{"unknown package", []string{"svc", "load", "test/nosuchpkg"}, 1, "not found"},
		{"bad group", []string{"svc", "load", sleeper(t, "grp", ""), "--group", "a.b"}, 1, "group"},
		{"bad topology", []string{"svc", "load", sleeper(t, "topo", ""), "--topology", "mesh"}, 1, "topology"},
		{"usage: no package", []string{"svc", "load"}, 2, "usage: tend svc load PKG"},
		{"usage: unknown flag", []string{"svc", "status", "--bogus"}, 2, "bogus"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.tend(tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			line := strings.TrimSpace(r.stderr)
			if strings.Contains(line, "\n") || !strings.Contains(line, tc.want) {
				t.Fatalf("stderr %q: want one line containing %q", r.stderr, tc.want)
			}
		})
	}
	if got := listDir(t, filepath.Join(root, "sup", "default", "specs")); strings.Join(got, ",") != strings.Join(specsBefore, ",") {
		t.Fatalf("specs changed: %v -> %v", specsBefore, got)
	}
	if got := listTree(t, filepath.Join(root, "pkgs")); strings.Join(got, ",") != strings.Join(pkgsBefore, ",") {
		t.Fatalf("packages changed: %v -> %v", pkgsBefore, got)
	}
	if st := s.status(); len(st) != 1 || st["good.default"].State != "up" {
		t.Fatalf("services changed: %+v", st)
	}
}

func TestWrongSecretAndUnreachable(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	r := runTend(t, root, "svc", "status", "--remote-sup", s.ctl)
	if r.code != 0 {
		t.Fatalf("right secret refused: %+v", r)
	}
	t.Setenv("TEND_CTL_SECRET", "not-the-secret")
	r = runTend(t, root, "svc", "load", sleeper(t, "intruder", ""), "--remote-sup", s.ctl)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stderr == "" {
		t.Fatalf("wrong secret: exit %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(s.specPath("intruder")); !os.IsNotExist(err) {
		t.Fatal("a request with a wrong secret changed state")
	}
	os.Unsetenv("TEND_CTL_SECRET")
	r = runTend(t, root, "svc", "status", "--remote-sup", "127.0.0.1:1")
	if r.code != 3 {
		t.Fatalf("unreachable supervisor: exit %d stderr %q; want 3", r.code, r.stderr)
	}
}

// A corrupt spec file on disk: that service is down with the reason; the
// others run.
func TestCorruptSpecOnDiskIsReportedAndOthersRun(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	s.mustTend("svc", "load", sleeper(t, "fine", uniqueTag()))
	s.mustTend("svc", "load", sleeper(t, "broken", uniqueTag()))
	s.term()
	os.WriteFile(s.specPath("broken"), []byte("ident = \"test/broken\"\ngroup = = \n"), 0o644)
	s.restart()
	st := s.status()
	if st["fine.default"].State != "up" {
		t.Fatalf("fine: %+v", st["fine.default"])
	}
	b := st["broken.default"]
	if b.State != "down" || !strings.Contains(b.Error, "broken.spec:2") {
		t.Fatalf("broken: %+v", b)
	}
}

func listDir(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func listTree(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		out = append(out, p)
		return nil
	})
	return out
}
