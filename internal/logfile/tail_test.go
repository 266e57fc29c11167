package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Tail reads across the rotated files, skipping the newest lines.
func TestTailAcrossRotatedFiles(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 30, Backups: 3})
	for i := range 12 {
		fmt.Fprintf(r, "line %04d\n", i) // 10 bytes: three to a file
	}
	r.Close()
	// run.log holds 9-11, .1 6-8, .2 3-5, .3 0-2.
	got, err := Tail(dir, "run.log", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"line 0005", "line 0006", "line 0007", "line 0008", "line 0009"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tail(skip 2, 5) = %q; want %q", got, want)
	}
	if got, _ := Tail(dir, "run.log", 0, 100); len(got) != 12 || got[0] != "line 0000" {
		t.Errorf("all: %q", got)
	}
	if got, err := Tail(dir, "missing.log", 0, 10); err != nil || len(got) != 0 {
		t.Errorf("a missing file: %q, %v", got, err)
	}
}

// A file larger than a chunk, with lines that straddle chunks.
func TestTailReadsBackwardsInChunks(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	var all []string
	for i := range 20000 {
		l := fmt.Sprintf("%d %s", i, strings.Repeat("y", i%37))
		all = append(all, l)
		b.WriteString(l + "\n")
	}
	os.WriteFile(filepath.Join(dir, "big.log"), []byte(b.String()), 0o644)
	got, err := Tail(dir, "big.log", 100, 15000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, all[20000-100-15000:20000-100]) {
		t.Fatalf("got %d lines, first %q last %q", len(got), got[0], got[len(got)-1])
	}
}

func TestTailDoesNotFollowALink(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("do not show\n"), 0o600)
	os.Symlink(secret, filepath.Join(dir, "run.log"))
	if got, err := Tail(dir, "run.log", 0, 10); len(got) != 0 || err == nil {
		t.Errorf("through a link: %q, %v", got, err)
	}
}
