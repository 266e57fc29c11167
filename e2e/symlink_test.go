package e2e

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A service user who plants symbolic links in its service's directories,
// at every name tend writes (log files, the temporary names of rendered
// files, rendered files, hooks, gossiped files, the PID file), must not get
// the root supervisor to change the owner, mode or content of a file
// outside the tree, whatever tend does next: restart, re-render, hook runs,
// file upload. Some links are also left in place as an older tend would
// have allowed (config/, hooks/ and logs/ handed to the service user).
func TestServiceUserCannotRedirectSupervisorWrites(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	root := t.TempDir()
	// The service user must be able to reach its own files.
	os.Chmod(filepath.Dir(root), 0o755)
	os.Chmod(root, 0o755)
	outside := t.TempDir() // root's, 0700: targets the service cannot read

	// Links the run hook plants (as nobody) at every start, each to a
	// target of its own, by the name tend writes.
	planted := map[string]string{
		"run-out":       "logs/run.stdout.log",
		"run-err":       "logs/run.stderr.log",
		"init-log":      "logs/init.stdout.log",
		"health-log":    "logs/health-check.stdout.log",
		"post-stop-log": "logs/post-stop.stdout.log",
		"config-tmp":    "config/app.conf.tmp",
		"config":        "config/app.conf",
		"hook-tmp":      "hooks/run.tmp",
		"hook":          "hooks/post-stop",
		"file-tmp":      "files/shared.txt.tmp",
		"file":          "files/shared.txt",
		"pid":           "PID",
	}
	// Links already there from an older tend, which handed config/,
	// hooks/ and logs/ to the service user.
	old := map[string]string{
		"old-run-err":   "logs/run.stderr.log",
		"old-init-err":  "logs/init.stderr.log",
		"old-config":    "config/app.conf.tmp",
		"old-hook-tmp":  "hooks/init.tmp",
		"old-post-stop": "logs/post-stop.stderr.log",
	}
	targets := map[string]string{} // kind -> content
	for _, m := range []map[string]string{planted, old} {
		for kind := range m {
			content := "secret " + kind + "\n"
			if err := os.WriteFile(filepath.Join(outside, kind), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			targets[kind] = content
		}
	}
	svc := filepath.Join(root, "svc", "sym")
	for _, d := range []string{"logs", "config", "hooks"} {
		p := filepath.Join(svc, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, uid, gid)
	}
	for kind, link := range old {
		p := filepath.Join(svc, link)
		if err := os.Symlink(filepath.Join(outside, kind), p); err != nil {
			t.Fatal(err)
		}
		os.Lchown(p, uid, gid)
	}

	var plant strings.Builder
	for kind, link := range planted {
		// Each link that could be planted is recorded: none can, the
		// directories tend writes in being root's.
		fmt.Fprintf(&plant, "rm -f %s 2>/dev/null; ln -s %s %s 2>/dev/null && echo %s >> data/planted-links\n", link, filepath.Join(outside, kind), link, kind)
	}
	s := startSup(t, root)
	tag := uniqueTag()
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":              "test/sym/1.0.0/20260101000000",
		"SVC_USER":           "nobody\n",
		"default.toml":       "v = \"one\"\n",
		"config/app.conf":    "v={{cfg.v}}\n",
		"hooks/init":         "#!/bin/sh\necho init out\necho init err >&2\n",
		"hooks/post-stop":    "#!/bin/sh\necho stopped\necho stopped err >&2\n",
		"hooks/health-check": "#!/bin/sh\necho healthy\necho x >> data/health-runs\n",
		"hooks/run": "#!/bin/sh\n# {{cfg.v}}\n" + plant.String() +
			"cat config/app.conf > data/seen-config\n" +
			"echo $$ > data/planted\necho out\necho err >&2\nexec sleep 1000" + tag + "\n",
	}), "--health-check-interval", "1")

	data := filepath.Join(svc, "data")
	pidFile := filepath.Join(data, "planted")
	running := func() string {
		pids := procsWith("sleep 1000" + tag)
		if len(pids) != 1 {
			return ""
		}
		return strconv.Itoa(pids[0])
	}
	// waitPlanted waits until a run process other than the one before
	// has planted its links (it records its pid last, and execs into the
	// sleep), and returns its pid.
	waitPlanted := func(what, before string) string {
		t.Helper()
		var pid string
		waitFor(t, 20*time.Second, what, func() bool {
			pid = running()
			return pid != "" && pid != before && strings.TrimSpace(readFile(pidFile)) == pid
		})
		return pid
	}
	healthRuns := func() int { return strings.Count(readFile(filepath.Join(data, "health-runs")), "x") }

	pid := waitPlanted("links planted", "")
	if got := readFile(filepath.Join(data, "seen-config")); got != "v=one\n" {
		t.Errorf("the service read config/app.conf as %q; want v=one", got)
	}
	// Hook runs: health checks, then a stop (post-stop) and a start
	// (init, and the run hook's log files opened anew).
	n := healthRuns()
	waitFor(t, 20*time.Second, "two more health checks", func() bool { return healthRuns() >= n+2 })
	s.mustTend("svc", "stop", "sym")
	s.mustTend("svc", "start", "sym")
	pid = waitPlanted("links planted after the restart", pid)
	// A re-render: config and the run hook change, the service restarts.
	writeUserTOML(t, root, "sym", "v = \"two\"\n")
	conf := filepath.Join(svc, "config", "app.conf")
	waitFor(t, 20*time.Second, "re-render", func() bool { return readFile(conf) == "v=two\n" })
	waitPlanted("links planted after the re-render", pid)
	// Gossiped files.
	for v, body := range []string{"first\n", "second\n"} {
		f := filepath.Join(t.TempDir(), "shared.txt")
		os.WriteFile(f, []byte(body), 0o644)
		s.mustTend("file", "upload", "sym.default", strconv.Itoa(v+1), f, "--remote-sup", s.ctl)
		waitFor(t, 20*time.Second, "file "+strings.TrimSpace(body), func() bool {
			return readFile(filepath.Join(svc, "files", "shared.txt")) == body
		})
	}
	n = healthRuns()
	waitFor(t, 20*time.Second, "two more health checks", func() bool { return healthRuns() >= n+2 })

	for kind, want := range targets {
		p := filepath.Join(outside, kind)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if st.Uid != 0 || st.Gid != 0 || st.Mode&0o7777 != 0o600 {
			t.Errorf("%s: a link planted by the service changed %s to uid %d gid %d mode %o", kind, p, st.Uid, st.Gid, st.Mode&0o7777)
		}
		if got := readFile(p); got != want {
			t.Errorf("%s: a link planted by the service changed the content of %s to %.60q", kind, p, got)
		}
	}
	if got := readFile(filepath.Join(data, "planted-links")); got != "" {
		t.Errorf("the service user planted links where tend writes: %q", got)
	}
	// The directories tend writes in are root's and closed to the
	// service user; data/ and var/ are the service user's.
	for _, d := range []string{"", "logs", "config", "hooks", "files"} {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(svc, d), &st); err != nil {
			t.Errorf("svc/sym/%s: %v", d, err)
			continue
		}
		if st.Uid != 0 || st.Mode&0o022 != 0 {
			t.Errorf("svc/sym/%s: uid %d mode %o; want root's, writable by root only", d, st.Uid, st.Mode&0o7777)
		}
	}
	for _, d := range []string{"data", "var"} {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(svc, d), &st); err != nil || st.Uid != uint32(uid) {
			t.Errorf("svc/sym/%s: not the service user's (uid %d, err %v)", d, st.Uid, err)
		}
	}
	// And tend still wrote its own files.
	if got := readFile(filepath.Join(svc, "logs", "init.stdout.log")); got != "init out\n" {
		t.Errorf("logs/init.stdout.log = %q", got)
	}
	if got := readFile(filepath.Join(svc, "logs", "run.stdout.log")); !strings.Contains(got, "out\n") {
		t.Errorf("logs/run.stdout.log = %q", got)
	}
}
