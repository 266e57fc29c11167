package service

import (
	"maps"
	"testing"

	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/spec"
)

// newRunnerOf prepares (does not run) a runner on p with checked.
func newRunnerOf(t *testing.T, p *pkg.Package, checked *Checked) *Runner {
	t.Helper()
	r, err := New(Options{Spec: spec.New("test/svc"), Pkg: p, Checked: checked,
		Deps: Deps{Root: t.TempDir(), Getenv: func(string) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A load checks the package and then prepares its runner: the templates
// are parsed once, by Check, and the runner runs those.
func TestNewTakesTheTemplatesCheckParsed(t *testing.T) {
	p := testPkg(t, map[string]string{"init": "echo {{cfg.x}}\n"})
	p.ConfigTemplates = map[string]string{"app.conf": "x = {{cfg.x}}\n"}
	checked, err := Check(p, false)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunnerOf(t, p, checked)
	for name, tp := range checked.tpl.hooks {
		if r.st.tpl.hooks[name] != tp {
			t.Errorf("hook %s parsed again", name)
		}
	}
	if r.st.tpl.configs["app.conf"] != checked.tpl.configs["app.conf"] {
		t.Error("config/app.conf parsed again")
	}
}

// A load of a directory checks the given copy and runs the installed one
// (another Package, at another path): the runner parses the templates it
// runs, not the checked copy's.
func TestNewParsesAnotherPackagesTemplates(t *testing.T) {
	given := testPkg(t, map[string]string{"run": "exec given\n"})
	checked, err := Check(given, false)
	if err != nil {
		t.Fatal(err)
	}
	installed := *given
	installed.Path = t.TempDir()
	installed.Hooks = maps.Clone(given.Hooks)
	installed.Hooks["run"] = "exec installed\n"
	r := newRunnerOf(t, &installed, checked)
	out, err := r.st.tpl.render(nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.hooks["run"] != "exec installed\n" {
		t.Errorf("runs %q, want the installed copy's run hook", out.hooks["run"])
	}
}
