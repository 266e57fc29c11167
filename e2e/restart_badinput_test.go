package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A restart over a root with a bad start-up file is refused as a first
// start is, although on a restart the file is checked while the state is
// read (sup run holds the state directory's lock by then): one line, no
// service started, and the root as it was, down to the LOCK file and the
// state files' contents and times. With another supervisor still running
// on the root, the bad file is what is reported, not the lock.
func TestRestartWithBadStartupFileChangesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tag := uniqueTag()
	if r := runTend(t, root, "pkg", "install", sleeper(t, "keep", tag)); r.code != 0 {
		t.Fatalf("pkg install: %+v", r)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("services:\n  - pkg: test/keep\n"), 0o644)
	os.WriteFile(bad, []byte("services:\n  - pkg: test/keep\n  - pkg: test/nosuchpkg\n"), 0o644)
	s := startSup(t, root, "--config", good)
	waitFor(t, 10*time.Second, "start-up spec saved", func() bool {
		_, err := os.Stat(s.specPath("keep"))
		return err == nil
	})
	oneLine(t, "bad file beside a running supervisor", supRunOnce(t, root, "--config", bad), "test/nosuchpkg", "not found")
	s.term()

	before := treeTimes(t, root)
	oneLine(t, "bad file on a restart", supRunOnce(t, root, "--config", bad), "test/nosuchpkg", "not found")
	if after := treeTimes(t, root); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a refused restart changed the root:\n%s\n---\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if pids := procsWith("sleep 1000" + tag); len(pids) != 0 {
		t.Errorf("a service of the refused restart runs: %v", pids)
	}
}

// treeTimes lists every path under dir with its size and modification
// time, and each regular file's content.
func treeTimes(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			out = append(out, p+": "+err.Error())
			return nil
		}
		line := fmt.Sprintf("%s %v %d %s", p, fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %q", b)
		}
		out = append(out, line)
		return nil
	})
	return out
}
