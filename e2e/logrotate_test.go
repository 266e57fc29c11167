package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A service that writes fast keeps its logs under (backups+1) × max per
// file: the supervisor's limits, or its own from `svc load`.
func TestServiceLogsRotateBySize(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root, "--service-log-max-bytes", "64KiB", "--service-log-backups", "2")
	// ~1.3 MB of numbered lines, then a marker now and then.
	chatty := func(name string) string {
		return pkgDir(t, map[string]string{
			"IDENT": "test/" + name + "/1.0.0/20260101000000",
			"hooks/run": "#!/bin/sh\ni=0\nwhile [ $i -lt 20000 ]; do echo \"line $i 0123456789012345678901234567890123456789012345678901\"; i=$((i+1)); done\n" +
				"while :; do echo done; sleep 0.1; done\n",
		})
	}
	s.mustTend("svc", "load", chatty("chatty"))
	s.mustTend("svc", "load", chatty("small"), "--log-max-bytes", "16KiB", "--log-backups", "1")

	for _, c := range []struct {
		name    string
		max     int64
		backups int
	}{{"chatty", 64 << 10, 2}, {"small", 16 << 10, 1}} {
		logs := filepath.Join(root, "svc", c.name, "logs")
		cur := filepath.Join(logs, "run.stdout.log")
		waitFor(t, 60*time.Second, c.name+" done writing", func() bool { return strings.Contains(readFile(cur), "done\n") })
		ents, _ := os.ReadDir(logs)
		var total int64
		names := map[string]bool{}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "run.stdout.log") {
				continue
			}
			fi, _ := e.Info()
			total += fi.Size()
			names[e.Name()] = true
			if fi.Size() > c.max {
				t.Errorf("%s: %s holds %d bytes, over the max %d", c.name, e.Name(), fi.Size(), c.max)
			}
		}
		if limit := int64(c.backups+1) * c.max; total > limit {
			t.Errorf("%s: logs/ holds %d bytes of run.stdout.log*, over (backups+1)×max = %d", c.name, total, limit)
		}
		for i := 1; i <= c.backups; i++ {
			if !names["run.stdout.log."+strconv.Itoa(i)] {
				t.Errorf("%s: no run.stdout.log.%d among %v", c.name, i, names)
			}
		}
		if names["run.stdout.log."+strconv.Itoa(c.backups+1)] || len(names) != c.backups+1 {
			t.Errorf("%s: %v; want run.stdout.log and %d backups", c.name, names, c.backups)
		}
		// Oldest last: each backup's lines come before the newer file's.
		prev := -1
		for i := c.backups; i >= 1; i-- {
			first, last := lineNumbers(readFile(filepath.Join(logs, "run.stdout.log."+strconv.Itoa(i))))
			if first <= prev || last < first {
				t.Errorf("%s: run.stdout.log.%d holds lines %d to %d after line %d", c.name, i, first, last, prev)
			}
			prev = last
		}
	}
}

var lineNumRE = regexp.MustCompile(`(?m)^line (\d+) `)

// lineNumbers returns the first and last line number in a log file.
func lineNumbers(s string) (first, last int) {
	m := lineNumRE.FindAllStringSubmatch(s, -1)
	if len(m) == 0 {
		return -1, -1
	}
	first, _ = strconv.Atoi(m[0][1])
	last, _ = strconv.Atoi(m[len(m)-1][1])
	return first, last
}

// Bad log limits are refused with one line naming the value, and nothing
// is loaded.
func TestServiceLogLimitsRefused(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	dir := sleeper(t, "limits", uniqueTag())
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--log-max-bytes", "ten"}, 2, `--log-max-bytes: "ten" is not a size`},
		{[]string{"--log-max-bytes", "2TiB"}, 1, "log_max_bytes 2199023255552 is over the limit"},
		{[]string{"--log-backups", "-1"}, 1, "log_backups -1 must be from 0 to 1000"},
	} {
		r := s.tend(append([]string{"svc", "load", dir}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("svc load %v: exit %d, stderr %q; want exit %d and one line with %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(s.specPath("limits")); err == nil {
		t.Error("a refused load wrote a spec")
	}
	if len(s.status()) != 0 {
		t.Errorf("a refused load left services: %v", s.status())
	}
}
