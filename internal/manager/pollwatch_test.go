package manager

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A supervisor that gets no inotify instance (fs.inotify.max_user_instances,
// 128 per user by default, all taken) starts all the same and polls;
// other errors still fail.
func TestNoInotifyInstanceFallsBackToPolling(t *testing.T) {
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	dir := filepath.Join(t.TempDir(), "user")
	w, err := inotifyOrPoll(log, dir, func(string) bool { return true }, func() (int, error) {
		return -1, fmt.Errorf("inotify: %w", unix.EMFILE)
	})
	if err != nil {
		t.Fatalf("no inotify instance: %v; want a polling watcher", err)
	}
	defer w.Close()
	if _, ok := w.(*pollWatcher); !ok {
		t.Fatalf("watcher %T, want the polling one", w)
	}
	if !strings.Contains(logBuf.String(), "max_user_instances") {
		t.Fatalf("the fallback was not logged: %s", logBuf.String())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("ROOT/user not made: %v", err)
	}
	if _, err := inotifyOrPoll(log, dir, nil, func() (int, error) { return -1, unix.EACCES }); !errors.Is(err, unix.EACCES) {
		t.Fatalf("another error: %v, want it returned", err)
	}
}

// The polling watcher sees a user.toml created, rewritten in place and
// replaced by a rename, for the services it watches only.
func TestPolledUserTOMLChangesAreSeen(t *testing.T) {
	root := t.TempDir()
	w := newPollWatcher(root, 5*time.Millisecond)
	changes := make(chan string, 64)
	w.Add("svc")
	w.Add("gone")
	w.Remove("gone")
	var wg sync.WaitGroup
	wg.Go(func() {
		w.Run(func(name string) {
			b, _ := os.ReadFile(filepath.Join(root, name, "config", "user.toml"))
			changes <- name + ": " + string(b)
		})
	})
	defer wg.Wait()
	defer w.Close()
	// seen waits for the change that shows body; one write may be seen
	// more than once (truncated, then written).
	seen := func(body string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case c := <-changes:
				if !strings.HasPrefix(c, "svc: ") {
					t.Fatalf("change %q: a service not watched", c)
				}
				if c == "svc: "+body {
					return
				}
			case <-deadline:
				t.Fatalf("user.toml %q not seen", body)
			}
		}
	}
	for _, name := range []string{"svc", "gone"} {
		if err := os.MkdirAll(filepath.Join(root, name, "config"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "config", "user.toml"), []byte("a = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seen("a = 1\n")
	f := filepath.Join(root, "svc", "config", "user.toml")
	if err := os.WriteFile(f, []byte("a = 22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seen("a = 22\n")
	if err := os.WriteFile(f+".new", []byte("a = 33\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f+".new", f); err != nil {
		t.Fatal(err)
	}
	seen("a = 33\n")
}
