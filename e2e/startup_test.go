package e2e

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartupFileLoadsServices(t *testing.T) {
	root := t.TempDir()
	tagA, tagB := uniqueTag()+"1", uniqueTag()+"2"
	a, b := sleeper(t, "one", tagA), sleeper(t, "two", tagB)
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte("services:\n  - pkg: "+a+"\n    group: prod\n  - pkg: "+b+"\n    health_check_interval: 5\n"), 0o644)
	s := startSup(t, root, "--config", cfg)
	st := s.status()
	if st["one.prod"].State != "up" || st["two.default"].State != "up" {
		t.Fatalf("start-up services: %+v", st)
	}
	if len(procsWith("sleep 1000"+tagA)) != 1 || len(procsWith("sleep 1000"+tagB)) != 1 {
		t.Fatal("start-up services not running exactly once")
	}
}

func TestHealthCheckHookResults(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	code := filepath.Join(t.TempDir(), "code")
	os.WriteFile(code, []byte("0"), 0o644)
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":              "test/checked/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\necho checking\nexit $(cat " + code + ")\n",
	}), "--health-check-interval", "1")
	for _, c := range []struct{ code, want string }{{"0", "OK"}, {"2", "CRITICAL"}, {"1", "WARNING"}, {"7", "UNKNOWN"}, {"0", "OK"}} {
		os.WriteFile(code, []byte(c.code), 0o644)
		waitFor(t, 10*time.Second, "health "+c.want, func() bool { return string(s.status()["checked.default"].Health) == c.want })
	}
	if got := readFile(filepath.Join(root, "svc", "checked", "logs", "health-check.stdout.log")); got != "checking\n" {
		t.Fatalf("health-check.stdout.log = %q", got)
	}
}

func TestServiceRunsAsPackageUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	root := t.TempDir()
	// The service user must be able to reach its own files.
	os.Chmod(filepath.Dir(root), 0o755)
	os.Chmod(root, 0o755)
	s := startSup(t, root)
	tag := uniqueTag()
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":     "test/unpriv/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + tag + "\n",
		"SVC_USER":  "nobody\n",
	}))
	pids := procsWith("sleep 1000" + tag)
	if len(pids) != 1 {
		t.Fatalf("pids %v", pids)
	}
	status := readFile("/proc/" + strconv.Itoa(pids[0]) + "/status")
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "Uid:") && strings.Fields(l)[1] != u.Uid {
			t.Fatalf("runs as %s; want nobody (%s)", l, u.Uid)
		}
	}
}

// Start-up services are saved once they have all tried to start; a control
// operation made before that is kept, not overwritten by the save.
func TestStartupSaveKeepsEarlierStop(t *testing.T) {
	root := t.TempDir()
	gate := filepath.Join(t.TempDir(), "open")
	slow := pkgDir(t, map[string]string{
		"IDENT":      "test/slowinit/1.0.0/20260101000000",
		"hooks/init": "#!/bin/sh\nwhile [ ! -e " + gate + " ]; do sleep 0.05; done\n",
		"hooks/run":  "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	tag := uniqueTag()
	fast := sleeper(t, "fast", tag)
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte("services:\n  - pkg: "+slow+"\n  - pkg: "+fast+"\n"), 0o644)
	s := &sup{t: t, root: root, args: []string{"--config", cfg}}
	s.start()
	t.Cleanup(s.cleanup)
	waitFor(t, 10*time.Second, "fast running", func() bool { return len(procsWith("sleep 1000"+tag)) == 1 })
	s.mustTend("svc", "stop", "fast")
	os.WriteFile(gate, nil, 0o644)
	s.waitReady()
	waitFor(t, 10*time.Second, "start-up specs saved", func() bool {
		_, err := os.Stat(s.specPath("slowinit"))
		return err == nil
	})
	if got := readFile(s.specPath("fast")); !strings.Contains(got, "desired_state = \"down\"") {
		t.Fatalf("fast.spec after the start-up save:\n%s", got)
	}
	if len(procsWith("sleep 1000"+tag)) != 0 {
		t.Fatal("stopped start-up service runs again")
	}
}

// A service that runs nothing from hooks/ or config/ starts before they
// are written; once the supervisor is ready they are there, rendered.
func TestStartupWritesHooksOnceSettled(t *testing.T) {
	root := t.TempDir()
	tag := uniqueTag()
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte("services:\n  - pkg: "+sleeper(t, "plain", tag)+"\n"), 0o644)
	startSup(t, root, "--config", cfg)
	svc := filepath.Join(root, "svc", "plain")
	waitFor(t, 10*time.Second, "hooks/run written", func() bool {
		return strings.Contains(readFile(filepath.Join(svc, "hooks", "run")), "exec sleep 1000"+tag)
	})
	for _, d := range []string{"config", "data", "hooks", "var"} {
		if fi, err := os.Stat(filepath.Join(svc, d)); err != nil || !fi.IsDir() {
			t.Fatalf("svc/plain/%s: %v", d, err)
		}
	}
	if pid, _, _ := strings.Cut(readFile(filepath.Join(svc, "PID")), "\n"); pid != strconv.Itoa(procsWith("sleep 1000" + tag)[0]) {
		t.Fatalf("PID file %q", pid)
	}
}
