package manager

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tend-sh/tend/internal/pkg"
)

// A spec file with keys tend keeps but does not act on (a misspelling,
// Habitat's config_from) still runs its service; the log names those
// keys, once, where the operator learns they do nothing; and svc stop,
// which rewrites the file, keeps them.
func TestPersistedSpecWithUnusedKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		fx := newFixture(t, func(c *Config) {
			logTo(&logs)(c)
			id := alphaAt("1.0.0", "20260101000000")
			writePkg(t, pkg.InstallDir(c.Root, id), id, nil)
			dir := filepath.Join(c.StateDir, "specs")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "alpha.spec"), []byte("ident = \"test/alpha\"\ndesired_state = \"up\"\nupdate_stratgy = \"at-once\"\nconfig_from = \"/src/alpha\"\n"), 0o644)
		})
		if s := fx.service("alpha"); s == nil || !s.Running {
			t.Fatalf("alpha: %+v", s)
		}
		if n := logs.count(`keys=update_stratgy`); n != 1 {
			t.Errorf("the unused key logged %d times, want once:\n%s", n, logs.String())
		}
		if n := logs.count(`config_from is kept but not used`); n != 1 {
			t.Errorf("config_from logged %d times, want once:\n%s", n, logs.String())
		}
		if err := fx.m.Stop(bg, "alpha", func(string) {}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(fx.m.specsDir, "alpha.spec"))
		for _, want := range []string{`desired_state = "down"`, `update_stratgy = "at-once"`, `config_from = "/src/alpha"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("spec after svc stop lacks %q:\n%s", want, b)
			}
		}
		if st, _ := fx.m.Status(bg, "alpha"); len(st) != 1 || st[0].DesiredState != "down" {
			t.Fatalf("status: %+v", st)
		}
	})
}
