package e2e

import (
	"testing"
)

// svc load takes a bare name for an installed package, as svc stop and
// svc start do.
func TestSvcLoadBareName(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := startSup(t, root)
	dir := pkgDir(t, map[string]string{
		"IDENT":     "test/barename/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	if r := runTend(t, root, "pkg", "install", dir); r.code != 0 {
		t.Fatalf("pkg install: %d %s", r.code, r.stderr)
	}
	if r := s.tend("svc", "load", "barename"); r.code != 0 {
		t.Fatalf("svc load barename: exit %d: %s", r.code, r.stderr)
	}
	if st := s.status()["barename.default"]; st.State != "up" || st.Ident != "test/barename/1.0.0/20260101000000" {
		t.Errorf("after svc load barename: %+v", st)
	}
	if r := s.tend("svc", "load", "nosuchpkg"); r.code != 1 || r.stderr == "" {
		t.Errorf("svc load of a name nothing has: exit %d %q", r.code, r.stderr)
	}
}
