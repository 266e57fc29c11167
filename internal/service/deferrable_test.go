package service

import (
	"testing"

	"github.com/tend-sh/tend/internal/pkg"
)

func TestDeferrable(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin"}
	for _, c := range []struct {
		name  string
		hooks map[string]string
		cfg   map[string]string
		want  bool
	}{
		{"exec only", map[string]string{"run": "#!/bin/sh\nexec sleep 100\n"}, nil, true},
		{"shell script", map[string]string{"run": "#!/bin/sh\necho hi\nexec sleep 100\n"}, nil, false},
		{"other hook", map[string]string{"run": "#!/bin/sh\nexec sleep 100\n", "health-check": "#!/bin/sh\nexit 0\n"}, nil, false},
		{"names data/", map[string]string{"run": "#!/bin/sh\nexec sleep 100 --dir=data\n"}, nil, false},
		{"names var/", map[string]string{"run": "#!/bin/sh\nexec sleep 100 /srv/svc/x/var/run.sock\n"}, nil, false},
		{"config template", map[string]string{"run": "#!/bin/sh\nexec sleep 100\n"}, map[string]string{"a.conf": "x"}, false},
	} {
		p := &pkg.Package{Path: t.TempDir(), Hooks: c.hooks, ConfigTemplates: c.cfg}
		tpl, err := parseTemplates(p)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := tpl.render(map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if got := deferrable(tpl, cur, env, nil); got != c.want {
			t.Errorf("%s: deferrable = %v, want %v", c.name, got, c.want)
		}
	}
}
