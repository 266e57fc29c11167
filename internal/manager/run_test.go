package manager

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A Run that fails in its own set-up returns its error, with every loop it
// started stopped, although the caller's context is never cancelled.
func TestRunSetupFailureReturnsAndStopsItsLoops(t *testing.T) {
	synctest.Test(t, runSetupFailure)
}

func runSetupFailure(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "sup", "default")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	// The specs directory is a file: loading the persisted specs fails.
	if err := os.WriteFile(filepath.Join(state, "specs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m := New(Config{
		Root: root, StateDir: state, Ring: newFakeRing(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cgroups: "off", NewWatcher: newFakeWatcher().make,
	})
	errc := make(chan error, 1)
	go func() { errc <- m.Run(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "specs") {
			t.Fatalf("Run = %v, want an error naming the specs directory", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its set-up failed")
	}
}
