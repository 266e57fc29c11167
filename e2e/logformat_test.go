package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The supervisor's log and its services' output share one format, each
// line timed; a control operation is logged once with who asked; a crash
// says when the next start is; a restart says why.
func TestOneTimedLogFormatSaysWhoAndWhy(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := startSup(t, root)
	flag := filepath.Join(t.TempDir(), "crashed")
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":         "test/chatty/1.0.0/20260101000000",
		"default.toml":  "word = \"one\"\n",
		"config/w.conf": "{{cfg.word}}\n",
		// The first run crashes once; later ones run on.
		"hooks/run": "#!/bin/sh\necho hello from chatty\nif [ ! -e " + flag + " ]; then touch " + flag + "; exit 3; fi\nexec sleep 1000" + uniqueTag() + "\n",
	}))
	line := regexp.MustCompile(`(?m)^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z level=INFO msg="hello from chatty" service=chatty\.default stream=O$`)
	waitFor(t, 15*time.Second, "a timed output line", func() bool { return line.MatchString(s.out.String()) })
	for _, l := range strings.Split(strings.TrimSpace(s.out.String()+s.errOut.String()), "\n") {
		if !strings.HasPrefix(l, "time=") {
			t.Errorf("a line without the common timed format: %q", l)
		}
	}
	waitFor(t, 15*time.Second, "the crash's record", func() bool {
		return strings.Contains(s.errOut.String(), `exited with code 3; crashed; next start now`)
	})
	// The operation is logged once it has answered, which may be after
	// the crash's record.
	opLine := regexp.MustCompile(`msg="control operation done" op=svc/load remote=127\.0\.0\.1:\d+ pkg=/\S+ duration=`)
	waitFor(t, 15*time.Second, "the load's record", func() bool { return opLine.MatchString(s.errOut.String()) })
	ops := opLine.FindAllString(s.errOut.String(), -1)
	if len(ops) != 1 {
		t.Errorf("svc load logged %d times with who asked, want once:\n%s", len(ops), s.errOut.String())
	}

	// The crash's restart renders the config again: user.toml written
	// before that start would be in it, and no restart would follow.
	waitFor(t, 15*time.Second, "the start after the crash", func() bool {
		return strings.Count(s.errOut.String(), `msg="started (pid `) >= 2
	})
	user := filepath.Join(root, "user", "chatty", "config")
	if err := os.MkdirAll(user, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(user, "user.toml"), []byte("word = \"two\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the restart's reason", func() bool {
		return strings.Contains(s.errOut.String(), `msg="restarting: its config changed" service=chatty.default`)
	})
	s.mustTend("svc", "restart", "chatty")
	waitFor(t, 15*time.Second, "an asked-for restart's reason", func() bool {
		return strings.Contains(s.errOut.String(), `msg="restarting: asked for" service=chatty.default`)
	})
}
