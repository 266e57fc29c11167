package logfile

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/safefs"
)

// blockedOut is a log file whose writes hang until released.
func blockedOut() (*Rotator, *fakeFile) {
	f := &fakeFile{block: make(chan struct{}), entered: make(chan struct{})}
	d := &fakeDir{files: map[string]*fakeFile{"run.log": f}}
	return &Rotator{dir: d, name: "run.log"}, f
}

// A file write that hangs (a stalled disk) must not hold up the caller:
// the poller goroutine that calls WriteLine serves every service. Lines
// beyond the queue are dropped and counted where they went missing.
func TestWriterNeverBlocksOnTheFile(t *testing.T) {
	r, f := blockedOut()
	w := NewWriter(r, 100)
	w.WriteLine([]byte("first"))
	<-f.entered // the goroutine is inside the hung write
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			w.WriteLine(fmt.Appendf(nil, "line %03d", i))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(f.block)
		t.Fatal("WriteLine waited for a hung file write")
	}
	// 100 bytes of queue hold eleven 9-byte lines.
	w.mu.Lock()
	if w.dropped != 1000-11 {
		t.Errorf("%d lines counted as dropped; want %d", w.dropped, 1000-11)
	}
	w.mu.Unlock()
	w.WriteLine([]byte("still full"))
	close(f.block)
	w.Close()
	got := string(f.data)
	want := "first\n"
	for i := range 11 {
		want += fmt.Sprintf("line %03d\n", i)
	}
	want += "[tend: 990 lines dropped]\n"
	if got != want {
		t.Errorf("file holds\n%s\nwant\n%s", got, want)
	}
}

// The count is written where the lines went missing, before the next line
// that found room.
func TestWriterNotesDropsInPlace(t *testing.T) {
	r, f := blockedOut()
	w := NewWriter(r, 20)
	w.WriteLine([]byte("a"))
	<-f.entered
	for range 5 {
		w.WriteLine([]byte("0123456789"))
	}
	close(f.block) // the order holds whether or not the queue has drained
	w.WriteLine([]byte("b"))
	w.Close()
	want := "a\n0123456789\n[tend: 4 lines dropped]\nb\n"
	if got := string(f.data); got != want {
		t.Errorf("file holds %q; want %q", got, want)
	}
}

func TestWriterCloseWritesEverythingAndStopsTheGoroutine(t *testing.T) {
	dir := t.TempDir()
	r := NewRotator(Options{Dir: dir, Name: "run.log", Perm: 0o640, Owner: safefs.Self, Limits: Limits{MaxBytes: 1 << 10, Backups: 2}})
	w := NewWriter(r, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				w.WriteLine(fmt.Appendf(nil, "g%d %03d", g, i))
			}
		})
	}
	wg.Wait()
	w.Close()
	w.WriteLine([]byte("after close"))
	var all string
	for _, name := range []string{"run.log.2", "run.log.1", "run.log"} {
		all += read(t, dir+"/"+name)
	}
	if n := strings.Count(all, "\n"); n > 400 || strings.Contains(all, "after close") {
		t.Errorf("%d lines, after close written: %v", n, strings.Contains(all, "after close"))
	}
	// 4×100 lines of 7 bytes = 2800: all fit in three files of 1 KiB.
	if n := strings.Count(all, "\n"); n != 400 {
		t.Errorf("%d lines kept; want all 400", n)
	}
	// goleak (TestMain) checks that no drain goroutine is left.
}
