package manager

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The inotify watcher of `sup run` reports a change to the user.toml of
// a watched service, also when its directories are made after it was
// loaded, and nothing of a service removed or not loaded. It runs on real
// time: it waits in the kernel, outside any synctest bubble.
func TestInotifyWatcherSeesUserToml(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "user")
	loaded := map[string]bool{"alpha": true, "beta": true}
	w, err := InotifyWatcher(slog.New(slog.NewTextHandler(io.Discard, nil)), dir, func(n string) bool { return loaded[n] })
	if err != nil {
		t.Fatal(err)
	}
	type change struct{ name, body string }
	changes := make(chan change, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// What the file holds when the change is reported: a report made
		// before the write cannot pass for the write's.
		w.Run(func(name string) {
			b, _ := os.ReadFile(filepath.Join(dir, name, "config", "user.toml"))
			changes <- change{name, string(b)}
		})
	}()
	defer func() {
		w.Close()
		w.Close()
		<-done
	}()
	write := func(name, body string) {
		t.Helper()
		cfg := filepath.Join(dir, name, "config")
		if err := os.MkdirAll(cfg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg, "user.toml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// expect waits for name's change to body; a change of a service in
	// unseen on the way fails. One write may be reported more than once
	// (the file is created, then closed).
	expect := func(name, body string, unseen ...string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case c := <-changes:
				if slices.Contains(unseen, c.name) {
					t.Fatalf("change of %s reported, waiting for %s's", c.name, name)
				}
				if c.name == name && c.body == body {
					return
				}
			case <-deadline:
				t.Fatalf("%s's user.toml %q not reported", name, body)
			}
		}
	}

	if err := os.MkdirAll(filepath.Join(dir, "alpha", "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.Add("alpha") // its directories are there
	write("alpha", "port = 1\n")
	expect("alpha", "port = 1\n")

	w.Add("beta") // loaded before its directories are made
	write("beta", "port = 1\n")
	expect("beta", "port = 1\n")
	write("beta", "port = 2\n")
	expect("beta", "port = 2\n")

	// Events come in order: beta's last change is reported after what
	// alpha (removed) and gamma (not loaded) did before it, were they
	// reported.
	w.Remove("alpha")
	write("alpha", "port = 2\n")
	write("gamma", "port = 1\n")
	write("beta", "port = 3\n")
	expect("beta", "port = 3\n", "alpha", "gamma")
}
