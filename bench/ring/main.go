// Command ring benchmarks tend's gossip ring with real supervisors: it starts
// N `tend sup run` processes on 127.0.0.1 (own temporary roots, every
// listener on a free port), each running small `sleep` services spread over
// a number of service groups, and measures
//
//	steady  gossip bytes/s, RSS and CPU per member once the ring is quiet
//	loads   a new service loaded on one member, until it is in every member's /census
//	configs a `tend config apply` of a big TOML, until every member's /census has that version
//	kills   a member SIGKILLed, until every other member's /census shows it confirmed
//
// It stops every process it started (also on Ctrl-C and on failure) and
// removes its temporary directory. bench/ring/run.sh builds tend and this
// driver and runs it; docs/BENCHMARKS.md ("Ring") explains the figures.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tend-sh/tend/internal/ring"
)

// The memberlist timing tend runs with (internal/ring memberlistConfig,
// cmd/tend/suprun.go): DefaultLANConfig with a 500 ms gossip interval.
const (
	probeInterval    = time.Second
	probeTimeout     = 500 * time.Millisecond
	suspicionMult    = 4
	suspicionMaxMult = 6
	gossipInterval   = 500 * time.Millisecond
	// memberlist's periodic push/pull (DefaultLANConfig; tend sets no
	// Timing.PushPullInterval), scaled with the ring's size above 32
	// members (pushPullInterval below).
	pushPullBase      = 30 * time.Second
	pushPullThreshold = 32
	// tend republishes its ring counters every 10 s (internal/manager
	// ring.go): the rate is taken between the first and the last change a
	// member's counter shows, so the window is longer by two refreshes.
	counterRefresh = 10 * time.Second
)

// pushPullInterval is memberlist's push/pull period in a ring of n
// members (memberlist util.go pushPullScale): the base interval up to 32
// members, times ⌈log2 n − log2 32⌉ + 1 above.
func pushPullInterval(n int) time.Duration {
	if n <= pushPullThreshold {
		return pushPullBase
	}
	m := math.Ceil(math.Log2(float64(n))-math.Log2(pushPullThreshold)) + 1
	return time.Duration(m) * pushPullBase
}

// earlyLongest is the longest a member's early push/pulls go on after its
// start (internal/ring/early.go, at tend's default first delay): the
// steady window opens after it for the last member.
func earlyLongest() time.Duration { return ring.EarlyLongest(ring.DefaultEarlyPushPull) }

type options struct {
	tend          string
	out           string
	n, groups     int
	svcs, seeds   int
	loads         int
	applies       int
	kills         int
	configBytes   int
	poll          time.Duration
	convergePoll  time.Duration
	killPoll      time.Duration
	settle        time.Duration
	steady        time.Duration
	scrape        bool
	gap           time.Duration
	startParallel int
	startGap      time.Duration
	startPaced    bool
	gomaxprocs    int
	convergeMax   time.Duration
	keep          bool
	strict        bool
	label         string
}

func main() {
	var o options
	flag.StringVar(&o.tend, "tend", "", "the tend binary (required)")
	flag.StringVar(&o.out, "out", "", "directory for the results (required)")
	flag.IntVar(&o.n, "n", 50, "ring members (supervisors)")
	flag.IntVar(&o.groups, "groups", 10, "service groups: member i loads into group g(i mod groups)")
	flag.IntVar(&o.svcs, "svcs", 1, "services per member (service ring, ring2, ... each in the member's group)")
	flag.IntVar(&o.seeds, "seeds", 1, "members 2..n join the first SEEDS members")
	flag.IntVar(&o.loads, "loads", 20, "repetitions of the load measurement")
	flag.IntVar(&o.applies, "applies", 10, "repetitions of the config apply measurement")
	flag.IntVar(&o.kills, "kills", 3, "repetitions of the kill measurement (each kill leaves one member less)")
	flag.IntVar(&o.configBytes, "config-bytes", 64<<10, "size of the applied TOML config")
	flag.DurationVar(&o.poll, "poll", 0, "interval of each member's /census poll for loads and configs (0: 2 ms per member, at least 50 ms)")
	flag.DurationVar(&o.convergePoll, "converge-poll", 0, "interval of each member's /census poll while the ring forms (0: 1 s)")
	flag.DurationVar(&o.killPoll, "kill-poll", 0, "interval of each member's /census poll after a kill (0: 1 ms per member, at least 100 ms)")
	flag.DurationVar(&o.settle, "settle", 20*time.Second, "wait after the ring converged before the steady-state window (the window opens no earlier than the longest early push/pulls after the last start, 75 s)")
	flag.DurationVar(&o.steady, "steady", 60*time.Second, "steady-state window, at least; lengthened to one memberlist push/pull interval at N plus 25 s (the interval: 30 s up to 32 members, 60 s at 50, 90 s at 100, 120 s at 200); 0 skips it")
	flag.BoolVar(&o.scrape, "steady-scrape", true, "read every member's /metrics once a second in the steady-state window (false: CPU and memory only, nothing but the ring runs)")
	flag.DurationVar(&o.gap, "gap", time.Second, "pause between repetitions")
	flag.IntVar(&o.startParallel, "start-parallel", 8, "supervisors started at once")
	flag.DurationVar(&o.convergeMax, "converge-timeout", 7*time.Minute, "longest wait for every service in every census after the last supervisor's start")
	flag.DurationVar(&o.startGap, "start-gap", 0, "pause between supervisor starts (then one at a time)")
	flag.BoolVar(&o.startPaced, "start-paced", false, "start the supervisors START-PARALLEL at a time, each batch once the previous one answers /ready (formation still counts from the last start)")
	flag.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS of every supervisor (0: Go's default, the machine's CPUs)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (roots and logs)")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 when a goal is missed")
	flag.StringVar(&o.label, "label", "", "a line for the summary (e.g. the commit measured)")
	aggregate := flag.Bool("aggregate", false, "print the medians of the runs under -out (their metrics.tsv) as a table, and exit")
	flag.Parse()
	if *aggregate {
		if err := aggregateRuns(os.Stdout, o.out); err != nil {
			fmt.Fprintln(os.Stderr, "ring bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.poll == 0 {
		// The census grows with the ring (and holds the 64 KiB config):
		// polling 200 members every 50 ms would cost more CPU than the ring.
		o.poll = max(50*time.Millisecond, time.Duration(o.n)*2*time.Millisecond)
	}
	if o.convergePoll == 0 {
		// While the ring forms every census differs from the last poll's
		// and is encoded again: ~4 ms at 200 members through encoding/json
		// (session 9), so polling all 200 every second took 0.8 of the
		// machine's 2 cores; ~0.3 ms with the census's own encoder
		// (session 10), plus Build's ~0.3 ms: every second is cheap
		// enough now. Each member's formation time is late by up to this
		// interval.
		o.convergePoll = time.Second
	}
	if o.killPoll == 0 {
		// 200 members every 100 ms would be 2,000 requests a second.
		o.killPoll = max(100*time.Millisecond, time.Duration(o.n)*time.Millisecond)
	}
	if o.tend == "" || o.out == "" || o.n < 2 || o.groups < 1 || o.svcs < 1 || o.seeds < 1 || o.seeds >= o.n || o.kills >= o.n-o.seeds {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	b := &bench{o: o, client: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
	}}
	err := b.run(ctx)
	stop()
	b.cleanup()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "ring bench:", err)
		os.Exit(1)
	case o.strict && b.missed:
		os.Exit(1)
	}
}

// member is one supervisor.
type member struct {
	idx                   int // 1-based
	root                  string
	group                 string // service group of its first service
	cmd                   *exec.Cmd
	pid                   int
	id, http, ctl, gossip string
	done                  chan struct{}
	killed                bool
}

type bench struct {
	o        options
	client   *http.Client
	cpuReady []int64 // each member's utime+stime, clock ticks, once all were ready
	work     string
	tag      string // prefix of every sleep argument of this run
	members  []*member
	missed   bool
	sum      [][]string // summary table rows
	notes    []string
	load0    string      // /proc/loadavg once the ring converged
	t0       time.Time   // the first supervisor's start
	tLast    time.Time   // the last supervisor's start
	metrics  [][2]string // name, value: metrics.tsv, for -aggregate
	mu       sync.Mutex
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (b *bench) run(ctx context.Context) error {
	o := b.o
	var err error
	if b.work, err = os.MkdirTemp("", "tend-bench-ring."); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	// sleep 1NNNNNN.MMMM: NNNNNN is this run, MMMM the service.
	b.tag = fmt.Sprintf("1%06d.", (os.Getpid()*7919+int(time.Now().UnixNano()/1e6))%1000000)
	if err := b.start(ctx); err != nil {
		return err
	}
	if err := b.converge(ctx); err != nil {
		return err
	}
	b.load0 = loadavg()
	if o.steady > 0 {
		// The window opens after the settle and after every member's
		// early push/pulls can have ended: they are start-up.
		open := time.Now().Add(o.settle)
		if early := b.tLast.Add(earlyLongest()); early.After(open) {
			open = early
		}
		b.logf("settling %.0f s, then the steady-state window (%s)", time.Until(open).Seconds(), b.steadyWindow())
		if err := sleepCtx(ctx, time.Until(open)); err != nil {
			return err
		}
		if err := b.measureSteady(ctx); err != nil {
			return err
		}
	}
	if o.loads > 0 {
		if err := b.measureLoads(ctx); err != nil {
			return err
		}
	}
	if o.applies > 0 {
		if err := b.measureConfigs(ctx); err != nil {
			return err
		}
	}
	if o.kills > 0 {
		if err := b.measureKills(ctx); err != nil {
			return err
		}
	}
	return b.report()
}

// --- starting and stopping ---------------------------------------------

var startRe = regexp.MustCompile(`msg="tend supervisor starting"`)

// memberlist's log lines (through tend's log) for a failed probe and for a
// suspicion that timed out.
const (
	suspectLine = "memberlist: Suspect "
	failedLine  = "memberlist: Marking "
)

func logField(line, key string) string {
	m := regexp.MustCompile(`\b` + key + `=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

func groupName(i, groups int) string { return "g" + strconv.Itoa(i%groups) }

func svcName(j int) string {
	if j == 0 {
		return "ring"
	}
	return "ring" + strconv.Itoa(j+1)
}

// writePkg writes a package directory whose run hook sleeps with a tag of
// this run, so leftovers can be found.
func (b *bench) writePkg(dir, ident, tag string) error {
	if err := os.MkdirAll(filepath.Join(dir, "hooks"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "IDENT"), []byte(ident+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hooks", "run"), []byte("#!/bin/sh\nexec sleep "+b.tag+tag+"\n"), 0o755)
}

func (b *bench) start(ctx context.Context) error {
	o := b.o
	b.logf("starting %d supervisors (%d groups, %d service(s) each)", o.n, o.groups, o.svcs)
	for i := 1; i <= o.n; i++ {
		m := &member{idx: i, root: filepath.Join(b.work, fmt.Sprintf("m%03d", i)), group: groupName(i, o.groups), done: make(chan struct{})}
		var cfg strings.Builder
		cfg.WriteString("services:\n")
		for j := 0; j < o.svcs; j++ {
			dir := filepath.Join(b.work, "pkgs", fmt.Sprintf("m%03d-%s", i, svcName(j)))
			if err := b.writePkg(dir, "bench/"+svcName(j)+"/1.0.0/20260101000000", fmt.Sprintf("%03d%02d", i, j)); err != nil {
				return err
			}
			fmt.Fprintf(&cfg, "  - pkg: %q\n    group: %s\n", dir, m.group)
		}
		if err := os.MkdirAll(m.root, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(m.root, "tend.yaml"), []byte(cfg.String()), 0o644); err != nil {
			return err
		}
		b.members = append(b.members, m)
	}
	t0 := time.Now()
	b.t0 = t0
	if err := b.startMember(ctx, b.members[0], nil); err != nil {
		return err
	}
	for _, m := range b.members[1:o.seeds] {
		if err := b.startMember(ctx, m, []string{b.members[0].gossip}); err != nil {
			return err
		}
	}
	var seeds []string
	for _, m := range b.members[:o.seeds] {
		seeds = append(seeds, m.gossip)
	}
	if o.startPaced && o.startGap == 0 {
		// Batches of START-PARALLEL, each once the one before answers
		// /ready: hosts do not start 200 supervisors on 2 cores at
		// once, and a batch started while the previous is still
		// starting only starves both.
		rest := b.members[o.seeds:]
		for len(rest) > 0 {
			batch := rest[:min(o.startParallel, len(rest))]
			rest = rest[len(batch):]
			for _, m := range batch {
				if err := b.startMember(ctx, m, seeds); err != nil {
					return err
				}
			}
			for _, m := range batch {
				if err := b.waitReady(ctx, m); err != nil {
					return err
				}
			}
		}
	}
	if o.startGap > 0 {
		for _, m := range b.members[o.seeds:] {
			if err := sleepCtx(ctx, o.startGap); err != nil {
				return err
			}
			if err := b.startMember(ctx, m, seeds); err != nil {
				return err
			}
		}
	}
	sem := make(chan struct{}, o.startParallel)
	errs := make(chan error, o.n)
	var wg sync.WaitGroup
	for _, m := range b.members[o.seeds:] {
		if o.startGap > 0 || o.startPaced {
			break
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- b.startMember(ctx, m, seeds)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	for _, m := range b.members {
		if err := b.waitReady(ctx, m); err != nil {
			return err
		}
	}
	b.logf("all %d ready in %.1f s", o.n, time.Since(t0).Seconds())
	b.cpuReady = b.cpuTicks()
	return nil
}

func (b *bench) startMember(ctx context.Context, m *member, peers []string) error {
	args := []string{"sup", "run", "--root", m.root, "--config", filepath.Join(m.root, "tend.yaml"),
		"--listen-http", "127.0.0.1:0", "--listen-ctl", "127.0.0.1:0", "--listen-gossip", "127.0.0.1:0",
		"--sys-ip-address", "127.0.0.1"}
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	logf, err := os.Create(filepath.Join(m.root, "sup.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(b.o.tend, args...)
	if b.o.gomaxprocs > 0 {
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(b.o.gomaxprocs))
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return err
	}
	// Own process group: Ctrl-C reaches the driver, which stops the
	// supervisors in order. If the driver dies, they get SIGTERM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	b.mu.Lock()
	m.cmd, m.pid = cmd, cmd.Process.Pid
	if now := time.Now(); now.After(b.tLast) {
		b.tLast = now
	}
	b.mu.Unlock()
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if !sent && startRe.MatchString(line) {
				first <- line
				sent = true
			}
		}
		if !sent {
			close(first)
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		cmd.Wait()
		logf.Close()
		close(m.done)
	}()
	select {
	case line, ok := <-first:
		if !ok {
			return fmt.Errorf("member %d exited before starting; see %s", m.idx, logf.Name())
		}
		m.id, m.http, m.ctl, m.gossip = logField(line, "member_id"), logField(line, "http"), logField(line, "ctl"), logField(line, "gossip")
		if m.id == "" || m.http == "" || m.ctl == "" || m.gossip == "" {
			return fmt.Errorf("member %d: no addresses in %q", m.idx, line)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("member %d did not log its listeners in 30 s", m.idx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *bench) waitReady(ctx context.Context, m *member) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _, err := b.get(ctx, m, "/ready"); err == nil && code == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("member %d not ready after 60 s", m.idx)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// cleanup stops every supervisor (SIGTERM, SIGKILL after 30 s), kills the
// services of this run left behind (by killed members) and removes the
// temporary directory.
func (b *bench) cleanup() {
	b.mu.Lock()
	ms := slices.Clone(b.members)
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		if m.cmd == nil || m.cmd.Process == nil {
			continue
		}
		wg.Go(func() {
			select {
			case <-m.done:
				return
			default:
			}
			m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.done:
			case <-time.After(30 * time.Second):
				m.cmd.Process.Kill()
				<-m.done
			}
		})
	}
	wg.Wait()
	if b.tag != "" {
		killSleeps(b.tag, nil)
	}
	if b.work != "" {
		if b.o.keep {
			fmt.Fprintln(os.Stderr, "temporary directory kept:", b.work)
		} else {
			os.RemoveAll(b.work)
		}
	}
}

// killSleeps SIGKILLs this run's `sleep` processes whose argument starts with
// prefix (and, when tags is not nil, ends with one of them). They are the
// services of our supervisors, left behind when one is SIGKILLed.
func killSleeps(prefix string, tags []string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(argv) != 2 || filepath.Base(argv[0]) != "sleep" || !strings.HasPrefix(argv[1], prefix) {
			continue
		}
		if tags != nil && !slices.Contains(tags, strings.TrimPrefix(argv[1], prefix)) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// --- HTTP and polling ----------------------------------------------------

func (b *bench) get(ctx context.Context, m *member, path string) (int, []byte, error) {
	code, body, _, err := b.getTagged(ctx, m, path, "")
	return code, body, err
}

// getTagged is get with If-None-Match: etag (when not ""); it returns the
// response's ETag too.
func (b *bench) getTagged(ctx context.Context, m *member, path, etag string) (int, []byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.http+path, nil)
	if err != nil {
		return 0, nil, "", err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header.Get("ETag"), err
}

// cpuTicks is every member's utime+stime so far, in clock ticks (0 for
// one that exited).
func (b *bench) cpuTicks() []int64 {
	t := make([]int64, len(b.members))
	for i, m := range b.members {
		_, _, t[i] = procStat(m.pid)
	}
	return t
}

// watch polls every member's /census every interval (staggered) until check
// returns true for each or timeout passes; check gets the member's index in
// ms, the body and the time since t0 the body arrived, and is called from
// one goroutine per member. It reports whether every member finished.
func (b *bench) watch(ctx context.Context, ms []*member, t0 time.Time, every, timeout time.Duration, check func(i int, body []byte, at time.Duration) bool) (bool, error) {
	ctx, cancel := context.WithDeadline(ctx, t0.Add(timeout))
	defer cancel()
	var wg sync.WaitGroup
	finished := make([]bool, len(ms))
	for i, m := range ms {
		wg.Go(func() {
			// Stagger the members over one interval.
			next := time.Now().Add(time.Duration(i) * every / time.Duration(len(ms)))
			// The census is sent again only when it changed (ETag):
			// unchanged, the last body is checked again for the time.
			var tag string
			var last []byte
			for {
				if sleepCtx(ctx, time.Until(next)) != nil {
					return
				}
				next = next.Add(every)
				code, body, etag, err := b.getTagged(ctx, m, "/census", tag)
				switch {
				case err != nil:
					continue
				case code == http.StatusNotModified && last != nil:
					body = last
				case code == 200:
					tag, last = etag, body
				default:
					continue
				}
				if check(i, body, time.Since(t0)) {
					finished[i] = true
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return false, err
	}
	return !slices.Contains(finished, false), nil
}

type censusDoc struct {
	Groups map[string]struct {
		ServiceConfig *struct {
			Incarnation uint64 `json:"incarnation"`
		} `json:"service_config"`
		Population map[string]health `json:"population"`
	} `json:"census_groups"`
}

type health struct{ Alive, Suspect, Confirmed, Departed bool }

func (h health) String() string {
	switch {
	case h.Alive:
		return "alive"
	case h.Suspect:
		return "suspect"
	case h.Confirmed:
		return "confirmed"
	case h.Departed:
		return "departed"
	}
	return "?"
}

// converge waits until every member's census shows every service of every
// member alive, and reports when each did, from the last supervisor's start
// (the goal: a ring started together agrees within seconds of its last
// member) and from the first's.
func (b *bench) converge(ctx context.Context) error {
	o := b.o
	want := o.n * o.svcs
	b.logf("waiting for every census to show %d services alive (at most %s)", want, o.convergeMax)
	last := make([]int, len(b.members))
	done := make([]time.Duration, len(b.members))
	// Counting the population entries marked alive, not decoding the
	// census: at 200 members a decode a second each would load the
	// machine the ring runs on. Checked once against a decode below.
	alive := []byte(`"alive":true`)
	// The timeout counts from the last start: on a loaded machine
	// starting 200 supervisors takes minutes.
	ok, err := b.watch(ctx, b.members, b.t0, o.convergePoll, b.tLast.Sub(b.t0)+o.convergeMax, func(i int, body []byte, at time.Duration) bool {
		n := bytes.Count(body, alive)
		last[i] = n
		if n == want {
			done[i] = at
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if !ok {
		// Measured on: the figures below are of a ring that has not
		// agreed (on a loaded machine, members flap suspect and dead).
		b.dump(ctx, "converge")
		b.row(fmt.Sprintf("formation: every service in all %d censuses, s after the last start", o.n), "-", fmt.Sprintf("> %.0f", o.convergeMax.Seconds()), "", b.verdict(false))
		b.note(fmt.Sprintf("the ring did not converge in %s: alive services seen per member %v (want %d); censuses in %s/converge-census", o.convergeMax, last, want, o.out))
		b.metric("formation_timeout", 1)
		b.metric("formation_max_s", o.convergeMax.Seconds())
		b.logf("the ring did not converge in %s; measuring the rest anyway", o.convergeMax)
		return nil
	}
	cpuFormed := b.cpuTicks()
	if _, body, err := b.get(ctx, b.members[0], "/census"); err == nil {
		var doc censusDoc
		n := 0
		if err := json.Unmarshal(body, &doc); err == nil {
			for _, g := range doc.Groups {
				for _, h := range g.Population {
					if h.Alive {
						n++
					}
				}
			}
		}
		if n < want {
			return fmt.Errorf("census of member 1 decodes to %d alive services, the count said %d", n, want)
		}
	}
	f, err := os.Create(filepath.Join(o.out, "formation.tsv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "member\tfrom_first_start_ms\tfrom_last_start_ms")
	lastStart := b.tLast.Sub(b.t0)
	var fromFirst, fromLast []float64
	for i, d := range done {
		fromFirst = append(fromFirst, ms64(d))
		fromLast = append(fromLast, ms64(max(d-lastStart, 0)))
		fmt.Fprintf(f, "%d\t%.0f\t%.0f\n", b.members[i].idx, fromFirst[i], fromLast[i])
	}
	goal := 10 * time.Second
	if o.n > 50 {
		goal = 20 * time.Second
	}
	mx := slices.Max(fromLast)
	b.row(fmt.Sprintf("formation: every service in all %d censuses, s after the last start", o.n), sec(median(fromLast)), sec(mx),
		fmt.Sprintf("max <= %.0f s", goal.Seconds()), b.verdict(mx <= float64(goal.Milliseconds())))
	b.row("    the same, s after the first start", sec(median(fromFirst)), sec(slices.Max(fromFirst)), "", "")
	b.row("    supervisors started (first to last), s", sec(ms64(lastStart)), "", "", "")
	b.metric("formation_p50_s", median(fromLast)/1000)
	b.metric("formation_max_s", mx/1000)
	b.metric("start_spread_s", lastStart.Seconds())
	// What starting and forming cost: the CPU each member used from its
	// start until all were ready, and until the last census was complete.
	// On 2 cores the ring's total is what decides whether it forms.
	var ready, formed []float64
	for i := range b.members {
		ready = append(ready, float64(b.cpuReady[i])/clockTicks)
		formed = append(formed, float64(cpuFormed[i])/clockTicks)
	}
	b.row("    CPU per member until all were ready / until formed, s", fmt.Sprintf("%.2f / %.2f", median(ready), median(formed)), fmt.Sprintf("%.2f / %.2f", slices.Max(ready), slices.Max(formed)), "", "")
	b.note(fmt.Sprintf("formation: all %d supervisors together used %.1f CPU s until all were ready, %.1f until formed", o.n, sumF(ready), sumF(formed)))
	b.metric("cpu_ready_s", median(ready))
	b.metric("cpu_formed_s", median(formed))
	b.logf("converged: every census complete %.1f s after the last start (median member %.1f s)", mx/1000, median(fromLast)/1000)
	return nil
}

// dump saves every live member's /census, /butterfly and /metrics under
// OUT/WHAT-census/, for a look at a failure.
func (b *bench) dump(ctx context.Context, what string) {
	dir := filepath.Join(b.o.out, what+"-census")
	if os.MkdirAll(dir, 0o755) != nil {
		return
	}
	for _, m := range b.alive() {
		for _, p := range []string{"census", "butterfly", "metrics"} {
			if _, body, err := b.get(ctx, m, "/"+p); err == nil {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%03d.%s", m.idx, p)), body, 0o644)
			}
		}
	}
}

// --- (d) and (e): steady state ---------------------------------------------

type sample struct {
	at    time.Time
	bytes map[string]float64 // "direction/kind" -> bytes
}

// parseRingBytes reads the tend_ring_bytes_total samples of a /metrics body.
func parseRingBytes(body []byte) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, "tend_ring_bytes_total{") {
			continue
		}
		end := strings.IndexByte(line, '}')
		if end < 0 {
			continue
		}
		labels := line[len("tend_ring_bytes_total{"):end]
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		dir, kind := label(labels, "direction"), label(labels, "kind")
		out[dir+"/"+kind] = v
	}
	return out
}

func label(labels, name string) string {
	i := strings.Index(labels, name+`="`)
	if i < 0 {
		return ""
	}
	rest := labels[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// procStat returns RssAnon (what the process itself adds to memory: its
// heap and stacks, not the binary's shared pages) and VmRSS in KiB, and
// utime+stime in clock ticks of pid.
func procStat(pid int) (anonKiB, rssKiB int64, ticks int64) {
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for line := range strings.Lines(string(raw)) {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				rssKiB, _ = strconv.ParseInt(f[1], 10, 64)
			} else if len(f) >= 2 && f[0] == "RssAnon:" {
				anonKiB, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(raw, ')'); i > 0 {
			f := strings.Fields(string(raw[i+1:]))
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				s, _ := strconv.ParseInt(f[12], 10, 64)
				ticks = u + s
			}
		}
	}
	return
}

const clockTicks = 100 // USER_HZ on Linux

// span is the seconds rate measures over: between the first and the last
// sample where the counter changed.
func span(ss []sample, f func(map[string]float64) float64) float64 {
	a, z := changeSpan(ss, f)
	if z <= a {
		return 0
	}
	return ss[z].at.Sub(ss[a].at).Seconds()
}

// changeSpan is the indices of the first and the last sample where the
// counter changed, or the first and last sample when it changed less
// than twice.
func changeSpan(ss []sample, f func(map[string]float64) float64) (a, z int) {
	var changes []int
	for k := 1; k < len(ss); k++ {
		if f(ss[k].bytes) != f(ss[k-1].bytes) {
			changes = append(changes, k)
		}
	}
	a, z = 0, len(ss)-1
	if len(changes) >= 2 {
		a, z = changes[0], changes[len(changes)-1]
	}
	return a, z
}

// rate is the counter's growth per second between the first and the last
// sample where it changed: tend republishes some counters only every few
// seconds, so the raw first and last samples would be off by up to that.
func rate(ss []sample, f func(map[string]float64) float64) float64 {
	if len(ss) < 2 {
		return math.NaN()
	}
	a, z := changeSpan(ss, f)
	dt := ss[z].at.Sub(ss[a].at).Seconds()
	if dt <= 0 {
		return 0
	}
	return (f(ss[z].bytes) - f(ss[a].bytes)) / dt
}

// steadyWindow is the steady-state window: -steady, lengthened to one
// memberlist push/pull interval at this ring's size plus two counter
// refreshes and 5 s, so that every member's counter changes span at least
// the interval. memberlist staggers each member's push/pull over the
// interval, so a shorter window holds one for some members and none for
// others, and its median member says which happened to be more (at 50
// members in session 9: 1,547 B/s; at 100: 286 B/s). Over a whole
// interval every member starts its one exchange and, on average, answers
// one, so the mean over the members is the steady cost per member.
func (b *bench) steadyWindow() time.Duration {
	return max(b.o.steady, pushPullInterval(len(b.alive()))+2*counterRefresh+5*time.Second)
}

func (b *bench) measureSteady(ctx context.Context) error {
	o := b.o
	o.steady = b.steadyWindow()
	pp := pushPullInterval(len(b.alive()))
	ms := b.alive()
	samples := make([][]sample, len(ms))
	rss := make([]int64, len(ms))
	anon := make([]int64, len(ms))
	ticks0 := make([]int64, len(ms))
	ticks1 := make([]int64, len(ms))
	for i, m := range ms {
		_, _, ticks0[i] = procStat(m.pid)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, m := range ms {
		if !o.scrape {
			break
		}
		wg.Go(func() {
			next := time.Now().Add(time.Duration(i) * time.Second / time.Duration(len(ms)))
			for {
				if sleepCtx(ctx, time.Until(next)) != nil {
					return
				}
				next = next.Add(time.Second)
				code, body, err := b.get(ctx, m, "/metrics")
				if err == nil && code == 200 {
					samples[i] = append(samples[i], sample{at: time.Now(), bytes: parseRingBytes(body)})
				}
				if time.Since(t0) >= o.steady {
					return
				}
			}
		})
	}
	if !o.scrape {
		_ = sleepCtx(ctx, o.steady)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	wall := time.Since(t0).Seconds()
	for i, m := range ms {
		anon[i], rss[i], ticks1[i] = procStat(m.pid)
	}

	wire := false
	for _, ss := range samples {
		for _, s := range ss {
			for k := range s.bytes {
				if strings.HasSuffix(k, "/wire") {
					wire = true
				}
			}
		}
	}
	sumDir := func(dir string) func(map[string]float64) float64 {
		return func(m map[string]float64) float64 {
			t := 0.0
			for k, v := range m {
				d, kind, _ := strings.Cut(k, "/")
				if d != dir {
					continue
				}
				if wire && kind == "wire" || !wire && kind != "wire" {
					t += v
				}
			}
			return t
		}
	}
	series := "sum of every kind (rumors, pushpull; memberlist's probes and gossip headers not counted)"
	if wire {
		series = `kind="wire" (every UDP/TCP byte on the gossip port)`
	}
	kinds := map[string][]float64{}
	var sent, recv, total, spans, rssMiB, anonMiB, cpu []float64
	f, err := os.Create(filepath.Join(o.out, "steady.tsv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "member\tsent_Bps\treceived_Bps\ttotal_Bps\tspan_s\trss_anon_KiB\trss_KiB\tcpu_pct\tsamples")
	for i, m := range ms {
		s, r := rate(samples[i], sumDir("sent")), rate(samples[i], sumDir("received"))
		sp := span(samples[i], func(m map[string]float64) float64 { return sumDir("sent")(m) + sumDir("received")(m) })
		spans = append(spans, sp)
		c := float64(ticks1[i]-ticks0[i]) / clockTicks / wall * 100
		sent, recv, total = append(sent, s), append(recv, r), append(total, s+r)
		rssMiB = append(rssMiB, float64(rss[i])/1024)
		anonMiB = append(anonMiB, float64(anon[i])/1024)
		cpu = append(cpu, c)
		fmt.Fprintf(f, "%d\t%.0f\t%.0f\t%.0f\t%.1f\t%d\t%d\t%.2f\t%d\n", m.idx, s, r, s+r, sp, anon[i], rss[i], c, len(samples[i]))
		if len(samples[i]) > 0 {
			for k := range samples[i][0].bytes {
				kinds[k] = append(kinds[k], rate(samples[i], func(m map[string]float64) float64 { return m[k] }))
			}
		}
	}
	if o.scrape {
		b.row("(d) gossip bytes/s per member, sent+received, MEAN over members (window >= 1 push/pull interval)", fmt.Sprintf("%.0f", mean(total)), fmt.Sprintf("%.0f", slices.Max(total)), "mean <= 1500", b.verdict(mean(total) <= 1500))
		b.row("    sent / received, mean", fmt.Sprintf("%.0f / %.0f", mean(sent), mean(recv)), fmt.Sprintf("%.0f / %.0f", slices.Max(sent), slices.Max(recv)), "", "")
		b.row("    the median member, same window", fmt.Sprintf("%.0f", median(total)), "", "", "")
	}
	b.row("(e) RssAnon per member, MiB", fmt.Sprintf("%.1f", median(anonMiB)), fmt.Sprintf("%.1f", slices.Max(anonMiB)), "median <= 10", b.verdict(median(anonMiB) <= 10))
	b.row("    RSS (with the binary's pages) per member, MiB", fmt.Sprintf("%.1f", median(rssMiB)), fmt.Sprintf("%.1f", slices.Max(rssMiB)), "", "")
	b.row("    CPU per member, % of one core", fmt.Sprintf("%.2f", median(cpu)), fmt.Sprintf("%.2f", slices.Max(cpu)), "", "")
	if o.scrape {
		b.note(fmt.Sprintf("(d) series: tend_ring_bytes_total %s; %.0f s window (memberlist's push/pull interval at %d members: %.0f s), every /metrics read once a second, each member's rate between the first and last change of its counter (over %.0f–%.0f s, median %.0f s: tend refreshes the counters every %.0f s)",
			series, wall, len(ms), pp.Seconds(), slices.Min(spans), slices.Max(spans), median(spans), counterRefresh.Seconds()))
		if short := len(slices.DeleteFunc(slices.Clone(spans), func(s float64) bool { return s >= pp.Seconds() })); short > 0 {
			b.note(fmt.Sprintf("(d) WARNING: %d members' rates span less than one push/pull interval (%.0f s): lengthen -steady", short, pp.Seconds()))
		}
		var ks []string
		for k, v := range kinds {
			if avg := mean(v); avg > 0 {
				ks = append(ks, fmt.Sprintf("%s %.0f", k, avg))
			}
		}
		slices.Sort(ks)
		b.note("(d) mean bytes/s per member by direction/kind: " + strings.Join(ks, ", "))
		b.metric("wire_Bps_mean", mean(total))
		b.metric("wire_Bps_median", median(total))
		b.metric("steady_window_s", wall)
	} else {
		b.note(fmt.Sprintf("(e) %.0f s window with no request to the members (-steady-scrape=false): what the ring costs by itself", wall))
	}
	b.note(fmt.Sprintf("(d,e) all %d supervisors together: %.2f cores, %.0f MiB RssAnon", len(ms), sumF(cpu)/100, sumF(anonMiB)))
	b.metric("rss_anon_mib", median(anonMiB))
	b.metric("cpu_pct", median(cpu))
	b.logf("steady: %.0f B/s per member (mean; median member %.0f), RssAnon %.1f MiB, CPU %.2f %% (medians)", mean(total), median(total), median(anonMiB), median(cpu))
	return nil
}

// --- (a): a new service reaches every census ------------------------------

func (b *bench) measureLoads(ctx context.Context) error {
	o := b.o
	ms := b.alive()
	f, err := os.Create(filepath.Join(o.out, "loads.tsv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "rep\torigin\tmember\tms")
	var all, per, cli []float64
	b.logf("(a) %d loads of a new service, each until it is in all %d censuses", o.loads, len(ms))
	for r := 1; r <= o.loads; r++ {
		origin := ms[(r*7)%len(ms)]
		name := fmt.Sprintf("probe%02d", r)
		dir := filepath.Join(b.work, "pkgs", name)
		if err := b.writePkg(dir, "bench/"+name+"/1.0.0/20260101000000", fmt.Sprintf("9%03d", r)); err != nil {
			return err
		}
		key := []byte(`"` + name + `.default":{`)
		seen := make([]time.Duration, len(ms))
		t0 := time.Now()
		cliErr := make(chan error, 1)
		var cliTook time.Duration
		go func() {
			err := b.tendCLI(ctx, origin, "svc", "load", dir)
			cliTook = time.Since(t0)
			cliErr <- err
		}()
		ok, err := b.watch(ctx, ms, t0, o.poll, 30*time.Second, func(i int, body []byte, at time.Duration) bool {
			if bytes.Contains(body, key) {
				seen[i] = at
				return true
			}
			return false
		})
		if e := <-cliErr; e != nil {
			return fmt.Errorf("load %s on member %d: %w", name, origin.idx, e)
		}
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("load %d: %s not in every census after 30 s", r, name)
		}
		for i, m := range ms {
			fmt.Fprintf(f, "%d\t%d\t%d\t%.1f\n", r, origin.idx, m.idx, ms64(seen[i]))
			per = append(per, ms64(seen[i]))
		}
		mx := ms64(slices.Max(seen))
		all, cli = append(all, mx), append(cli, ms64(cliTook))
		b.logf("  load %2d on member %2d: in all censuses after %.0f ms (CLI %.0f ms, median member %.0f ms)", r, origin.idx, mx, ms64(cliTook), median(durMs(seen)))
		if err := sleepCtx(ctx, o.gap); err != nil {
			return err
		}
	}
	p99 := pct(all, 0.99)
	b.row(fmt.Sprintf("(a) load -> in all %d censuses, s (%d loads)", len(ms), o.loads), sec(median(all)), sec(p99), "p99 <= 2 s", b.verdict(p99 <= 2000))
	b.row(fmt.Sprintf("    per member, s (%d appearances)", len(per)), sec(median(per)), sec(pct(per, 0.99)), "", "")
	b.row("    CLI `svc load` until up, s", sec(median(cli)), sec(pct(cli, 0.99)), "", "")
	return nil
}

// --- (b): a big config reaches every census ---------------------------------

// bigTOML is a valid TOML document of at most n bytes: many short string keys.
func bigTOML(n, version int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "version = %d\n", version)
	for k := 0; ; k++ {
		line := fmt.Sprintf("k%05d = %q\n", k, strings.Repeat("x", 60))
		if buf.Len()+len(line) > n {
			break
		}
		buf.WriteString(line)
	}
	return buf.Bytes()
}

// configInc finds the incarnation of group's service_config in a /census
// body without decoding it all (the config's value is most of the body):
// the census group object starts with its key and has service_config
// before the population. -1 when the group is missing, 0 when no config.
func configInc(body []byte, group string) int64 {
	i := bytes.Index(body, []byte(`"`+group+`":{`))
	if i < 0 {
		return -1
	}
	rest := body[i:]
	j := bytes.Index(rest, []byte(`"service_config":`))
	if j < 0 {
		return -1
	}
	rest = rest[j+len(`"service_config":`):]
	const pre = `{"incarnation":`
	if !bytes.HasPrefix(rest, []byte(pre)) {
		return 0
	}
	rest = rest[len(pre):]
	k := bytes.IndexAny(rest, ",}")
	if k < 0 {
		return -1
	}
	v, err := strconv.ParseInt(string(rest[:k]), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func (b *bench) measureConfigs(ctx context.Context) error {
	o := b.o
	ms := b.alive()
	group := "ring." + groupName(1, o.groups)
	f, err := os.Create(filepath.Join(o.out, "configs.tsv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "rep\torigin\tmember\tms")
	var all, per, cli []float64
	size := 0
	b.logf("(b) %d applies of a %d-byte config to %s, each until its version is in all %d censuses", o.applies, o.configBytes, group, len(ms))
	for r := 1; r <= o.applies; r++ {
		origin := ms[(r*13)%len(ms)]
		body := bigTOML(o.configBytes, r)
		size = len(body)
		file := filepath.Join(b.work, fmt.Sprintf("config-%d.toml", r))
		if err := os.WriteFile(file, body, 0o644); err != nil {
			return err
		}
		seen := make([]time.Duration, len(ms))
		t0 := time.Now()
		cliErr := make(chan error, 1)
		var cliTook time.Duration
		go func() {
			err := b.tendCLI(ctx, origin, "config", "apply", group, strconv.Itoa(r), file)
			cliTook = time.Since(t0)
			cliErr <- err
		}()
		ok, err := b.watch(ctx, ms, t0, o.poll, 30*time.Second, func(i int, body []byte, at time.Duration) bool {
			if configInc(body, group) >= int64(r) {
				seen[i] = at
				return true
			}
			return false
		})
		if e := <-cliErr; e != nil {
			return fmt.Errorf("config apply %d on member %d: %w", r, origin.idx, e)
		}
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("config apply %d: version not in every census after 30 s", r)
		}
		for i, m := range ms {
			fmt.Fprintf(f, "%d\t%d\t%d\t%.1f\n", r, origin.idx, m.idx, ms64(seen[i]))
			per = append(per, ms64(seen[i]))
		}
		mx := ms64(slices.Max(seen))
		all, cli = append(all, mx), append(cli, ms64(cliTook))
		b.logf("  apply %2d on member %2d: in all censuses after %.0f ms (CLI %.0f ms, median member %.0f ms)", r, origin.idx, mx, ms64(cliTook), median(durMs(seen)))
		if err := sleepCtx(ctx, o.gap); err != nil {
			return err
		}
	}
	// Check the shortcut of configInc once against a full decode.
	if _, body, err := b.get(ctx, ms[0], "/census"); err == nil {
		var doc censusDoc
		if err := json.Unmarshal(body, &doc); err != nil || doc.Groups[group].ServiceConfig == nil || doc.Groups[group].ServiceConfig.Incarnation != uint64(o.applies) {
			return fmt.Errorf("census of member %d does not decode to config version %d of %s", ms[0].idx, o.applies, group)
		}
	}
	p99 := pct(all, 0.99)
	b.row(fmt.Sprintf("(b) %d-byte config apply -> all %d, s (%d applies)", size, len(ms), o.applies), sec(median(all)), sec(p99), "p99 <= 5 s", b.verdict(p99 <= 5000))
	b.metric("config_p50_s", median(all)/1000)
	b.metric("config_p99_s", p99/1000)
	b.row(fmt.Sprintf("    per member, s (%d)", len(per)), sec(median(per)), sec(pct(per, 0.99)), "", "")
	b.row("    CLI `config apply` returns, s", sec(median(cli)), sec(pct(cli, 0.99)), "", "")
	return nil
}

// --- (c): a killed member is confirmed by all ---------------------------------

// memberHealth finds the victim's population entry in a /census body (the
// first group it is in) and decodes only that object.
func memberHealth(body []byte, id string) (health, bool) {
	key := []byte(`"` + id + `":{`)
	i := bytes.Index(body, key)
	if i < 0 {
		return health{}, false
	}
	var h health
	if err := json.NewDecoder(bytes.NewReader(body[i+len(key)-1:])).Decode(&h); err != nil {
		return health{}, false
	}
	return h, true
}

func suspicionTimeouts(n int) (lo, hi time.Duration) {
	scale := math.Max(1, math.Log10(float64(n)))
	lo = time.Duration(float64(suspicionMult) * scale * float64(probeInterval))
	return lo, suspicionMaxMult * lo
}

func (b *bench) measureKills(ctx context.Context) error {
	o := b.o
	f, err := os.Create(filepath.Join(o.out, "kills.tsv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "rep\tvictim\tmembers\tmember\tfirst_suspect_ms\tconfirmed_ms")
	var all, firstSus, sawSus []float64
	var bound time.Duration
	b.logf("(c) %d kills, each until every other member's census shows the victim confirmed", o.kills)
	for r := 1; r <= o.kills; r++ {
		victim := b.members[len(b.members)-r]
		ms := b.alive()
		n := len(ms) // memberlist's n when the victim is suspected
		others := slices.DeleteFunc(slices.Clone(ms), func(m *member) bool { return m == victim })
		lo, hi := suspicionTimeouts(n)
		bound = max(bound, 2*probeInterval+hi)
		suspect := make([]time.Duration, len(others))
		confirmed := make([]time.Duration, len(others))
		t0 := time.Now()
		victim.cmd.Process.Kill()
		<-victim.done
		victim.killed = true
		var tags []string
		for j := 0; j < o.svcs; j++ {
			tags = append(tags, fmt.Sprintf("%03d%02d", victim.idx, j))
		}
		killSleeps(b.tag, tags)
		ok, err := b.watch(ctx, others, t0, o.killPoll, 120*time.Second, func(i int, body []byte, at time.Duration) bool {
			h, found := memberHealth(body, victim.id)
			if !found {
				return false
			}
			if h.Suspect && suspect[i] == 0 {
				suspect[i] = at
			}
			if h.Confirmed {
				confirmed[i] = at
				return true
			}
			return false
		})
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("kill %d: member %d not confirmed by every member after 120 s", r, victim.idx)
		}
		var sus []time.Duration
		for i, m := range others {
			fmt.Fprintf(f, "%d\t%d\t%d\t%d\t%.0f\t%.0f\n", r, victim.idx, n, m.idx, ms64(suspect[i]), ms64(confirmed[i]))
			if suspect[i] > 0 {
				sus = append(sus, suspect[i])
			}
		}
		mx := ms64(slices.Max(confirmed))
		all = append(all, mx)
		fs := math.NaN()
		if len(sus) > 0 {
			fs = ms64(slices.Min(sus))
		}
		firstSus = append(firstSus, fs)
		sawSus = append(sawSus, float64(len(sus)))
		b.logf("  kill %d (member %d of %d): first suspect %.1f s (%d members ever showed suspect), first confirmed %.1f s, all confirmed %.1f s; suspicion timeout %.1f..%.1f s",
			r, victim.idx, n, fs/1000, len(sus), ms64(slices.Min(confirmed))/1000, mx/1000, lo.Seconds(), hi.Seconds())
		if err := sleepCtx(ctx, o.gap); err != nil {
			return err
		}
	}
	lo, hi := suspicionTimeouts(o.n)
	p99 := pct(all, 0.99)
	b.row(fmt.Sprintf("(c) SIGKILL -> confirmed by all others, s (%d kills)", o.kills), sec(median(all)), sec(p99),
		fmt.Sprintf("<= %.1f s", bound.Seconds()), b.verdict(p99 <= float64(bound.Milliseconds())))
	b.metric("kill_confirmed_s", median(all)/1000)
	b.row("    SIGKILL -> first member shows suspect, s", sec(median(firstSus)), sec(pct(firstSus, 1)), "", "")
	b.row("    members that ever showed suspect", fmt.Sprintf("%.0f", median(sawSus)), fmt.Sprintf("%.0f", slices.Max(sawSus)), "", "")
	b.note(fmt.Sprintf("(c) goal: 2 probe intervals to detect + memberlist's longest suspicion timeout (%d x %d x log10(n) x %s = %.1f s at n = %d; %.1f s with enough confirmations)",
		suspicionMaxMult, suspicionMult, probeInterval, hi.Seconds(), o.n, lo.Seconds()))
	return nil
}

// --- running the CLI -----------------------------------------------------

func (b *bench) tendCLI(ctx context.Context, m *member, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	full := append(slices.Clone(args), "--remote-sup", m.ctl, "--root", m.root)
	cmd := exec.CommandContext(ctx, b.o.tend, full...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("tend %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// --- results --------------------------------------------------------------

func (b *bench) alive() []*member {
	var ms []*member
	for _, m := range b.members {
		if !m.killed {
			ms = append(ms, m)
		}
	}
	return ms
}

func (b *bench) verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	b.missed = true
	return "FAIL"
}

func (b *bench) row(cells ...string) { b.sum = append(b.sum, cells) }
func (b *bench) note(s string)       { b.notes = append(b.notes, s) }

func (b *bench) report() error {
	o := b.o
	// A loaded machine delays probes past their timeout: members suspect
	// and declare dead members that are fine, and a census misses them
	// until they refute it. Counted from every supervisor's log.
	sus, failed := 0, 0
	for _, m := range b.members {
		raw, _ := os.ReadFile(filepath.Join(m.root, "sup.log"))
		sus += bytes.Count(raw, []byte(suspectLine))
		failed += bytes.Count(raw, []byte(failedLine))
	}
	b.metric("suspicions", float64(sus))
	b.metric("declared_failed", float64(failed))
	b.note(fmt.Sprintf("memberlist over the whole run, all members' logs: %d suspicions, %d members declared failed (%d were SIGKILLed on purpose)", sus, failed, o.kills))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tend ring benchmark, %s, %s/%s, %d CPUs\n", time.Now().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if o.label != "" {
		fmt.Fprintln(&buf, o.label)
	}
	fmt.Fprintf(&buf, "%d members on 127.0.0.1, %d service groups, %d service(s) per member, %d seed(s); load average %s after converging, %s at the end\n",
		o.n, o.groups, o.svcs, o.seeds, b.load0, loadavg())
	fmt.Fprintf(&buf, "memberlist DefaultLANConfig (probe %s, probe timeout %s, suspicion mult %d, max timeout mult %d) with gossip interval %s\n",
		probeInterval, probeTimeout, suspicionMult, suspicionMaxMult, gossipInterval)
	fmt.Fprintf(&buf, "census polled every %s while forming, %s (loads, configs) and %s (kills), with If-None-Match; times are when the first response showing the change arrived\n", o.convergePoll, o.poll, o.killPoll)
	start := fmt.Sprintf("%d at a time", o.startParallel)
	if o.startPaced {
		start += ", each batch once the previous one answered /ready"
	}
	if o.gomaxprocs > 0 {
		start += fmt.Sprintf("; GOMAXPROCS=%d", o.gomaxprocs)
	}
	fmt.Fprintf(&buf, "supervisors started %s\n\n", start)
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tmedian\tp99/max\tgoal\t")
	for _, r := range b.sum {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(&buf)
	for _, n := range b.notes {
		fmt.Fprintln(&buf, n)
	}
	os.Stdout.Write(buf.Bytes())
	if err := os.WriteFile(filepath.Join(o.out, "summary.txt"), buf.Bytes(), 0o644); err != nil {
		return err
	}
	var mt bytes.Buffer
	fmt.Fprintf(&mt, "n\t%d\nload_converged\t%s\nload_end\t%s\n", o.n, b.load0, loadavg())
	for _, kv := range b.metrics {
		fmt.Fprintf(&mt, "%s\t%s\n", kv[0], kv[1])
	}
	return os.WriteFile(filepath.Join(o.out, "metrics.tsv"), mt.Bytes(), 0o644)
}

// metric records one figure of this run for -aggregate.
func (b *bench) metric(name string, v float64) {
	b.metrics = append(b.metrics, [2]string{name, strconv.FormatFloat(v, 'f', 3, 64)})
}

// aggregateRuns reads DIR/*/metrics.tsv and prints, per ring size, the
// median of each figure over the runs (and the runs' range).
func aggregateRuns(w io.Writer, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*", "metrics.tsv"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no */metrics.tsv under %s", dir)
	}
	// wire_Bps is the figure before session 10 (the median member over a
	// 40 s window, often without its push/pull): shown only for old runs.
	cols := []string{"formation_p50_s", "formation_max_s", "formation_timeout", "config_p50_s", "config_p99_s", "kill_confirmed_s", "wire_Bps_mean", "wire_Bps_median", "wire_Bps", "steady_window_s", "rss_anon_mib", "cpu_pct", "start_spread_s", "cpu_ready_s", "cpu_formed_s", "suspicions", "declared_failed"}
	bySize := map[int]map[string][]float64{}
	loads := map[int][]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		kv := map[string]string{}
		for line := range strings.Lines(string(raw)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "\t")
			kv[k] = v
		}
		n, err := strconv.Atoi(kv["n"])
		if err != nil {
			return fmt.Errorf("%s: no n", f)
		}
		if bySize[n] == nil {
			bySize[n] = map[string][]float64{}
		}
		for _, c := range cols {
			if v, err := strconv.ParseFloat(kv[c], 64); err == nil {
				bySize[n][c] = append(bySize[n][c], v)
			}
		}
		loads[n] = append(loads[n], kv["load_converged"]+"/"+kv["load_end"])
	}
	cols = slices.DeleteFunc(cols, func(c string) bool {
		for _, m := range bySize {
			if len(m[c]) > 0 {
				return false
			}
		}
		return true
	})
	sizes := slices.Sorted(maps.Keys(bySize))
	fmt.Fprintf(w, "| members | runs | %s | load (converged/end) |\n", strings.Join(cols, " | "))
	fmt.Fprintf(w, "|---:|---:|%s---|\n", strings.Repeat("---:|", len(cols)))
	for _, n := range sizes {
		var cells []string
		runs := 0
		for _, c := range cols {
			v := bySize[n][c]
			runs = max(runs, len(v))
			if len(v) == 0 {
				cells = append(cells, "–")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.3g (%.3g–%.3g)", median(v), slices.Min(v), slices.Max(v)))
		}
		fmt.Fprintf(w, "| %d | %d | %s | %s |\n", n, runs, strings.Join(cells, " | "), strings.Join(loads[n], ", "))
	}
	return nil
}

// loadavg is the 1-minute load average: the machine may be shared.
func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func durMs(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms64(d)
	}
	return out
}

func sec(ms float64) string { return fmt.Sprintf("%.2f", ms/1000) }

func sumF(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

// mean of v, NaNs (members with too few samples) left out.
func mean(v []float64) float64 {
	s := slices.DeleteFunc(slices.Clone(v), math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	return sumF(s) / float64(len(s))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	s = slices.DeleteFunc(s, math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pct is the nearest-rank percentile p (0..1).
func pct(v []float64, p float64) float64 {
	s := slices.Clone(v)
	s = slices.DeleteFunc(s, math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(k, 0)]
}
