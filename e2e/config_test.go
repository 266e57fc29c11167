package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeUserTOML(t *testing.T, root, svc, content string) {
	t.Helper()
	dir := filepath.Join(root, "user", svc, "config")
	os.MkdirAll(dir, 0o755)
	// Written the way editors do: a new file renamed over the old one.
	tmp := filepath.Join(dir, ".user.toml.new")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "user.toml")); err != nil {
		t.Fatal(err)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// Config only changed and no reconfigure hook: restart.
func TestUserTOMLEditRestartsWithoutReconfigureHook(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	dir := pkgDir(t, map[string]string{
		"IDENT":           "test/plain/1.0.0/20260101000000",
		"default.toml":    "greeting = \"hello\"\n",
		"config/app.conf": "greeting={{cfg.greeting}}\n",
		"hooks/run":       "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	s.mustTend("svc", "load", dir)
	conf := filepath.Join(root, "svc", "plain", "config", "app.conf")
	if got := readFile(conf); got != "greeting=hello\n" {
		t.Fatalf("rendered %q", got)
	}
	pid := s.status()["plain.default"].PID
	writeUserTOML(t, root, "plain", "greeting = \"bonjour\"\n")
	waitFor(t, 10*time.Second, "re-render", func() bool { return readFile(conf) == "greeting=bonjour\n" })
	waitFor(t, 10*time.Second, "restart", func() bool {
		st := s.status()["plain.default"]
		return st.State == "up" && st.PID != 0 && st.PID != pid
	})
}

// Config changed and there is a reconfigure hook: run it, no restart.
func TestUserTOMLEditRunsReconfigureHook(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	marker := filepath.Join(t.TempDir(), "reconfigured")
	dir := pkgDir(t, map[string]string{
		"IDENT":             "test/reconf/1.0.0/20260101000000",
		"default.toml":      "level = 1\n",
		"config/level":      "{{cfg.level}}\n",
		"hooks/run":         "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/reconfigure": "#!/bin/sh\ncat {{pkg.svc_config_path}}/level >> " + marker + "\n",
	})
	s.mustTend("svc", "load", dir)
	pid := s.status()["reconf.default"].PID
	writeUserTOML(t, root, "reconf", "level = 2\n")
	waitFor(t, 10*time.Second, "reconfigure hook", func() bool { return readFile(marker) == "2\n" })
	if st := s.status()["reconf.default"]; st.PID != pid {
		t.Fatalf("service restarted (pid %d -> %d); want reconfigure only", pid, st.PID)
	}
}

// The run hook itself depends on config: a change restarts even with a
// reconfigure hook.
func TestRunHookChangeRestarts(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	tag := uniqueTag()
	dir := pkgDir(t, map[string]string{
		"IDENT":             "test/hooky/1.0.0/20260101000000",
		"default.toml":      "secs = 1000\n",
		"hooks/run":         "#!/bin/sh\nexec sleep {{cfg.secs}}" + tag + "\n",
		"hooks/reconfigure": "#!/bin/sh\ntrue\n",
	})
	s.mustTend("svc", "load", dir)
	writeUserTOML(t, root, "hooky", "secs = 2000\n")
	waitFor(t, 10*time.Second, "restart with the new run hook", func() bool {
		return len(procsWith("sleep 2000"+tag)) == 1 && len(procsWith("sleep 1000"+tag)) == 0
	})
	st := s.status()["hooky.default"]
	if st.State != "up" {
		t.Fatalf("%+v", st)
	}
}

func TestEnvironmentLayerAndOutputPrefix(t *testing.T) {
	root := t.TempDir()
	t.Setenv("TEND_ECHOER", `word = "from-env"`)
	s := startSup(t, root)
	dir := pkgDir(t, map[string]string{
		"IDENT":        "test/echoer/1.0.0/20260101000000",
		"default.toml": "word = \"default\"\n",
		"hooks/run":    "#!/bin/sh\necho \"said {{cfg.word}}\"\necho oops >&2\nexec sleep 1000" + uniqueTag() + "\n",
	})
	s.mustTend("svc", "load", dir)
	waitFor(t, 10*time.Second, "prefixed output", func() bool {
		return strings.Contains(s.out.String(), `msg="said from-env" service=echoer.default stream=O`) &&
			strings.Contains(s.out.String(), "msg=oops service=echoer.default stream=E")
	})
	// The log file is written through a queue that never waits for the
	// disk, so the line may reach it after the supervisor's own output.
	logPath := filepath.Join(root, "svc", "echoer", "logs", "run.stdout.log")
	waitFor(t, 10*time.Second, "the line in run.stdout.log", func() bool {
		return strings.Contains(readFile(logPath), "said from-env")
	})
}
