package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A supervisor restarted over its root, with a start-up file that names
// installed packages by ident, runs each service once and leaves the spec
// files the last one saved as they were; a start-up entry that can no
// longer be loaded (here a bind its package does not declare) leaves the
// service to run from its spec file, as if the file did not name it.
func TestRestartOverRootRunsStartupServicesOnce(t *testing.T) {
	root := t.TempDir()
	tagA, tagB := uniqueTag(), uniqueTag()+"7"
	for name, tag := range map[string]string{"alpha": tagA, "beta": tagB} {
		if r := runTend(t, root, "pkg", "install", sleeper(t, name, tag)); r.code != 0 {
			t.Fatalf("pkg install %s: %s", name, r.stderr)
		}
	}
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte("services:\n  - pkg: test/alpha\n  - pkg: test/beta\n"), 0o644)
	s := startSup(t, root, "--config", cfg)
	waitFor(t, 10*time.Second, "start-up specs saved", func() bool {
		_, errA := os.Stat(s.specPath("alpha"))
		_, errB := os.Stat(s.specPath("beta"))
		return errA == nil && errB == nil
	})
	s.term()
	before, _ := os.ReadFile(s.specPath("alpha"))
	stat0, _ := os.Stat(s.specPath("alpha"))

	os.WriteFile(cfg, []byte("services:\n  - pkg: test/alpha\n  - pkg: test/beta\n    binds: [nope:x.default]\n"), 0o644)
	s.restart()
	waitFor(t, 10*time.Second, "both running", func() bool {
		return len(procsWith("sleep 1000"+tagA)) == 1 && len(procsWith("sleep 1000"+tagB)) == 1
	})
	st := s.status()
	if len(st) != 2 {
		t.Fatalf("services after the restart: %v", st)
	}
	after, _ := os.ReadFile(s.specPath("alpha"))
	stat1, _ := os.Stat(s.specPath("alpha"))
	if !bytes.Equal(before, after) || !stat0.ModTime().Equal(stat1.ModTime()) {
		t.Fatalf("alpha.spec rewritten by an unchanged start-up entry:\n%s\n---\n%s", before, after)
	}
	if n := len(procsWith("sleep 1000" + tagA)); n != 1 {
		t.Fatalf("alpha runs %d times", n)
	}
}
