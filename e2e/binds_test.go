package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A strict bind holds a service until the bound group is in the census
// with the exports it needs; then it starts and its templates see the bind.
func TestStrictBindWaitsForItsGroup(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	app := pkgDir(t, map[string]string{
		"IDENT":       "test/app/1.0.0/20260101000000",
		"BINDS":       "db=port\n",
		"config/conn": "{{#eachAlive bind.db.members as |m|}}{{m.sys.ip}}:{{m.cfg.port}}{{/eachAlive}}\n",
		"hooks/run":   "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	db := pkgDir(t, map[string]string{
		"IDENT":        "test/db/1.0.0/20260101000000",
		"default.toml": "port = 5432\n",
		"EXPORTS":      "port=port\n",
		"hooks/run":    "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	s.mustTend("svc", "load", app, "--bind", "db:db.default")
	st := s.status()["app.default"]
	if st.State != "down" || !strings.Contains(st.Error, "waiting for binds: db") {
		t.Fatalf("app started before its bind was satisfied: %+v", st)
	}
	s.mustTend("svc", "load", db)
	waitFor(t, 20*time.Second, "app to start once db is in the census", func() bool { return s.status()["app.default"].State == "up" })
	conn := filepath.Join(root, "svc", "app", "config", "conn")
	waitFor(t, 10*time.Second, "bind data rendered", func() bool { return strings.HasSuffix(strings.TrimSpace(readFile(conn)), ":5432") })
}
