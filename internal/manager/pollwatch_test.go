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
	var mu sync.Mutex
	var got []string
	w.Add("svc")
	w.Add("gone")
	w.Remove("gone")
	var wg sync.WaitGroup
	wg.Go(func() {
		w.Run(func(name string) {
			mu.Lock()
			got = append(got, name)
			mu.Unlock()
		})
	})
	defer wg.Wait()
	defer w.Close()
	seen := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			g := append([]string(nil), got...)
			mu.Unlock()
			if len(g) >= n {
				for _, name := range g {
					if name != "svc" {
						t.Fatalf("changes %q: a service not watched", g)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("changes %q, want %d", g, n)
			}
			time.Sleep(time.Millisecond)
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
	seen(1)
	f := filepath.Join(root, "svc", "config", "user.toml")
	if err := os.WriteFile(f, []byte("a = 22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seen(2)
	if err := os.WriteFile(f+".new", []byte("a = 33\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f+".new", f); err != nil {
		t.Fatal(err)
	}
	seen(3)
}
