// Command election benchmarks tend's leader election and rolling updates
// with real supervisors (docs/BENCHMARKS.md, issue 13): it starts N `tend
// sup run` on 127.0.0.1 (own temporary roots, every listener on a free
// port) running one leader-topology service and one rolling-update service,
// and measures
//
//	failover  the leader's supervisor SIGKILLed, until every other member's
//	          /census shows a Finished election with a new leader at a
//	          higher term (then the killed member is started again)
//	roll      a new release dropped into the shared update source, until
//	          every member's /services runs it and is up
//
// It stops every process it started (also on Ctrl-C and on failure) and
// removes its temporary directory. bench/election/run.sh builds tend and
// this driver and runs it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type member struct {
	idx               int
	root              string
	http, gossip, ctl string
	cmd               *exec.Cmd
	done              chan struct{}
	id                string
}

type bench struct {
	tend, work, source, tag string
	n                       int
	fresh                   bool
	members                 []*member
	client                  *http.Client
}

const (
	leaderSvc = "elect"
	rollSvc   = "roll"
)

func main() {
	tend := flag.String("tend", "", "the tend binary (required)")
	out := flag.String("out", "", "file for the results, TSV (required)")
	n := flag.Int("n", 5, "ring members")
	trials := flag.Int("trials", 20, "leader kills")
	rolls := flag.Int("rolls", 3, "rolling updates")
	fresh := flag.Bool("fresh", false, "restart a killed member without the rumors it persisted (as a replacement would), not over its whole state")
	flag.Parse()
	if *tend == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "tend-bench-election.")
	if err != nil {
		fatal(err)
	}
	b := &bench{fresh: *fresh, tend: *tend, work: work, source: filepath.Join(work, "source"), n: *n,
		tag: fmt.Sprintf("9%06d", os.Getpid()%1000000), client: &http.Client{Timeout: 2 * time.Second}}
	err = b.run(ctx, *out, *trials, *rolls)
	b.stopAll()
	os.RemoveAll(work)
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "election bench:", err)
	os.Exit(1)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func (b *bench) run(ctx context.Context, out string, trials, rolls int) error {
	if err := os.MkdirAll(b.source, 0o755); err != nil {
		return err
	}
	for i := 0; i < b.n; i++ {
		m := &member{idx: i, root: filepath.Join(b.work, fmt.Sprintf("m%d", i))}
		b.members = append(b.members, m)
		var peers []string
		if i > 0 {
			peers = []string{b.members[0].gossip}
		}
		if err := b.start(ctx, m, peers); err != nil {
			return err
		}
	}
	// The leader service and the first release of the rolling one.
	for _, m := range b.members {
		for _, p := range []struct{ name, version string }{{leaderSvc, "1"}, {rollSvc, "1"}} {
			dir := filepath.Join(b.work, "pkg", fmt.Sprintf("%s-%s-%d", p.name, p.version, m.idx))
			if err := b.writePkg(dir, p.name, p.version, m.idx); err != nil {
				return err
			}
			if err := b.cli(m, "pkg", "install", dir); err != nil {
				return err
			}
		}
		if err := b.cli(m, "svc", "load", "bench/"+leaderSvc, "--topology", "leader", "--remote-sup", m.ctl); err != nil {
			return err
		}
		if err := b.cli(m, "svc", "load", "bench/"+rollSvc, "--strategy", "rolling", "--remote-sup", m.ctl); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "measure\ttrial\tseconds")
	var failovers, rollTimes []float64
	defer func() {
		summary("failover (leader SIGKILL to a new Finished election on every other member)", failovers)
		summary("roll (release dropped into the source to every member up on it)", rollTimes)
	}()
	sg := leaderSvc + ".default"
	for t := 1; t <= trials; t++ {
		leader, term, err := b.agree(ctx, b.members, sg, "", -1, 120*time.Second)
		if err != nil {
			return err
		}
		victim := b.byID(leader)
		rest := slices.DeleteFunc(slices.Clone(b.members), func(m *member) bool { return m == victim })
		t0 := time.Now()
		victim.cmd.Process.Kill()
		<-victim.done
		killSleeps(b.tag + strconv.Itoa(victim.idx))
		newLeader, newTerm, err := b.agree(ctx, rest, sg, leader, int64(term), 120*time.Second)
		if err != nil {
			return err
		}
		d := time.Since(t0)
		fmt.Fprintf(f, "failover\t%d\t%.3f\n", t, d.Seconds())
		failovers = append(failovers, d.Seconds())
		b.logf("failover %d: leader %s (term %d) killed; %s leads at term %d on every member after %.2f s", t, short(leader), term, short(newLeader), newTerm, d.Seconds())
		if b.fresh {
			if err := os.Remove(filepath.Join(victim.root, "sup", "default", "data", "rumors.json")); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		if err := b.start(ctx, victim, []string{rest[0].gossip}); err != nil {
			return err
		}
	}
	rsg := rollSvc
	for r := 2; r <= rolls+1; r++ {
		for _, m := range b.members {
			if err := b.waitUp(ctx, m, rsg, fmt.Sprint(r-1), 120*time.Second); err != nil {
				return err
			}
		}
		dir := filepath.Join(b.work, "pkg", fmt.Sprintf("%s-%d", rollSvc, r))
		if err := b.writePkg(dir, rollSvc, fmt.Sprint(r), 0); err != nil {
			return err
		}
		t0 := time.Now()
		if err := os.Rename(dir, filepath.Join(b.source, filepath.Base(dir))); err != nil {
			return err
		}
		for _, m := range b.members {
			if err := b.waitUp(ctx, m, rsg, fmt.Sprint(r), 300*time.Second); err != nil {
				return err
			}
		}
		d := time.Since(t0)
		fmt.Fprintf(f, "roll\t%d\t%.3f\n", r-1, d.Seconds())
		rollTimes = append(rollTimes, d.Seconds())
		b.logf("roll to %d: %d members on it after %.2f s", r, b.n, d.Seconds())
	}
	return nil
}

// summary prints the count, p50, p99 (nearest rank) and extremes of xs.
func summary(what string, xs []float64) {
	if len(xs) == 0 {
		return
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	fmt.Printf("%s: n=%d p50=%.2fs p99=%.2fs min=%.2fs max=%.2fs\n", what, len(s), rank(0.5), rank(0.99), s[0], s[len(s)-1])
}

func short(id string) string { return id[:min(8, len(id))] }

// writePkg writes release version of package name; its run hook sleeps
// with a tag naming the bench run and the member (for killSleeps).
func (b *bench) writePkg(dir, name, version string, idx int) error {
	if err := os.MkdirAll(filepath.Join(dir, "hooks"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "IDENT"), []byte("bench/"+name+"/"+version+".0.0/20260101000000\n"), 0o644); err != nil {
		return err
	}
	run := "#!/bin/sh\nexec sleep " + b.tag + strconv.Itoa(idx) + "\n"
	return os.WriteFile(filepath.Join(dir, "hooks", "run"), []byte(run), 0o755)
}

var startRe = regexp.MustCompile(`msg="tend supervisor starting"`)

func field(line, key string) string {
	m := regexp.MustCompile(`\b` + key + `=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

// start runs `tend sup run` for m and waits until it is ready.
func (b *bench) start(ctx context.Context, m *member, peers []string) error {
	// A member started again keeps its addresses, as a supervisor on a
	// host does: memberlist does not let a dead member's name come back at
	// another address.
	addr := func(a string) string {
		if a == "" {
			return "127.0.0.1:0"
		}
		return a
	}
	args := []string{"sup", "run", "--root", m.root,
		"--listen-http", addr(m.http), "--listen-ctl", addr(m.ctl), "--listen-gossip", addr(m.gossip),
		"--update-source", b.source, "--service-update-period", "1s"}
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	cmd := exec.Command(b.tend, args...)
	cmd.Env = append(os.Environ(), "TEND_ROOT="+m.root)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd, m.done = cmd, make(chan struct{})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if !sent && startRe.MatchString(sc.Text()) {
				first <- sc.Text()
				sent = true
			}
		}
		if !sent {
			close(first)
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(m.done) }()
	select {
	case line, ok := <-first:
		if !ok {
			return fmt.Errorf("member %d exited before starting", m.idx)
		}
		m.http, m.gossip, m.ctl, m.id = field(line, "http"), field(line, "gossip"), field(line, "ctl"), field(line, "member_id")
	case <-time.After(60 * time.Second):
		return fmt.Errorf("member %d did not start", m.idx)
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.poll(ctx, 60*time.Second, "member ready", func() bool {
		code, _ := b.get(m, "/ready")
		return code == 200
	})
}

func (b *bench) stopAll() {
	for _, m := range b.members {
		if m.cmd != nil && m.cmd.ProcessState == nil {
			m.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, m := range b.members {
		if m.done == nil {
			continue
		}
		select {
		case <-m.done:
		case <-time.After(30 * time.Second):
			m.cmd.Process.Kill()
			<-m.done
		}
	}
	killSleeps(b.tag)
}

// killSleeps SIGKILLs the `sleep` processes whose argument starts with prefix.
func killSleeps(prefix string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(argv) == 2 && filepath.Base(argv[0]) == "sleep" && strings.HasPrefix(argv[1], prefix) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (b *bench) cli(m *member, args ...string) error {
	cmd := exec.Command(b.tend, args...)
	cmd.Env = append(os.Environ(), "TEND_ROOT="+m.root)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tend %v: %v: %s", args, err, out)
	}
	return nil
}

func (b *bench) get(m *member, path string) (int, []byte) {
	resp, err := b.client.Get("http://" + m.http + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (b *bench) poll(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

func (b *bench) byID(id string) *member {
	for _, m := range b.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

// election is what one member's /census and /butterfly say of sg.
func (b *bench) election(m *member, sg string) (status, leader string, term uint64) {
	var census struct {
		Groups map[string]struct {
			Status string  `json:"election_status"`
			Leader *string `json:"leader_id"`
		} `json:"census_groups"`
	}
	var bf struct {
		Latest map[string]struct {
			Term uint64 `json:"term"`
		} `json:"latest_election"`
	}
	if _, body := b.get(m, "/census"); json.Unmarshal(body, &census) != nil {
		return "", "", 0
	}
	if _, body := b.get(m, "/butterfly"); json.Unmarshal(body, &bf) != nil {
		return "", "", 0
	}
	g := census.Groups[sg]
	if g.Leader != nil {
		leader = *g.Leader
	}
	return g.Status, leader, bf.Latest[sg].Term
}

// agree waits until every member in ms shows one Finished election of sg
// whose leader is not `not`, at a term above after.
func (b *bench) agree(ctx context.Context, ms []*member, sg, not string, after int64, limit time.Duration) (leader string, term uint64, err error) {
	err = b.poll(ctx, limit, "one leader on every member", func() bool {
		leader = ""
		for i, m := range ms {
			st, l, tm := b.election(m, sg)
			if st != "ElectionFinished" || l == "" || l == not || int64(tm) <= after {
				return false
			}
			if i > 0 && (l != leader || tm != term) {
				return false
			}
			leader, term = l, tm
		}
		return true
	})
	return leader, term, err
}

// waitUp waits until m runs release version of name, up.
func (b *bench) waitUp(ctx context.Context, m *member, name, version string, limit time.Duration) error {
	want := "bench/" + name + "/" + version + ".0.0/20260101000000"
	return b.poll(ctx, limit, want+" up on member "+strconv.Itoa(m.idx), func() bool {
		var services []struct {
			Pkg struct {
				Ident string `json:"ident"`
			} `json:"pkg"`
			Process struct {
				State string `json:"state"`
			} `json:"process"`
		}
		_, body := b.get(m, "/services")
		if json.Unmarshal(body, &services) != nil {
			return false
		}
		for _, s := range services {
			if s.Pkg.Ident == want && s.Process.State == "up" {
				return true
			}
		}
		return false
	})
}
