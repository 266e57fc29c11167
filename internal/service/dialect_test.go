package service

import (
	"testing"

	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/tmpl"
)

// TestTemplatesFollowThePackageDialect: a package's TEMPLATE_DIALECT
// decides how both its hooks and its config files render.
func TestTemplatesFollowThePackageDialect(t *testing.T) {
	src := "# bind 127.0.0.1 ::1\n{{~#if cfg.bind}}\nbind {{cfg.bind}}\n{{~/if}}\nport 1\n"
	data := map[string]any{"cfg": map[string]any{"bind": "10.0.0.1"}}
	for _, tc := range []struct {
		dialect tmpl.Dialect
		want    string
	}{
		{tmpl.Habitat1, "# bind 127.0.0.1 ::1\nbind 10.0.0.1\nport 1\n"},
		{tmpl.Handlebars, "# bind 127.0.0.1 ::1bind 10.0.0.1port 1\n"},
	} {
		p := &pkg.Package{
			Path:            "/pkgs/core/x",
			Hooks:           map[string]string{"run": src},
			ConfigTemplates: map[string]string{"x.conf": src},
			TemplateDialect: tc.dialect,
		}
		tpl, err := parseTemplates(p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tpl.render(data)
		if err != nil {
			t.Fatal(err)
		}
		if out.hooks["run"] != tc.want || out.configs["x.conf"] != tc.want {
			t.Errorf("%s: run %q, x.conf %q; want %q", tc.dialect, out.hooks["run"], out.configs["x.conf"], tc.want)
		}
	}
}
