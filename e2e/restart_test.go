package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// starts reads the start times a crashing service appended to its file.
func starts(t *testing.T, path string) []time.Time {
	b, _ := os.ReadFile(path)
	var out []time.Time
	for _, l := range strings.Fields(string(b)) {
		ns, err := strconv.ParseInt(l, 10, 64)
		if err == nil {
			out = append(out, time.Unix(0, ns))
		}
	}
	return out
}

func crasher(t *testing.T, stampFile string) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/crasher/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\ndate +%s%N >> " + stampFile + "\nexit 1\n",
	})
}

func TestCrashLoopBacksOff(t *testing.T) {
	stamps := filepath.Join(t.TempDir(), "starts")
	s := startSup(t, t.TempDir(), "--service-min-backoff-period", "200ms", "--service-max-backoff-period", "1s", "--service-restart-cooldown-period", "1m")
	s.mustTend("svc", "load", crasher(t, stamps))
	waitFor(t, 20*time.Second, "six starts", func() bool { return len(starts(t, stamps)) >= 6 })
	st := starts(t, stamps)
	var gaps []time.Duration
	for i := 1; i < len(st); i++ {
		gaps = append(gaps, st[i].Sub(st[i-1]))
	}
	if gaps[0] > 150*time.Millisecond {
		t.Errorf("first restart after a crash waited %v; want immediate", gaps[0])
	}
	for i, g := range gaps[1:5] {
		if g < 190*time.Millisecond || g > 1500*time.Millisecond {
			t.Errorf("gap %d = %v; want within [min 200ms, max 1s] plus slack (gaps %v)", i+1, g, gaps)
		}
	}
	if r := s.status()["crasher.default"].Restarts; r < 5 {
		t.Errorf("restart_count = %d", r)
	}
}

func TestCrashRestartsAtOnceWithZeroBackoff(t *testing.T) {
	stamps := filepath.Join(t.TempDir(), "starts")
	s := startSup(t, t.TempDir()) // the harness sets min = max = 0
	s.mustTend("svc", "load", crasher(t, stamps))
	waitFor(t, 20*time.Second, "20 starts", func() bool { return len(starts(t, stamps)) >= 20 })
	s.mustTend("svc", "stop", "crasher")
}
