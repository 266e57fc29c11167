package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/spec"
)

// descendantKinds are the ways a run hook's child can leave its process
// group or its parent; each child carries TEND_E2E_DESC=TOKEN-KIND in its
// environment, which is how the test finds it (and nothing else).
var descendantKinds = []string{"grandchild", "doublefork", "setsid", "setpgid"}

// descendantsPkg is a package whose run hook starts one descendant of each
// kind and then execs a sleep itself ("run"). With ignoreTerm, everything
// ignores SIGTERM, so a stop waits for the shutdown timeout.
func descendantsPkg(t *testing.T, name, token string, ignoreTerm bool) string {
	trap := ""
	if ignoreTerm {
		trap = "trap '' TERM\n"
	}
	run := "#!/bin/sh\n" + trap +
		"TEND_E2E_DESC=" + token + "-grandchild sleep 1000 &\n" +
		"(TEND_E2E_DESC=" + token + "-doublefork sleep 1000 &) &\n" +
		"TEND_E2E_DESC=" + token + "-setsid setsid sleep 1000 &\n" +
		"TEND_E2E_DESC=" + token + "-setpgid perl -e 'setpgrp(0,0); exec \"sleep\", \"1000\"' &\n" +
		"TEND_E2E_DESC=" + token + "-run exec sleep 1000\n"
	return pkgDir(t, map[string]string{
		"IDENT":     "test/" + name + "/1.0.0/20260101000000",
		"hooks/run": run,
	})
}

// procIdentity is a pid and its start time: a pid alone may be reused.
type procIdentity struct {
	pid   int
	start string
}

// procsWithEnv lists the live (not zombie) processes whose environment
// holds an entry starting with prefix, by the entry's value.
func procsWithEnv(prefix string) map[string][]procIdentity {
	out := map[string][]procIdentity{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for entry := range bytes.SplitSeq(env, []byte{0}) {
			v, ok := bytes.CutPrefix(entry, []byte(prefix))
			if !ok {
				continue
			}
			st, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			i := bytes.LastIndexByte(st, ')')
			if i < 0 {
				break
			}
			f := strings.Fields(string(st[i+1:]))
			if len(f) < 20 || f[0] == "Z" {
				break
			}
			out[string(v)] = append(out[string(v)], procIdentity{pid, f[19]})
			break
		}
	}
	return out
}

// killWithEnv SIGKILLs what a failed test left (cleanup only).
func killWithEnv(prefix string) {
	for _, ids := range procsWithEnv(prefix) {
		for _, id := range ids {
			syscall.Kill(id.pid, syscall.SIGKILL)
		}
	}
}

// removeCgroups kills and removes what a test left of the cgroup subtrees
// named in root's CGROUP files, once its supervisors have ended (cleanup
// only: a supervisor that was SIGKILLed and not restarted leaves its
// subtree, and its services, behind).
func removeCgroups(root string) {
	files, _ := filepath.Glob(filepath.Join(root, "sup", "*", "CGROUP"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for base := range strings.FieldsSeq(string(b)) {
			if !strings.HasPrefix(filepath.Base(base), "tend.") {
				continue
			}
			ents, _ := os.ReadDir(base)
			for _, e := range ents {
				if !e.IsDir() {
					continue
				}
				dir := filepath.Join(base, e.Name())
				os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
				deadline := time.Now().Add(5 * time.Second)
				for strings.Contains(readFile(filepath.Join(dir, "cgroup.events")), "populated 1") && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond) // polling interval
				}
				syscall.Rmdir(dir)
			}
			syscall.Rmdir(base)
		}
	}
}

// descendantCheck runs one case: a supervisor (cgroups on or off) with one
// service that has every kind of descendant running.
type descendantCheck struct {
	t     *testing.T
	s     *sup
	name  string
	token string
}

func newDescendantCheck(t *testing.T, cgroups string, ignoreTerm bool, extraLoad ...string) *descendantCheck {
	t.Helper()
	token := "d" + strings.TrimPrefix(uniqueTag(), ".") + strconv.Itoa(int(time.Now().UnixNano()%1000))
	c := &descendantCheck{t: t, name: "desc", token: token}
	root := t.TempDir()
	// Registered before the supervisor's cleanup, so it runs after it.
	t.Cleanup(func() {
		killWithEnv("TEND_E2E_DESC=" + token + "-")
		removeCgroups(root)
	})
	c.s = startSup(t, root, "--cgroups", cgroups)
	c.s.mustTend(append([]string{"svc", "load", descendantsPkg(t, c.name, token, ignoreTerm)}, extraLoad...)...)
	c.waitAll(1)
	return c
}

// byKind is every live descendant of this case, by kind.
func (c *descendantCheck) byKind() map[string][]procIdentity {
	out := map[string][]procIdentity{}
	for v, ids := range procsWithEnv("TEND_E2E_DESC=" + c.token + "-") {
		out[v] = ids
	}
	return out
}

// waitAll waits until each kind, and the run process, runs n times.
func (c *descendantCheck) waitAll(n int) map[string][]procIdentity {
	c.t.Helper()
	var seen map[string][]procIdentity
	waitUntil(c.t, 20*time.Second, fmt.Sprintf("every descendant running %d time(s)", n), func() (bool, string) {
		seen = c.byKind()
		for _, k := range append(slices.Clone(descendantKinds), "run") {
			if len(seen[k]) != n {
				return false, fmt.Sprint(seen)
			}
		}
		return true, ""
	})
	return seen
}

// noSurvivors fails, naming each kind, if any process of before still
// runs (before nil: any process of this case).
func (c *descendantCheck) noSurvivors(when string, before map[string][]procIdentity) {
	c.t.Helper()
	now := c.byKind()
	for kind, ids := range now {
		for _, id := range ids {
			if before == nil || slices.Contains(before[kind], id) {
				c.t.Errorf("%s: %s descendant (pid %d) survived", when, kind, id.pid)
			}
		}
	}
}

// A service's descendants, however they detached (grandchild, double
// fork, setsid, setpgid), end with it: after svc stop, svc unload, sup
// term, and the take-over after a SIGKILL of the supervisor, also when the
// SIGKILL came in the middle of a stop or an unload. With cgroups and
// with the /proc fallback alike.
func TestDescendantsEndWithTheirService(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"auto", "off"} {
		t.Run("cgroups="+mode, func(t *testing.T) {
			t.Parallel()
			t.Run("svc stop", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, false)
				c.s.mustTend("svc", "stop", "test/"+c.name)
				waitFor(t, 20*time.Second, "service down", func() bool { return c.s.status()[c.name+".default"].State != "up" })
				c.noSurvivors("after svc stop", nil)
			})
			t.Run("svc unload", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, false)
				c.s.mustTend("svc", "unload", "test/"+c.name)
				waitFor(t, 20*time.Second, "service unloaded", func() bool { _, ok := c.s.status()[c.name+".default"]; return !ok })
				c.noSurvivors("after svc unload", nil)
			})
			t.Run("sup term", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, false)
				c.s.term()
				c.noSurvivors("after sup term", nil)
			})
			t.Run("SIGKILL and restart", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, false)
				before := c.byKind()
				c.s.kill()
				c.s.restart()
				// Adopted, not restarted: every process is the one that ran
				// before, once.
				waitFor(t, 20*time.Second, "service adopted", func() bool { return c.s.status()[c.name+".default"].State == "up" })
				if after := c.waitAll(1); !reflect.DeepEqual(after, before) {
					t.Fatalf("after a SIGKILL of the supervisor and its restart: %v, want the same processes as before, %v", after, before)
				}
				c.s.term()
				c.noSurvivors("after sup term", nil)
			})
			t.Run("SIGKILL during svc stop", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, true, "--shutdown-timeout", "60")
				done := make(chan result, 1)
				go func() { done <- runTend(t, c.s.root, "svc", "stop", "test/"+c.name, "--remote-sup", c.s.ctl) }()
				waitFor(t, 20*time.Second, "spec says down", func() bool {
					sp, err := spec.Parse("", []byte(readFile(c.s.specPath(c.name))))
					return err == nil && !sp.Up()
				})
				c.s.kill()
				<-done
				c.s.restart()
				c.noSurvivors("after a SIGKILL during svc stop and a restart", nil)
			})
			t.Run("SIGKILL during svc unload", func(t *testing.T) {
				t.Parallel()
				c := newDescendantCheck(t, mode, true, "--shutdown-timeout", "60")
				done := make(chan result, 1)
				go func() { done <- runTend(t, c.s.root, "svc", "unload", "test/"+c.name, "--remote-sup", c.s.ctl) }()
				waitFor(t, 20*time.Second, "spec removed", func() bool {
					_, err := os.Stat(c.s.specPath(c.name))
					return os.IsNotExist(err)
				})
				c.s.kill()
				<-done
				c.s.restart()
				c.noSurvivors("after a SIGKILL during svc unload and a restart", nil)
			})
		})
	}
}

// A run hook that clears its environment (exec env -i) carries no marker,
// yet the next supervisor after a SIGKILL still finds it (cgroup, or PID
// file with its start time), adopts it and never runs it twice.
func TestClearedEnvironmentRunHookNeverRunsTwice(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"auto", "off"} {
		t.Run("cgroups="+mode, func(t *testing.T) {
			t.Parallel()
			tag := uniqueTag()
			argv := "sleep 1000" + tag
			root := t.TempDir()
			t.Cleanup(func() { removeCgroups(root) }) // after the kill below
			t.Cleanup(func() {
				for _, pid := range procsWith(argv) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			s := startSup(t, root, "--cgroups", mode)
			s.mustTend("svc", "load", pkgDir(t, map[string]string{
				"IDENT":     "test/bare/1.0.0/20260101000000",
				"hooks/run": "#!/bin/sh\nexec env -i sleep 1000" + tag + "\n",
			}))
			var old []int
			waitFor(t, 15*time.Second, "run hook running", func() bool { old = procsWith(argv); return len(old) == 1 })
			s.kill()
			s.restart()
			if pids, pid := procsWith(argv), s.status()["bare.default"].PID; len(pids) != 1 || pids[0] != old[0] || pid != old[0] {
				t.Fatalf("after the restart: %v run, status names %d; want only the adopted %d", pids, pid, old[0])
			}
			if b, _ := os.ReadFile(filepath.Join(s.root, "svc", "bare", "PID")); !strings.HasPrefix(string(b), strconv.Itoa(procsWith(argv)[0])+"\n") {
				t.Fatalf("PID file %q", b)
			}
		})
	}
}

// /status says how processes are tracked, and with a cgroup per service
// /metrics has each service's CPU and memory; --cgroups off really turns
// the cgroups off.
func TestProcessTrackingIsReported(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"auto", "off"} {
		t.Run("cgroups="+mode, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			t.Cleanup(func() { removeCgroups(root) })
			s := startSup(t, root, "--cgroups", mode)
			tag := uniqueTag()
			t.Cleanup(func() {
				for _, pid := range procsWith("sleep 1000" + tag) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			s.mustTend("svc", "load", sleeper(t, "usage", tag))
			waitFor(t, 15*time.Second, "service up", func() bool { return len(procsWith("sleep 1000"+tag)) == 1 })
			reason := monStatus(t, s.http).Components["processes"].Reason
			cgroups := strings.HasPrefix(reason, "cgroup v2 /")
			switch {
			case mode == "off" && reason != "subreaper and /proc (cgroups turned off)":
				t.Fatalf("processes: %q", reason)
			case mode == "auto" && !cgroups && !strings.HasPrefix(reason, "subreaper and /proc ("):
				t.Fatalf("processes: %q", reason)
			case mode == "auto" && !cgroups && os.Getenv("TEND_REQUIRE_TOOLS") == "1" && cgroup2Writable():
				// make test: where a cgroup can be made, the fallback
				// must not stand in for it unnoticed.
				t.Fatalf("processes: %q on a host with a writable cgroup2 hierarchy", reason)
			}
			if cgroups {
				base := strings.TrimPrefix(reason, "cgroup v2 ")
				procs, err := os.ReadFile(filepath.Join(base, "usage", "cgroup.procs"))
				if err != nil || strings.TrimSpace(string(procs)) != strconv.Itoa(procsWith("sleep 1000" + tag)[0]) {
					t.Fatalf("cgroup.procs of the service: %q %v", procs, err)
				}
			}
			_, metrics := monGet(t, "GET", "http://"+s.http+"/metrics")
			has := strings.Contains(metrics, `tend_service_memory_bytes{group="default",service="usage",service_group="usage.default"}`) &&
				strings.Contains(metrics, `tend_service_cpu_seconds_total{group="default",service="usage",service_group="usage.default"}`)
			if has != cgroups {
				t.Fatalf("usage series present %v with %q:\n%s", has, reason, metrics)
			}
			// The same figures under the service's own route, with curl.
			code, body, err := gwCurl(t, "http://"+s.http+"/services/usage/default/usage")
			var u struct {
				CPU *float64 `json:"cpu_seconds"`
				Mem *uint64  `json:"memory_bytes"`
			}
			if err != nil || code != "200" || json.Unmarshal([]byte(body), &u) != nil {
				t.Fatalf("curl .../usage: %s %s %v", code, body, err)
			}
			if known := u.CPU != nil && u.Mem != nil && *u.Mem > 0; known != cgroups {
				t.Fatalf("usage known %v with %q: %s", known, reason, body)
			}
			s.term()
			if cgroups {
				if _, err := os.Stat(strings.TrimPrefix(reason, "cgroup v2 ")); !os.IsNotExist(err) {
					t.Fatalf("subtree left after sup term: %v", err)
				}
			}
		})
	}
}

// cgroup2Writable reports whether this process may write a cgroup2
// hierarchy's root, unified (/sys/fs/cgroup) or hybrid
// (/sys/fs/cgroup/unified): where tend, run as root, makes its subtree.
func cgroup2Writable() bool {
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if syscall.Access(filepath.Join(d, "cgroup.procs"), 2 /* W_OK */) == nil {
			if _, err := os.Stat(filepath.Join(d, "cgroup.controllers")); err == nil {
				return true
			}
		}
	}
	return false
}
