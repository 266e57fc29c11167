package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A PID file exists while its process runs, as Habitat's do, and every
// start writes it over the same inode: a service's stop and start, and a
// supervisor's stop and its successor's start over the root, allocate no
// inode for it (on ext4 without a journal each allocation pays for every
// inode freed in the last 30 s; docs/BENCHMARKS.md, session 9).
func TestPIDFileKeepsItsInodeAcrossStopsAndRestarts(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tag := uniqueTag()
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte("services:\n  - pkg: "+sleeper(t, "keep", tag)+"\n"), 0o644)
	s := startSup(t, root, "--config", cfg)
	pidPath := filepath.Join(root, "svc", "keep", "PID")

	// running waits for one run process and a PID file naming it, and
	// returns the file's inode.
	running := func(what string) uint64 {
		t.Helper()
		var ino uint64
		waitUntil(t, 10*time.Second, what, func() (bool, string) {
			pids := procsWith("sleep 1000" + tag)
			b, _ := os.ReadFile(pidPath)
			first, second, _ := strings.Cut(string(b), "\n")
			var st syscall.Stat_t
			if len(pids) != 1 || first != strconv.Itoa(pids[0]) || syscall.Stat(pidPath, &st) != nil {
				return false, "run processes " + strconv.Itoa(len(pids)) + ", PID file " + strconv.Quote(string(b))
			}
			// The start time that names the process across a reuse of its
			// pid is /proc/PID/stat's, whether the fork read it from the
			// clock or the supervisor from /proc.
			if want := procStart(t, pids[0]); strings.TrimSuffix(second, "\n") != want {
				t.Fatalf("PID file %q: start time is not /proc/%d/stat's %s", b, pids[0], want)
			}
			ino = st.Ino
			return true, ""
		})
		return ino
	}
	first := running("first start")

	s.mustTend("svc", "stop", "keep")
	waitFor(t, 10*time.Second, "service stopped", func() bool { return len(procsWith("sleep 1000"+tag)) == 0 })
	if _, err := os.Lstat(pidPath); !os.IsNotExist(err) {
		t.Fatalf("PID file of a stopped service: %v", err)
	}
	s.mustTend("svc", "start", "keep")
	if ino := running("start after stop"); ino != first {
		t.Errorf("start after stop wrote the PID file on inode %d, not %d", ino, first)
	}

	s.term()
	if _, err := os.Lstat(pidPath); !os.IsNotExist(err) {
		t.Fatalf("PID file after the supervisor stopped: %v", err)
	}
	s.restart()
	if ino := running("start over the root"); ino != first {
		t.Errorf("supervisor restarted over the root wrote the PID file on inode %d, not %d", ino, first)
	}
}

// procStart is field 22 of /proc/PID/stat, the process's start time.
func procStart(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[22-3]
}
