package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// counterPkg is a service that writes "line N" to stdout every 10 ms,
// N counting from 0, and N to a file after each line, so a test can tell
// how far it has got without the supervisor.
func counterPkg(t *testing.T, name, counter string) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/" + name + "/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\ni=0\nwhile :; do echo line $i; echo $i > " + counter + "; i=$((i+1)); sleep 0.01; done\n",
	})
}

// readCounter is the last line number a counterPkg service wrote, -1 if
// none (or the file is being rewritten).
func readCounter(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// numbered returns the N of every "line N" in a log, in order.
func numbered(log string) []int {
	var out []int
	for l := range strings.SplitSeq(log, "\n") {
		if rest, ok := strings.CutPrefix(l, "line "); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// After a SIGKILL of the supervisor, the next one adopts a service still
// running: same pid, not restarted, and the lines it wrote while no
// supervisor ran (held in its output FIFO) reach its log after the
// adoption, in order, none missing, none twice. With cgroups and with the
// /proc fallback alike.
func TestSIGKILLedSupervisorAdoptsServicesAndTheirOutput(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"auto", "off"} {
		t.Run("cgroups="+mode, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			t.Cleanup(func() { removeCgroups(root) })
			counter := filepath.Join(t.TempDir(), "counter")
			s := startSup(t, root, "--cgroups", mode)
			s.mustTend("svc", "load", counterPkg(t, "counter", counter))
			waitFor(t, 15*time.Second, "output flowing", func() bool { return readCounter(counter) >= 10 })
			pid := s.status()["counter.default"].PID
			pidFile := filepath.Join(root, "svc", "counter", "PID")
			before, err := os.Stat(pidFile)
			if err != nil {
				t.Fatal(err)
			}

			s.kill()
			// Lines up to killedAt+1 may have been read by the killed
			// supervisor and not yet written to the log: lost with it.
			killedAt := readCounter(counter)
			waitFor(t, 15*time.Second, "50 lines written with no supervisor", func() bool { return readCounter(counter) >= killedAt+50 })
			s.restart()
			st := s.status()["counter.default"]
			if st.State != "up" || st.PID != pid {
				t.Fatalf("after the restart: %s, pid %d; want up with the adopted pid %d", st.State, st.PID, pid)
			}
			// The PID file it was adopted by names it already: not
			// written again (a new file per service per restart).
			if after, err := os.Stat(pidFile); err != nil || !os.SameFile(before, after) {
				t.Errorf("PID file of the adopted process written again: %v", err)
			}
			target := readCounter(counter) + 20
			log := filepath.Join(root, "svc", "counter", "logs", "run.stdout.log")
			var got []int
			waitUntil(t, 15*time.Second, "lines after the adoption in the log", func() (bool, string) {
				got = numbered(readFile(log))
				return len(got) > 0 && got[len(got)-1] >= target, fmt.Sprint(len(got), " lines")
			})
			first := -1
			for i, n := range got {
				if n == killedAt+2 {
					first = i
					break
				}
			}
			if first < 0 {
				t.Fatalf("line %d, written while no supervisor ran, is not in the log", killedAt+2)
			}
			for i := first; i < len(got); i++ {
				if want := killedAt + 2 + i - first; got[i] != want {
					t.Fatalf("log line %d is line %d, want line %d: a line lost or doubled", i, got[i], want)
				}
			}
		})
	}
}

// A service's output FIFOs outlive the supervisor that made them (the
// next one over this root opens them again rather than making them anew)
// and go with an unload.
func TestOutputFIFOsKeptAcrossRestartsRemovedByUnload(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tag := uniqueTag()
	if r := runTend(t, root, "pkg", "install", sleeper(t, "fifo", tag)); r.code != 0 {
		t.Fatalf("pkg install: %s", r.stderr)
	}
	s := startSup(t, root)
	s.mustTend("svc", "load", "test/fifo")
	fifo := filepath.Join(root, "sup", "default", "output", "fifo.stdout")
	inode := func() uint64 {
		fi, err := os.Lstat(fifo)
		if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			return 0
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	waitFor(t, 10*time.Second, "the service up", func() bool { return len(procsWith("sleep 1000"+tag)) == 1 })
	ino := inode()
	if ino == 0 {
		t.Fatalf("no output FIFO at %s", fifo)
	}
	s.term()
	if inode() != ino {
		t.Fatalf("the output FIFO did not outlive sup term")
	}
	s.restart()
	waitFor(t, 10*time.Second, "the service up again", func() bool { return len(procsWith("sleep 1000"+tag)) == 1 })
	if inode() != ino {
		t.Fatalf("the restarted supervisor made the output FIFO anew")
	}
	s.mustTend("svc", "unload", "test/fifo")
	if _, err := os.Lstat(fifo); !os.IsNotExist(err) {
		t.Fatalf("output FIFO after unload: %v", err)
	}
}
