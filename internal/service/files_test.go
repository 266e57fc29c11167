package service

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/tend-sh/tend/internal/logfile"
)

func ownerMode(t *testing.T, path string) (uid uint32, mode uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Mode & 0o7777
}

// A service tree an older tend handed to the service user (config/,
// hooks/, logs/ chowned to it) is taken back at prepare: only data/ and
// var/ stay the user's.
func TestMakeTakesBackWhatAnOlderTendHandedOver(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	const user = 65534
	p := newSvcPaths(t.TempDir(), "redis")
	for _, d := range []string{p.root, p.logs, p.config, p.hooks, p.files, p.data} {
		os.MkdirAll(d, 0o777)
		if d != p.root {
			os.Chown(d, user, user)
		}
	}
	os.Chmod(p.data, 0o700) // the service's choice
	if err := p.make(user, user, true); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.root, p.logs, p.config, p.hooks, p.files} {
		if uid, mode := ownerMode(t, d); uid != 0 || mode != 0o755 {
			t.Errorf("%s: uid %d mode %o; want root's, 0755", d, uid, mode)
		}
	}
	if uid, mode := ownerMode(t, p.data); uid != user || mode != 0o700 {
		t.Errorf("data/: uid %d mode %o; want the user's, mode kept", uid, mode)
	}
	if uid, _ := ownerMode(t, p.vars); uid != user {
		t.Errorf("var/: uid %d; want the user's", uid)
	}
}

// Rendered files replace links planted at their names (or at the old
// temporary name) and never write through them.
func TestRenderWritesNeverFollowLinks(t *testing.T) {
	p := newSvcPaths(t.TempDir(), "redis")
	if err := p.make(-1, -1, true); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("secret\n"), 0o600)
	for _, l := range []string{"hooks/run", "hooks/run.tmp", "config/app.conf.tmp", "config/sub"} {
		os.Symlink(victim, filepath.Join(p.root, l))
	}
	r := &rendered{
		hooks:   map[string]string{"run": "#!/bin/sh\nexec sleep 1\n"},
		configs: map[string]string{"app.conf": "a=1\n", "nested/x.conf": "x\n"},
	}
	if err := r.write(nil, p.root, -1); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret\n" {
		t.Fatalf("victim overwritten: %q", b)
	}
	if _, mode := ownerMode(t, victim); mode != 0o600 {
		t.Fatalf("victim mode %o", mode)
	}
	if b, _ := os.ReadFile(p.hook("run")); !strings.HasPrefix(string(b), "#!/bin/sh") {
		t.Errorf("hooks/run = %q", b)
	}
	if _, mode := ownerMode(t, p.hook("run")); mode != 0o755 {
		t.Errorf("hooks/run mode %o", mode)
	}
	if _, mode := ownerMode(t, filepath.Join(p.config, "app.conf")); mode != 0o640 {
		t.Errorf("config/app.conf mode %o", mode)
	}
	// A link where a config directory goes is refused, not followed.
	r2 := &rendered{configs: map[string]string{"sub/y.conf": "y\n"}}
	if err := r2.write(nil, p.root, -1); err == nil {
		t.Error("a config file was written through a linked directory")
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret\n" {
		t.Fatalf("victim overwritten: %q", b)
	}
}

// The run hook's logs are made with logs/ on the first line, rotated by
// the service's limits, and closing them leaves no goroutine.
func TestLogPairRotatesAndCloses(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newSvcPaths(t.TempDir(), "redis")
	os.MkdirAll(p.root, 0o755)
	l := newLogPair(p.logs, "run", -1, logfile.Limits{MaxBytes: 100, Backups: 2})
	for range 100 {
		l.out.write([]byte("0123456789"))
	}
	l.err.write([]byte("oops"))
	l.close()
	var total int64
	ents, _ := os.ReadDir(p.logs)
	var names []string
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
		names = append(names, e.Name())
	}
	want := "run.stderr.log run.stdout.log run.stdout.log.1 run.stdout.log.2"
	if strings.Join(names, " ") != want {
		t.Errorf("logs/ holds %v; want %s", names, want)
	}
	if total > 3*100+5 {
		t.Errorf("logs/ holds %d bytes; want at most (backups+1)×max of stdout plus stderr", total)
	}
	if _, mode := ownerMode(t, filepath.Join(p.logs, "run.stdout.log")); mode != 0o640 {
		t.Errorf("run.stdout.log mode %o", mode)
	}
}
