package hook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/logfile"
)

// A hook's log file where the service planted a link is replaced, not
// followed: the file the link names keeps its content and mode.
func TestLogNeverFollowsAPlantedLink(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "init", "echo fresh")
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("secret\n"), 0o600)
	os.Symlink(victim, filepath.Join(s.LogDir, "init.stdout.log"))
	if res := Run(context.Background(), r, s); !res.OK() {
		t.Fatalf("hook: %v", res)
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret\n" {
		t.Errorf("victim = %q", b)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o600 {
		t.Errorf("victim mode %v", fi.Mode())
	}
	if b, _ := os.ReadFile(filepath.Join(s.LogDir, "init.stdout.log")); string(b) != "fresh\n" {
		t.Errorf("init.stdout.log = %q", b)
	}
}

// Each run empties the log, and within a run it is rotated by size.
func TestLogHoldsTheLatestRunRotated(t *testing.T) {
	r := startReaper(t)
	s := hookSpec(t, "post-run", `i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done`)
	s.LogLimits = logfile.Limits{MaxBytes: 200, Backups: 1}
	for range 2 {
		if res := Run(context.Background(), r, s); !res.OK() {
			t.Fatalf("hook: %v", res)
		}
	}
	cur, _ := os.ReadFile(filepath.Join(s.LogDir, "post-run.stdout.log"))
	prev, _ := os.ReadFile(filepath.Join(s.LogDir, "post-run.stdout.log.1"))
	if !strings.HasSuffix(string(cur), "line 99\n") || len(cur) > 200 || len(prev) > 200 || len(prev) == 0 {
		t.Errorf("post-run.stdout.log %d bytes ending %q, .1 %d bytes", len(cur), cur[max(0, len(cur)-10):], len(prev))
	}
	if _, err := os.Stat(filepath.Join(s.LogDir, "post-run.stdout.log.2")); err == nil {
		t.Error("more backups than asked for")
	}
}
