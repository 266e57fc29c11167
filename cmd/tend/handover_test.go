package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A binary another user could have written is never re-executed as.
func TestCheckOwnerRefusesWritableBinaries(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("x"), 0o755)
	if err := checkOwner(ok); err != nil {
		t.Fatalf("own binary: %v", err)
	}
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte("x"), 0o755)
	os.Chmod(loose, 0o777)
	if err := checkOwner(loose); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("mode 0777: %v", err)
	}
	if err := checkOwner(dir); err == nil {
		t.Fatal("a directory was accepted")
	}
	if err := checkOwner(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing: %v", err)
	}
}

// TEND_HANDOVER is honoured only for the supervisor's own hand-over file:
// HANDOVER in its state directory, a regular 0600 file of its user. A
// path elsewhere, a symbolic link, a loose mode or another owner is
// logged in one line and the supervisor starts afresh, with the named
// file neither read nor removed.
func TestTakeHandoffOnlyFromTheStateDirectory(t *testing.T) {
	valid, _ := json.Marshal(handoff{Version: handoverVersion, Gossip: "127.0.0.1:9638"})
	type result struct {
		h    *handoff
		err  error
		logs string
	}
	take := func(t *testing.T, stateDir, env string) result {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		h, err := takeHandoff(func(k string) string {
			if k == handoverEnv {
				return env
			}
			return ""
		}, stateDir, log)
		return result{h, err, buf.String()}
	}
	write := func(t *testing.T, path string, b []byte, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	// ignored checks a refusal: no state, no error, one log line naming why,
	// and the planted file (if any) still there.
	ignored := func(t *testing.T, r result, why string, kept ...string) {
		t.Helper()
		if r.h != nil || r.err != nil {
			t.Fatalf("accepted: %+v, %v", r.h, r.err)
		}
		if n := strings.Count(r.logs, "\n"); n != 1 || !strings.Contains(r.logs, "hand-over state ignored; starting afresh") || !strings.Contains(r.logs, why) {
			t.Fatalf("want one line saying %q, got %q", why, r.logs)
		}
		for _, p := range kept {
			if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, valid) {
				t.Fatalf("%s was removed or changed: %v", p, err)
			}
		}
	}

	t.Run("own file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		write(t, p, valid, 0o600)
		r := take(t, dir, p)
		if r.err != nil || r.h == nil || r.h.Gossip != "127.0.0.1:9638" || r.logs != "" {
			t.Fatalf("own hand-over file refused: %+v %v %q", r.h, r.err, r.logs)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("hand-over file not removed once read: %v", err)
		}
	})
	t.Run("written by a hand-over", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		write(t, p, []byte("stale"), 0o644) // a stale file's mode is not kept
		if err := writeOwnFile(p, valid); err != nil {
			t.Fatal(err)
		}
		if r := take(t, dir, p); r.err != nil || r.h == nil {
			t.Fatalf("refused what the hand-over wrote: %v %q", r.err, r.logs)
		}
	})
	t.Run("outside the state directory", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		p := filepath.Join(other, handoverFile)
		write(t, p, valid, 0o600)
		ignored(t, take(t, dir, p), "is not "+filepath.Join(dir, handoverFile), p)
		ignored(t, take(t, dir, filepath.Join(dir, "..", filepath.Base(other), handoverFile)), "is not", p)
	})
	t.Run("symbolic link", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		target := filepath.Join(other, "secret")
		write(t, target, valid, 0o600)
		p := filepath.Join(dir, handoverFile)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		ignored(t, take(t, dir, p), "symbolic link", target)
	})
	t.Run("mode 0644", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		write(t, p, valid, 0o644)
		ignored(t, take(t, dir, p), "not 0600")
	})
	t.Run("another owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file away")
		}
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		write(t, p, valid, 0o600)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		ignored(t, take(t, dir, p), "belongs to uid 65534")
	})
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		ignored(t, take(t, dir, p), "not a regular file")
	})
	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		ignored(t, take(t, dir, filepath.Join(dir, handoverFile)), "no such file")
	})
	t.Run("own file unreadable", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, handoverFile)
		write(t, p, []byte("{"), 0o600)
		if r := take(t, dir, p); r.err == nil {
			t.Fatal("a corrupt hand-over file of our own was taken for a plain start: its sockets would be left unused")
		}
	})
}
