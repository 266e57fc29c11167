package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// executableRSS sums the resident kB of the read-only mappings of this
// (test) executable.
func executableRSS(t *testing.T) int {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	total, ours := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) >= 5 && strings.Contains(fl[0], "-") && !strings.HasSuffix(fl[0], ":") {
			ours = len(fl) >= 6 && fl[5] == exe && !strings.Contains(fl[1], "w")
			continue
		}
		if ours && len(fl) >= 2 && fl[0] == "Rss:" {
			kb, _ := strconv.Atoi(fl[1])
			total += kb
		}
	}
	return total
}

func TestPageOutExecutableShrinksResidentCode(t *testing.T) {
	before := executableRSS(t)
	pageOutExecutable()
	after := executableRSS(t)
	t.Logf("executable resident: %d kB before, %d kB after", before, after)
	if before < 1024 {
		t.Skipf("only %d kB of the executable resident to begin with", before)
	}
	if after > before/2 {
		t.Fatalf("page-out left %d of %d kB of the executable resident", after, before)
	}
}
