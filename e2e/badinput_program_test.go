package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A program copied in as hooks/run (an operator expecting it to be run
// as it is) is refused by pkg install and svc load with one line saying
// it is not a text template, and changes nothing. It is refused before
// any template work: the supervisor spends no CPU on it, where lexing a
// MiB of it used to take seconds.
func TestProgramAsHookIsRefusedUnparsed(t *testing.T) {
	t.Parallel()
	ls, err := os.ReadFile("/bin/ls")
	if err != nil {
		t.Skip("no /bin/ls to copy in:", err)
	}
	// A MiB of it, with a mustache after the first copy, as a program may
	// happen to have: raymond's lexer finds no error in it, so it used to
	// be lexed to the end before the checker refused it.
	var prog bytes.Buffer
	for prog.Len() < 1<<20 {
		prog.Write(ls)
		if prog.Len() == len(ls) {
			prog.WriteString("\n{{\xfc\xffH\x8b x}}\n")
		}
	}
	dir := pkgDir(t, map[string]string{
		"IDENT":     "test/prog/1.0.0/20260101000000",
		"hooks/run": prog.String(),
	})
	want := filepath.Join(dir, "hooks", "run") + ":1: not a text template (NUL byte at offset 7): it is an ELF executable"

	root := t.TempDir()
	s := startSup(t, root)
	pkgsBefore := listTree(t, filepath.Join(root, "pkgs"))
	oneLine(t, "pkg install", runTend(t, root, "pkg", "install", dir), want)

	before := supCPU(t, s)
	oneLine(t, "svc load", s.tend("svc", "load", dir), want)
	if st := s.status(); len(st) != 0 {
		t.Errorf("services after the refused load: %+v", st)
	}
	if used := supCPU(t, s) - before; used > 250*time.Millisecond {
		t.Errorf("the supervisor used %v of CPU refusing the load", used)
	}
	if got := listDir(t, filepath.Join(root, "sup", "default", "specs")); len(got) != 0 {
		t.Errorf("specs written: %v", got)
	}
	if got := listTree(t, filepath.Join(root, "pkgs")); strings.Join(got, ",") != strings.Join(pkgsBefore, ",") {
		t.Errorf("packages changed: %v -> %v", pkgsBefore, got)
	}
}

// supCPU is the CPU time the supervisor process has used (user and
// system, from /proc/PID/stat, in clock ticks of 10 ms).
func supCPU(t *testing.T, s *sup) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which ends at the last ')': state is
	// field 3, utime and stime fields 14 and 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var ticks int64
	for _, i := range []int{14, 15} {
		n, err := strconv.ParseInt(f[i-3], 10, 64)
		if err != nil {
			t.Fatalf("/proc stat field %d: %v", i, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
