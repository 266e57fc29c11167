package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tend-sh/tend/internal/safefs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTestRotator(t *testing.T, lim Limits) (*Rotator, string) {
	t.Helper()
	dir := t.TempDir()
	return NewRotator(Options{Dir: dir, Name: "run.log", Perm: 0o640, Owner: safefs.Self, Limits: lim}), dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files lists the directory's file names and sizes.
func files(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range ents {
		fi, _ := e.Info()
		out[e.Name()] = fi.Size()
	}
	return out
}

func TestRotatorKeepsBackupsNewestFirst(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 20, Backups: 3})
	// Ten 10-byte lines: two to a file, so five files' worth.
	for i := range 10 {
		if _, err := fmt.Fprintf(r, "line %04d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	got := files(t, dir)
	want := map[string]int64{"run.log": 20, "run.log.1": 20, "run.log.2": 20, "run.log.3": 20}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files %v; want %v", got, want)
	}
	// run.log.N is the oldest kept; lines 0-1 dropped out.
	for name, lines := range map[string]string{
		"run.log":   "line 0008\nline 0009\n",
		"run.log.1": "line 0006\nline 0007\n",
		"run.log.2": "line 0004\nline 0005\n",
		"run.log.3": "line 0002\nline 0003\n",
	} {
		if s := read(t, filepath.Join(dir, name)); s != lines {
			t.Errorf("%s = %q; want %q", name, s, lines)
		}
	}
}

func TestRotatorRotatesBetweenLines(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 25, Backups: 1})
	// One write of three lines: 10 + 10 fit, the third goes to a new file.
	if _, err := r.Write([]byte("aaaaaaaaa\nbbbbbbbbb\nccccccccc\n")); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if s := read(t, filepath.Join(dir, "run.log.1")); s != "aaaaaaaaa\nbbbbbbbbb\n" {
		t.Errorf("run.log.1 = %q", s)
	}
	if s := read(t, filepath.Join(dir, "run.log")); s != "ccccccccc\n" {
		t.Errorf("run.log = %q", s)
	}
}

func TestRotatorSplitsOnlyALineLongerThanAFile(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 8, Backups: 5})
	r.Write([]byte("ab\n"))
	r.Write([]byte(strings.Repeat("x", 20) + "\n"))
	r.Close()
	got := files(t, dir)
	for name, size := range got {
		if size > 8 {
			t.Errorf("%s holds %d bytes, over the max of 8", name, size)
		}
	}
	var all string
	for i := 5; i >= 1; i-- {
		if b, err := os.ReadFile(filepath.Join(dir, backup("run.log", i))); err == nil {
			all += string(b)
		}
	}
	all += read(t, filepath.Join(dir, "run.log"))
	if all != "ab\n"+strings.Repeat("x", 20)+"\n" {
		t.Errorf("the files hold %q, in order", all)
	}
}

func TestRotatorWithoutBackupsEmptiesTheFile(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 10, Backups: 0})
	r.Write([]byte("one-line\n"))
	r.Write([]byte("two-line\n"))
	r.Close()
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("files %v; want run.log alone", got)
	}
	if s := read(t, filepath.Join(dir, "run.log")); s != "two-line\n" {
		t.Errorf("run.log = %q", s)
	}
}

func TestRotatorZeroMaxNeverRotates(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 0, Backups: 5})
	for range 1000 {
		r.Write([]byte("0123456789\n"))
	}
	r.Close()
	if got := files(t, dir); len(got) != 1 || got["run.log"] != 11000 {
		t.Fatalf("files %v; want run.log of 11000 bytes", got)
	}
}

// A reopened log (the service restarted) appends and counts what is
// there already towards the max.
func TestRotatorReopenAppendsAndCountsTheSize(t *testing.T) {
	r, dir := newTestRotator(t, Limits{MaxBytes: 20, Backups: 2})
	r.Write([]byte("first-run\n"))
	r.Close()
	r = NewRotator(Options{Dir: dir, Name: "run.log", Perm: 0o640, Owner: safefs.Self, Limits: Limits{MaxBytes: 20, Backups: 2}})
	r.Write([]byte("second-r\n"))
	r.Write([]byte("third-ru\n"))
	r.Close()
	if s := read(t, filepath.Join(dir, "run.log.1")); s != "first-run\nsecond-r\n" {
		t.Errorf("run.log.1 = %q", s)
	}
	if s := read(t, filepath.Join(dir, "run.log")); s != "third-ru\n" {
		t.Errorf("run.log = %q", s)
	}
	// A file already over a lowered max is rotated before the next line.
	r = NewRotator(Options{Dir: dir, Name: "run.log", Perm: 0o640, Owner: safefs.Self, Limits: Limits{MaxBytes: 5, Backups: 2}})
	r.Write([]byte("abc\n"))
	r.Close()
	if s := read(t, filepath.Join(dir, "run.log.1")); s != "third-ru\n" {
		t.Errorf("after lowering the max, run.log.1 = %q", s)
	}
}

func TestRotatorTruncateEmptiesOnOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "init.log"), []byte("the last run\n"), 0o644)
	r := NewRotator(Options{Dir: dir, Name: "init.log", Perm: 0o644, Owner: safefs.Self, Truncate: true})
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if s := read(t, filepath.Join(dir, "init.log")); s != "" {
		t.Errorf("init.log = %q; want emptied", s)
	}
}

// fakeDir records the renames a rotation makes.
type fakeDir struct {
	ops   []string
	files map[string]*fakeFile
}

type fakeFile struct {
	data    []byte
	block   chan struct{} // Write waits for it when set
	entered chan struct{} // closed by the first Write, when set
}

func (f *fakeFile) Write(p []byte) (int, error) {
	if f.entered != nil {
		select {
		case <-f.entered:
		default:
			close(f.entered)
		}
	}
	if f.block != nil {
		<-f.block
	}
	f.data = append(f.data, p...)
	return len(p), nil
}
func (f *fakeFile) Truncate(int64) error { f.data = f.data[:0]; return nil }
func (f *fakeFile) Close() error         { return nil }

func (d *fakeDir) open(name string, truncate bool) (file, int64, error) {
	d.ops = append(d.ops, "open "+name)
	f := d.files[name]
	if f == nil {
		f = &fakeFile{}
		d.files[name] = f
	}
	return f, int64(len(f.data)), nil
}

func (d *fakeDir) rename(old, new string) error {
	d.ops = append(d.ops, "rename "+old+" "+new)
	f := d.files[old]
	if f == nil {
		return os.ErrNotExist
	}
	d.files[new] = f
	delete(d.files, old)
	return nil
}

func TestRotatorRenameOrder(t *testing.T) {
	d := &fakeDir{files: map[string]*fakeFile{}}
	r := &Rotator{dir: d, name: "x", lim: Limits{MaxBytes: 4, Backups: 3}}
	r.Write([]byte("aaa\n"))
	d.ops = nil
	r.Write([]byte("bbb\n"))
	want := []string{"rename x.2 x.3", "rename x.1 x.2", "rename x x.1", "open x"}
	if !slices.Equal(d.ops, want) {
		t.Fatalf("rotation did %q; want %q", d.ops, want)
	}
}
