package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A journal left by a killed supervisor is read back (last pid per name
// wins, a torn last line is skipped), kept while the next one appends to
// it, and gone after Remove.
func TestPIDJournalSurvivesAKilledStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "STARTUP_PIDS")
	first, err := OpenPIDJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		name string
		pid  int
	}{{"redis", 100}, {"nginx", 200}, {"redis", 300}} {
		if err := first.Add(e.name, e.pid); err != nil {
			t.Fatal(err)
		}
	}
	// Killed mid-write: half a line at the end.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("web 4")
	f.Close()

	second, err := OpenPIDJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"redis": 300, "nginx": 200, "web": 0, "absent": 0} {
		if got := second.Previous(name); got != want {
			t.Errorf("Previous(%q) = %d, want %d", name, got, want)
		}
	}
	if err := second.Add("redis", 500); err != nil {
		t.Fatal(err)
	}
	third, err := OpenPIDJournal(path) // the second was killed too
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Previous("redis"); got != 500 {
		t.Errorf("after a second start-up: Previous(redis) = %d, want 500", got)
	}
	if got := third.Previous("nginx"); got != 200 {
		t.Errorf("after a second start-up: Previous(nginx) = %d, want 200 (kept)", got)
	}
	if err := third.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("journal after Remove: %v", err)
	}
	if err := third.Add("redis", 600); err == nil {
		t.Fatal("Add after Remove succeeded; the caller would skip the PID file")
	}
	first.Remove() // already gone: nothing to do, no error
}
