package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/spec"
)

// The chaos test of issue 11: clients load, stop, start and unload a pool of
// services at random while the supervisor is SIGKILLed at a random moment,
// sometimes inside its start-up. After every kill the next supervisor, once
// ready, must run each service it holds as up exactly once, nothing else,
// and nothing outside its tree; no spec on disk may be torn; no operation
// the CLI acknowledged may be lost.
//
// TEND_CHAOS_ROUNDS sets the number of rounds (default 100, 20 with
// -short); TEND_CHAOS_SEED the random seed (logged: it fixes the
// operations and kill points chosen, not the host's timing).
// bench/chaos.sh runs a long one.
func TestChaosSIGKILLRunsEachServiceOnce(t *testing.T) {
	// Most of its time is spent waiting for supervisors to start: it runs
	// beside the other parallel tests.
	t.Parallel()
	rounds := 100 // about 4 minutes on a busy 2-core host, race detector on
	if testing.Short() {
		rounds = 20
	}
	if v := os.Getenv("TEND_CHAOS_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TEND_CHAOS_ROUNDS=%q: want a positive integer", v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("TEND_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("TEND_CHAOS_SEED=%q: want an unsigned integer", v)
		}
		seed = n
	}
	t.Logf("chaos: %d rounds, seed %d", rounds, seed)
	c := newChaos(t, rand.New(rand.NewPCG(seed, seed>>1|1)))
	defer c.logTally(rounds)
	c.launch()
	c.s.waitReady()
	prev := c.observe()
	for r := 1; r <= rounds; r++ {
		ops, killedAt := c.operateAndKill()
		c.checkSpecs(r, "after the kill during operations")
		if c.rng.IntN(3) == 0 {
			// The next supervisor dies in its start-up burst: taking
			// over its predecessor's services, starting its own.
			c.launch()
			time.Sleep(time.Duration(c.rng.IntN(150)) * time.Millisecond) // the kill point, not a wait
			c.kill()
			c.tally.startupKills++
			c.checkSpecs(r, "after the kill during start-up")
		}
		t0 := time.Now()
		c.launch()
		c.s.waitReady()
		t1 := time.Now()
		obs := c.observe()
		c.checkAcked(r, prev, ops, killedAt, obs)
		c.checkRuns(r, obs, ops, killedAt)
		c.round = c.round[len(c.round)-1:] // the next round's operations go to this one
		prev = obs
		c.tally.ready += t1.Sub(t0)
		c.tally.check += time.Since(t1)
	}
	c.s.term()
	c.checkRace()
	c.checkNoneLeft()
}

// logTally prints the counts bench/chaos.sh reports.
func (c *chaos) logTally(rounds int) {
	n := c.tally
	c.t.Logf("chaos tallies: rounds=%d kills=%d startup_kills=%d ops=%d acked=%d in_flight=%d lost=%d changed=%d torn=%d duplicates=%d orphans=%d not_running=%d races=%d",
		rounds, n.kills, n.startupKills, n.ops, n.acked, n.inFlight,
		n.lost, n.changed, n.torn, n.duplicates, n.orphans, n.notRunning, n.races)
	c.t.Logf("chaos time: start to ready %s, checks %s, mean operation %s", n.ready, n.check, c.opTime())
}

// chaosPool is the number of services the clients work on; the last
// chaosStartup of them are listed in the start-up YAML file.
const (
	chaosPool    = 12
	chaosStartup = 4
	chaosClients = 3
)

type chaos struct {
	t     *testing.T
	rng   *rand.Rand
	root  string
	cfg   string
	tag   string
	pool  []*chaosSvc
	s     *sup
	tally chaosTally
	grace time.Duration // left to wait for processes to settle in failed rounds
	// round are the supervisors launched since the last check: their logs
	// are shown when the check fails (the harness shows the last one's).
	round []*sup
}

type chaosTally struct {
	kills, startupKills, ops, acked, inFlight            int
	lost, changed, torn, duplicates, orphans, notRunning int
	races, done                                          int
	doneTime                                             time.Duration
	ready, check                                         time.Duration
}

// chaosSvc is one service of the pool. Its run process carries in its argv
// a token no other process has (main); a service with a grandchild starts
// a second process with its own token (grand).
type chaosSvc struct {
	name  string
	kind  string // what its run hook does, for messages
	dir   string
	main  string
	grand string // "" without a grandchild
	yaml  bool   // listed in the start-up file
}

// chaosKind i is the run hook of the services whose index is i modulo 4:
// a plain exec; a grandchild started in the background; a process that
// ignores SIGTERM, so a stop waits its shutdown timeout (1 s) and a kill
// can land between the spec's change and the process's end; and a run
// hook that clears its environment (`exec env -i`).
func chaosRun(i int, main, grand string) (kind string, files map[string]string) {
	switch i % 4 {
	case 1:
		return "grandchild", map[string]string{"hooks/run": "#!/bin/sh\nsleep " + grand + " &\nexec sleep " + main + "\n"}
	case 2:
		return "ignores SIGTERM", map[string]string{
			"hooks/run":        "#!/bin/sh\nexec sh -c 'trap \"\" TERM; while :; do sleep 1; done' " + main + "\n",
			"SHUTDOWN_TIMEOUT": "1\n",
		}
	case 3:
		return "exec env -i", map[string]string{"hooks/run": "#!/bin/sh\nexec env -i sleep " + main + "\n"}
	}
	return "plain exec", map[string]string{"hooks/run": "#!/bin/sh\nexec sleep " + main + "\n"}
}

func newChaos(t *testing.T, rng *rand.Rand) *chaos {
	c := &chaos{t: t, rng: rng, root: t.TempDir(), tag: uniqueTag(), grace: 20 * time.Second}
	var yaml strings.Builder
	yaml.WriteString("services:\n")
	for i := range chaosPool {
		sv := &chaosSvc{
			name: fmt.Sprintf("chaos%02d", i),
			main: fmt.Sprintf("1000%s%02d", c.tag, i),
			yaml: i >= chaosPool-chaosStartup,
		}
		if i%4 == 1 {
			sv.grand = fmt.Sprintf("1001%s%02d", c.tag, i)
		}
		var files map[string]string
		sv.kind, files = chaosRun(i, sv.main, sv.grand)
		if sv.yaml {
			sv.kind += ", start-up file"
		}
		files["IDENT"] = "test/" + sv.name + "/1.0.0/20260101000000"
		sv.dir = pkgDir(t, files)
		if sv.yaml {
			yaml.WriteString("  - pkg: " + sv.dir + "\n")
		}
		c.pool = append(c.pool, sv)
	}
	c.cfg = filepath.Join(t.TempDir(), "tend.yaml")
	if err := os.WriteFile(c.cfg, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered after the temporary directories, so it runs before they
	// are removed: the last supervisor is stopped as the harness stops
	// one, and whatever the supervisors left is killed.
	t.Cleanup(func() {
		if c.s != nil && c.s.cmd != nil {
			c.s.cleanup()
		}
		var pids []int
		for _, p := range c.scan().marked {
			pids = append(pids, p.pid)
		}
		killAll(pids)
	})
	return c
}

// launch starts a supervisor on the chaos root; it returns once the
// supervisor has logged its listeners, before its start-up.
func (c *chaos) launch() {
	c.t.Helper()
	c.s = &sup{t: c.t, root: c.root, args: []string{"--config", c.cfg}}
	c.round = append(c.round, c.s)
	c.s.start()
}

// kill SIGKILLs the current supervisor; a data race it reported before
// fails the test.
func (c *chaos) kill() {
	c.s.kill()
	c.checkRace()
}

func (c *chaos) checkRace() {
	c.t.Helper()
	if out := c.s.errOut.String(); strings.Contains(out, "WARNING: DATA RACE") {
		c.tally.races++
		c.t.Errorf("supervisor %d reported a data race:\n%s", c.s.cmd.Process.Pid, out)
	}
}

// chaosOp is one CLI call made by a client.
type chaosOp struct {
	svc        *chaosSvc
	kind       string // load, stop, start, unload
	start, end time.Time
	code       int
	stderr     string
}

// operateAndKill runs the clients against the current supervisor and
// SIGKILLs it after a random delay; it returns every operation made and
// the moment of the kill.
func (c *chaos) operateAndKill() ([]chaosOp, time.Time) {
	var mu sync.Mutex
	var ops []chaosOp
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range chaosClients {
		rng := rand.New(rand.NewPCG(c.rng.Uint64(), uint64(i)))
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				op := c.randomOp(rng)
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
			}
		})
	}
	// The kill point, not a wait: a third of the kills land among the
	// first operations, the rest after one to three operations' time, so
	// that some have been acknowledged however fast this host runs them.
	opTime := c.opTime()
	delay := time.Duration(c.rng.Int64N(int64(opTime)))
	if c.rng.IntN(3) > 0 {
		delay = opTime + time.Duration(c.rng.Int64N(int64(2*opTime)))
	}
	time.Sleep(delay)
	killedAt := time.Now()
	c.kill()
	close(stop)
	wg.Wait()
	c.tally.kills++
	for _, op := range ops {
		c.tally.ops++
		switch {
		case !op.end.Before(killedAt):
			c.tally.inFlight++
		case op.code == 0:
			c.tally.acked++
		}
		if op.end.Before(killedAt) {
			c.tally.done++
			c.tally.doneTime += op.end.Sub(op.start)
		}
	}
	return ops, killedAt
}

// opTime is the mean time an operation has taken so far, at least 100 ms;
// 500 ms before any has finished.
func (c *chaos) opTime() time.Duration {
	if c.tally.done == 0 {
		return 500 * time.Millisecond
	}
	return max(c.tally.doneTime/time.Duration(c.tally.done), 100*time.Millisecond)
}

var chaosKinds = []string{"load", "load", "stop", "stop", "start", "start", "unload"}

func (c *chaos) randomOp(rng *rand.Rand) chaosOp {
	op := chaosOp{svc: c.pool[rng.IntN(len(c.pool))], kind: chaosKinds[rng.IntN(len(chaosKinds))]}
	arg := op.svc.name
	if op.kind == "load" {
		arg = op.svc.dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tendBin(), "svc", op.kind, arg, "--remote-sup", c.s.ctl)
	cmd.Env = append(os.Environ(), "TEND_ROOT="+c.root)
	var e bytes.Buffer
	cmd.Stderr = &e
	op.start = time.Now()
	err := cmd.Run()
	op.end = time.Now()
	op.stderr = strings.TrimSpace(e.String())
	if ee, ok := err.(*exec.ExitError); ok {
		op.code = ee.ExitCode()
	} else if err != nil {
		op.code, op.stderr = -1, err.Error()
	}
	return op
}

// checkSpecs parses every spec file: a supervisor killed at any moment
// leaves each whole or absent.
func (c *chaos) checkSpecs(round int, when string) {
	c.t.Helper()
	dir := filepath.Join(c.root, "sup", "default", "specs")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".spec") {
			continue // a temporary file; the next supervisor removes it
		}
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err == nil {
			_, err = spec.Parse(p, b)
		}
		if err != nil {
			c.tally.torn++
			c.t.Errorf("round %d: torn spec %s %s: %v\n%s", round, e.Name(), when, err, b)
		}
	}
}

// observed is each service's desired state as the supervisor holds it:
// "up", "down", or "" when it is not loaded.
type observed map[string]string

// observe reads the ready supervisor's services.
func (c *chaos) observe() observed {
	c.t.Helper()
	resp, err := http.Get("http://" + c.s.http + "/services")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []struct {
		ServiceGroup string `json:"service_group"`
		DesiredState string `json:"desired_state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /services: %s: %v", resp.Status, err)
	}
	obs := observed{}
	for _, r := range rows {
		name, _, _ := strings.Cut(r.ServiceGroup, ".")
		obs[name] = strings.ToLower(r.DesiredState)
	}
	return obs
}

// effect is the state an operation leaves when it succeeds, as the next
// supervisor reads it back. A start-up file service is loaded again, up,
// at every start whatever was done to it (the file is the source of truth,
// as with `hab sup run PKG`; README "Start-up file vs. persisted specs").
func (op chaosOp) effect() string {
	switch {
	case op.svc.yaml, op.kind == "load", op.kind == "start":
		return "up"
	case op.kind == "stop":
		return "down"
	}
	return ""
}

// checkAcked compares each service's state after the restart with what
// the operations acknowledged before the kill say it must be. Only the
// last acknowledged operation counts, and only when no other operation
// (acknowledged, or in flight at the kill) may have been ordered after it
// with a different outcome; otherwise either outcome is accepted.
func (c *chaos) checkAcked(round int, prev observed, ops []chaosOp, killedAt time.Time, obs observed) {
	c.t.Helper()
	for _, sv := range c.pool {
		var mine []chaosOp
		for _, op := range ops {
			refused := op.code != 0 && op.end.Before(killedAt)
			if op.svc == sv && !refused {
				mine = append(mine, op)
			}
		}
		var last *chaosOp
		for i, op := range mine {
			if op.code == 0 && op.end.Before(killedAt) && (last == nil || op.end.After(last.end)) {
				last = &mine[i]
			}
		}
		want := prev[sv.name]
		if last != nil {
			want = last.effect()
		}
		ambiguous := false
		for i := range mine {
			op := &mine[i]
			if op != last && (last == nil || op.end.After(last.start)) && op.effect() != want {
				ambiguous = true
			}
		}
		if ambiguous || obs[sv.name] == want {
			continue
		}
		what := "the state before the round"
		if last != nil {
			what = fmt.Sprintf("acknowledged %s (%+dms..%+dms of the kill)", last.kind,
				last.start.Sub(killedAt).Milliseconds(), last.end.Sub(killedAt).Milliseconds())
		}
		if want == "up" {
			c.tally.lost++
			c.t.Errorf("round %d: lost: %s should be up after %s; the supervisor holds it as %q; its operations:%s", round, sv, what, obs[sv.name], opsOf(sv, ops, killedAt))
		} else {
			c.tally.changed++
			c.t.Errorf("round %d: changed: %s should be %q after %s; the supervisor holds it as %q; its operations:%s", round, sv, want, what, obs[sv.name], opsOf(sv, ops, killedAt))
		}
	}
}

// opsOf lists sv's operations in a round, for messages.
func opsOf(sv *chaosSvc, ops []chaosOp, killedAt time.Time) string {
	var b strings.Builder
	for _, op := range ops {
		if op.svc == sv {
			fmt.Fprintf(&b, "\n    %s: %+dms..%+dms of the kill, exit %d %s", op.kind,
				op.start.Sub(killedAt).Milliseconds(), op.end.Sub(killedAt).Milliseconds(), op.code, op.stderr)
		}
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

func (sv *chaosSvc) String() string { return sv.name + " (" + sv.kind + ")" }

// proc is one live process seen in /proc.
type proc struct {
	pid, ppid int
	state     string // field 3 of /proc/PID/stat
	start     string // field 22: start time, clock ticks after boot
	cgroup    string
	argv      string
}

// String describes p for a failure message.
func (p proc) String() string {
	return fmt.Sprintf("%d (ppid %d, state %s, started %s, cgroup %s) %q", p.pid, p.ppid, p.state, p.start, p.cgroup, p.argv)
}

type procScan struct {
	ppid   map[int]int
	marked []proc // processes carrying this test's tag
}

// scan reads every live process once; zombies are left out.
func (c *chaos) scan() procScan {
	ps := procScan{ppid: map[int]int{}}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := bytes.LastIndexByte(st, ')')
		if err != nil || i < 0 {
			continue
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 20 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ps.ppid[pid] = ppid
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		argv := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if !strings.Contains(argv, c.tag) {
			continue
		}
		cg, _ := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		ps.marked = append(ps.marked, proc{pid: pid, ppid: ppid, state: f[0], start: f[19], argv: argv, cgroup: unifiedCgroup(string(cg))})
	}
	return ps
}

// unifiedCgroup is the cgroup v2 path in a /proc/PID/cgroup text.
func unifiedCgroup(text string) string {
	for l := range strings.SplitSeq(text, "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return ""
}

// inTree tells whether p belongs to the supervisor sup: one of its
// descendants, or a member of the cgroup subtree it names in
// STATE/CGROUP (an adopted process is not its child).
func (ps procScan) inTree(p proc, sup int, cgroupDir string) bool {
	for pid, n := p.pid, 0; pid > 1 && n < 64; pid, n = ps.ppid[pid], n+1 {
		if pid == sup {
			return true
		}
	}
	if cgroupDir == "" || p.cgroup == "" {
		return false
	}
	// STATE/CGROUP is a path under the cgroup2 mount; /proc/PID/cgroup is
	// relative to it.
	for i := range len(cgroupDir) {
		if cgroupDir[i] == '/' {
			rel := cgroupDir[i:]
			if p.cgroup == rel || strings.HasPrefix(p.cgroup, rel+"/") {
				return true
			}
		}
	}
	return false
}

// runProblems is what one look at the processes found wrong.
type runProblems struct {
	duplicates []string
	orphans    []string
	notRunning []string
	orphanPIDs []int
}

func (p runProblems) none() bool {
	return len(p.duplicates)+len(p.orphans)+len(p.notRunning) == 0
}

func (c *chaos) runProblems(obs observed, ops []chaosOp, killedAt time.Time) runProblems {
	ps := c.scan()
	supPID := c.s.cmd.Process.Pid
	cgroupDir, _, _ := strings.Cut(readFile(filepath.Join(c.root, "sup", "default", "CGROUP")), "\n") // the subtree is its first line
	argvOf := make(map[int]string, len(ps.marked))
	for _, p := range ps.marked {
		argvOf[p.pid] = p.argv
	}
	var pr runProblems
	for _, sv := range c.pool {
		up := obs[sv.name] == "up"
		for _, marker := range []string{sv.main, sv.grand} {
			if marker == "" {
				continue
			}
			var pids, outside []int
			var seen []string
			for _, p := range ps.marked {
				// A shell running a command (the kind that ignores
				// SIGTERM runs `sleep 1` in a loop) has, from its fork to
				// its child's exec, a child with its very argv: the same
				// process about to become another, not a second copy.
				if strings.Contains(p.argv, marker) && argvOf[p.ppid] != p.argv {
					pids = append(pids, p.pid)
					seen = append(seen, p.String())
					if !ps.inTree(p, supPID, cgroupDir) {
						outside = append(outside, p.pid)
					}
				}
			}
			switch {
			case up && len(pids) > 1:
				pr.duplicates = append(pr.duplicates, fmt.Sprintf("%s %q: %d copies:\n      %s", sv, marker, len(pids), strings.Join(seen, "\n      ")))
			case up && len(pids) == 0:
				pr.notRunning = append(pr.notRunning, fmt.Sprintf("%s %q", sv, marker))
			}
			if !up && len(pids) > 0 {
				pr.orphans = append(pr.orphans, fmt.Sprintf("%s %q is %q yet runs as pids %v; its operations before the kill:%s", sv, marker, obs[sv.name], pids, opsOf(sv, ops, killedAt)))
				pr.orphanPIDs = append(pr.orphanPIDs, pids...)
			} else if len(outside) > 0 {
				pr.orphans = append(pr.orphans, fmt.Sprintf("%s %q: pids %v outside supervisor %d's tree", sv, marker, outside, supPID))
				pr.orphanPIDs = append(pr.orphanPIDs, outside...)
			}
		}
	}
	return pr
}

// checkRuns waits a little for the supervisor's processes to match what it
// holds, then reports what still does not. Orphans found are killed, so
// each round's count is its own.
func (c *chaos) checkRuns(round int, obs observed, ops []chaosOp, killedAt time.Time) {
	c.t.Helper()
	var pr, first runProblems
	start := time.Now()
	looks := 0
	var firstTook time.Duration
	for {
		pr = c.runProblems(obs, ops, killedAt)
		if looks++; looks == 1 {
			first, firstTook = pr, time.Since(start)
		}
		if pr.none() || time.Since(start) > 2*time.Second || c.grace <= 0 {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	if pr.none() {
		return
	}
	// Code that keeps failing must not keep the suite waiting: the time
	// spent waiting on failed rounds is capped.
	c.grace -= time.Since(start)
	c.tally.duplicates += len(pr.duplicates)
	c.tally.orphans += len(pr.orphans)
	c.tally.notRunning += len(pr.notRunning)
	var msg strings.Builder
	fmt.Fprintf(&msg, "round %d (supervisor pid %d; %d looks over %s, the first took %s and found %d duplicates, %d orphans, %d not running):",
		round, c.s.cmd.Process.Pid, looks, time.Since(start).Round(time.Millisecond), firstTook.Round(time.Millisecond),
		len(first.duplicates), len(first.orphans), len(first.notRunning))
	for _, d := range pr.duplicates {
		msg.WriteString("\n  duplicate: " + d)
	}
	for _, o := range pr.orphans {
		msg.WriteString("\n  orphan: " + o)
	}
	for _, n := range pr.notRunning {
		msg.WriteString("\n  not running though up: " + n)
	}
	c.t.Error(msg.String())
	for _, s := range c.round {
		c.t.Logf("round %d: log of supervisor %d:\n%s", round, s.cmd.Process.Pid, s.errOut.String())
	}
	killAll(pr.orphanPIDs)
}

// checkNoneLeft: once the last supervisor has stopped, no process of the
// test's may be left.
func (c *chaos) checkNoneLeft() {
	c.t.Helper()
	var left []string
	var pids []int
	for _, p := range c.scan().marked {
		left = append(left, fmt.Sprintf("%d %q (ppid %d)", p.pid, p.argv, p.ppid))
		pids = append(pids, p.pid)
	}
	if len(left) > 0 {
		c.tally.orphans += len(left)
		c.t.Errorf("after sup term, left running:\n  %s", strings.Join(left, "\n  "))
	}
	killAll(pids)
}

// killAll SIGKILLs pids and waits until they are gone.
func killAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && slices.ContainsFunc(pids, alive) {
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

// alive: pid exists and is not a zombie.
func alive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(st, ')')
	return i > 0 && len(st) > i+2 && st[i+2] != 'Z'
}
