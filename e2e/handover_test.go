package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
)

// hammer GETs url over a fresh connection each time until stop is
// closed, and counts the requests and the failures (an error or a status
// other than 200).
func hammer(url string, stop <-chan struct{}) (wait func() (reqs, failed int64, firstErr string)) {
	var n, bad atomic.Int64
	var first atomic.Pointer[string]
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n.Add(1)
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					bad.Add(1)
					s := time.Now().UTC().Format("15:04:05.000000") + " " + err.Error()
					first.CompareAndSwap(nil, &s)
				}
			}
		})
	}
	return func() (int64, int64, string) {
		wg.Wait()
		s := ""
		if p := first.Load(); p != nil {
			s = *p
		}
		return n.Load(), bad.Load(), s
	}
}

// `tend sup restart` re-executes the supervisor as a new binary while it
// serves: 20 services keep their pids (none restarted), the five that
// write a numbered line every 10 ms have every line in their logs, once,
// in order, and a client making a fresh connection to /services all the
// while sees no failed request. A broken binary is refused with one line
// and exit 1, and the supervisor carries on as it was.
func TestSupRestartKeepsServicesOutputAndConnections(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	t.Cleanup(func() { removeCgroups(root) })
	tag := uniqueTag()
	var yaml strings.Builder
	yaml.WriteString("services:\n")
	counters := map[string]string{}
	for i := range 5 {
		name := fmt.Sprintf("count%d", i)
		counters[name] = filepath.Join(t.TempDir(), "counter")
		fmt.Fprintf(&yaml, "  - pkg: %s\n", counterPkg(t, name, counters[name]))
	}
	for i := range 15 {
		fmt.Fprintf(&yaml, "  - pkg: %s\n", sleeper(t, fmt.Sprintf("idle%d", i), tag))
	}
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	os.WriteFile(cfg, []byte(yaml.String()), 0o644)
	s := startSup(t, root, "--config", cfg)
	waitFor(t, 30*time.Second, "20 services up", func() bool {
		st := s.status()
		up := 0
		for _, v := range st {
			if v.State == "up" {
				up++
			}
		}
		return up == 20
	})
	// One crash, so there is a restart count to carry over.
	crashed := s.status()["idle0.default"].PID
	killPID(crashed)
	waitFor(t, 15*time.Second, "idle0 restarted", func() bool {
		v := s.status()["idle0.default"]
		return v.State == "up" && v.PID != crashed && v.Restarts == 1
	})
	pids := map[string]int{}
	before := s.status()
	for name, v := range before {
		pids[name] = v.PID
	}

	// A broken binary: refused, nothing stopped.
	broken := filepath.Join(t.TempDir(), "tend-broken")
	os.WriteFile(broken, []byte("#!/bin/sh\necho this is not tend >&2\nexit 3\n"), 0o755)
	res := runTend(t, root, "sup", "restart", "--binary", broken, "--remote-sup", s.ctl)
	if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); res.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "cannot take over") {
		t.Fatalf("restart to a broken binary: exit %d, stderr %q; want exit 1 and one line", res.code, res.stderr)
	}
	if res := s.tend("sup", "stats"); res.code != 0 {
		t.Fatalf("after the refused restart the supervisor does not answer: %+v", res)
	}

	// A binary that passes its check and then cannot be executed: the
	// supervisor serves its listeners and reads output again, and the
	// command says why, in one line.
	vanishing := filepath.Join(t.TempDir(), "tend-vanishing")
	os.WriteFile(vanishing, []byte("#!/bin/sh\nchmod -x \"$0\"\nexit 0\n"), 0o755)
	res = runTend(t, root, "sup", "restart", "--binary", vanishing, "--remote-sup", s.ctl)
	if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); res.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "permission denied") {
		t.Fatalf("restart to a binary that cannot be executed: exit %d, stderr %q; want exit 1 and one line", res.code, res.stderr)
	}
	mark := readCounter(counters["count0"]) + 10
	waitUntil(t, 15*time.Second, "output read again after the failed exec", func() (bool, string) {
		got := numbered(readFile(filepath.Join(root, "svc", "count0", "logs", "run.stdout.log")))
		return len(got) > 0 && got[len(got)-1] >= mark, fmt.Sprint(len(got), " lines")
	})
	if resp, err := http.Get("http://" + s.http + "/services"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("gateway after the failed exec: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A new binary (a copy: a file other than the one running).
	fresh := filepath.Join(t.TempDir(), "tend-new")
	b, err := os.ReadFile(tendBin())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(fresh, b, 0o755)
	evBefore := allEvents(t, s)
	recBefore := statusRecords(t, s)
	stop := make(chan struct{})
	wait := hammer("http://"+s.http+"/services", stop)
	res = runTend(t, root, "sup", "restart", "--binary", fresh, "--remote-sup", s.ctl)
	if res.code != 0 || !strings.Contains(res.stdout, "restarted") {
		close(stop)
		wait()
		t.Fatalf("sup restart: exit %d\nstdout %s\nstderr %s", res.code, res.stdout, res.stderr)
	}
	t.Logf("sup restart: %s", strings.TrimSpace(res.stdout))
	targets := map[string]int{}
	for name, c := range counters {
		targets[name] = readCounter(c) + 30
	}
	for name := range counters {
		log := filepath.Join(root, "svc", name, "logs", "run.stdout.log")
		waitUntil(t, 20*time.Second, name+" logging after the hand-over", func() (bool, string) {
			got := numbered(readFile(log))
			return len(got) > 0 && got[len(got)-1] >= targets[name], fmt.Sprint(len(got), " lines")
		})
	}
	close(stop)
	reqs, failed, first := wait()
	if failed != 0 {
		t.Errorf("%d of %d requests to /services failed across the hand-over; first: %s", failed, reqs, first)
	}
	for name, v := range s.status() {
		if v.State != "up" || v.PID != pids[name] {
			t.Errorf("%s after the hand-over: %s, pid %d; want up with pid %d", name, v.State, v.PID, pids[name])
		}
		// Its status carried over: up since before, restarts kept.
		if v.Elapsed < before[name].Elapsed || v.Restarts != before[name].Restarts {
			t.Errorf("%s after the hand-over: up %.1f s with %d restarts; before it, up %.1f s with %d", name, v.Elapsed, v.Restarts, before[name].Elapsed, before[name].Restarts)
		}
	}
	for name := range counters {
		got := numbered(readFile(filepath.Join(root, "svc", name, "logs", "run.stdout.log")))
		for i, n := range got {
			if n != i {
				t.Fatalf("%s: log line %d is line %d: a line lost or doubled", name, i, n)
			}
		}
	}
	// The event stream goes on: the same events with the same ids, then
	// new ones numbered after them.
	evAfter := allEvents(t, s)
	last := evBefore[len(evBefore)-1]
	i := slices.IndexFunc(evAfter, func(e events.Event) bool { return e.ID == last.ID })
	if i < 0 || evAfter[i].Text != last.Text {
		t.Fatalf("event %d (%q) not kept across the hand-over", last.ID, last.Text)
	}
	for j := 1; j < len(evAfter); j++ {
		if evAfter[j].ID != evAfter[j-1].ID+1 {
			t.Fatalf("event ids %d then %d", evAfter[j-1].ID, evAfter[j].ID)
		}
	}
	// /status keeps every record of the supervisor and its services.
	recAfter := statusRecords(t, s)
	for comp, recs := range recBefore {
		for _, r := range recs {
			if !slices.Contains(recAfter[comp], r) {
				t.Errorf("/status %s record %q lost across the hand-over", comp, r)
			}
		}
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.cmd.Process.Pid)); exe != fresh {
		t.Fatalf("the supervisor runs %s, want %s", exe, fresh)
	}
}

// statusRecords are /status's records, by component.
func statusRecords(t *testing.T, s *sup) map[string][]string {
	t.Helper()
	var d monStatusDoc
	if !getJSON("http://"+s.http+"/status", &d) {
		t.Fatal("no /status")
	}
	out := map[string][]string{}
	for name, c := range d.Components {
		out[name] = c.Records
	}
	return out
}

// allEvents are the events the supervisor keeps, oldest first.
func allEvents(t *testing.T, s *sup) []events.Event {
	var out []events.Event
	for line := range strings.Lines(s.mustTend("sup", "events", "--json")) {
		var e events.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("sup events --json line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// ringEvents are the ring.member events b's supervisor has about member.
func ringEvents(t *testing.T, s *sup, member string) []events.Event {
	var out []events.Event
	for line := range strings.Lines(s.mustTend("sup", "events", "--json")) {
		var e events.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("sup events --json line %q: %v", line, err)
		}
		if e.Type == events.RingMember && e.Member == member {
			out = append(out, e)
		}
	}
	return out
}

// probeConnects opens and closes a TCP connection to addr every 2 ms until
// stop is closed, and counts the attempts and the failures.
func probeConnects(addr string, stop <-chan struct{}) (wait func() (n, failed int, first string)) {
	done := make(chan struct{})
	var n, failed int
	first := ""
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n++
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				if failed++; first == "" {
					first = err.Error()
				}
				continue
			}
			c.Close()
		}
	}()
	return func() (int, int, string) {
		<-done
		return n, failed, first
	}
}

// Across `sup restart` the ring member carries on: the same member id and
// incarnation, its gossip sockets handed over, so a peer that probes it
// meanwhile gets its answer late rather than never, and never marks it
// suspect; and the new member knows its peers at once.
func TestSupRestartKeepsRingMembership(t *testing.T) {
	t.Parallel()
	a := startSup(t, t.TempDir())
	b := startSup(t, t.TempDir(), "--peer", a.gossip)
	var stats api.Stats
	if err := json.Unmarshal([]byte(a.mustTend("sup", "stats", "--json")), &stats); err != nil {
		t.Fatal(err)
	}
	id := stats.MemberID
	waitFor(t, 20*time.Second, "b sees a alive", func() bool {
		ev := ringEvents(t, b, id)
		return len(ev) > 0 && ev[len(ev)-1].State == "alive"
	})
	before := len(ringEvents(t, b, id))
	fresh := filepath.Join(t.TempDir(), "tend-new")
	bin, err := os.ReadFile(tendBin())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(fresh, bin, 0o755)
	// A member connecting to a's gossip port while a re-executes (a push/pull,
	// a fallback probe, a 64 KiB config) must be queued by the kept listener,
	// never refused: a new binary binding the port anew leaves a gap of tens
	// of ms. Connect every 2 ms, from before the restart until after it.
	stop := make(chan struct{})
	probed := probeConnects(a.gossip, stop)
	if res := runTend(t, a.root, "sup", "restart", "--binary", fresh, "--remote-sup", a.ctl); res.code != 0 {
		t.Fatalf("sup restart: exit %d: %s", res.code, res.stderr)
	}
	a.mustTend("sup", "stats") // answered by the new binary
	close(stop)
	if n, refused, first := probed(); n < 20 || refused > 0 {
		t.Fatalf("gossip port during the restart: %d of %d connections failed (first: %s); want none, of at least 20", refused, n, first)
	}
	// b probes a every second and would suspect it within a few: watch
	// for five, while a, new, must come to know b.
	deadline := time.Now().Add(5 * time.Second)
	knowsB := false
	for time.Now().Before(deadline) {
		if ev := ringEvents(t, b, id); len(ev) != before {
			t.Fatalf("b saw a change across the hand-over: %+v", ev[before:])
		}
		if !knowsB {
			var st api.Stats
			json.Unmarshal([]byte(b.mustTend("sup", "stats", "--json")), &st)
			ev := ringEvents(t, a, st.MemberID)
			knowsB = len(ev) > 0 && ev[len(ev)-1].State == "alive"
		}
		time.Sleep(100 * time.Millisecond) // polling interval of an observation window
	}
	if !knowsB {
		t.Fatal("a, after the hand-over, does not know b")
	}
}

// A crash-looping service keeps its backoff across `sup restart`: the
// start due when the supervisor handed over comes when it was due, not at
// once, and the crash after it backs off again (the streak goes on), so a
// loop of `sup restart` never restarts it hot.
func TestSupRestartKeepsCrashLoopBackoff(t *testing.T) {
	t.Parallel()
	const backoff = 4.0 // seconds: min = max, so every wait after the first crash is exactly this
	starts := filepath.Join(t.TempDir(), "starts")
	dir := pkgDir(t, map[string]string{
		"IDENT":     "test/crashloop/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\ndate +%s.%N >> " + starts + "\nexit 1\n",
	})
	s := startSup(t, t.TempDir(), "--service-min-backoff-period", "4", "--service-max-backoff-period", "4")
	s.mustTend("svc", "load", dir)
	startTimes := func() []float64 {
		var out []float64
		for _, l := range strings.Fields(readFile(starts)) {
			var f float64
			if _, err := fmt.Sscanf(l, "%f", &f); err == nil {
				out = append(out, f)
			}
		}
		return out
	}
	// The first crash restarts at once; the second waits the backoff.
	waitFor(t, 15*time.Second, "backing off after the second crash", func() bool {
		v := s.status()["crashloop.default"]
		return v.State == "down" && v.Restarts == 2
	})
	if res := runTend(t, s.root, "sup", "restart", "--remote-sup", s.ctl); res.code != 0 {
		t.Fatalf("sup restart: exit %d: %s", res.code, res.stderr)
	}
	waitFor(t, 30*time.Second, "two more starts", func() bool { return len(startTimes()) >= 4 })
	ts := startTimes()
	if n := len(s.status()); n != 1 {
		t.Fatalf("%d services after the hand-over", n)
	}
	// A little slack for the crash itself (the wait starts at the exit,
	// a moment after the start was written).
	for i := 2; i < 4; i++ {
		if gap := ts[i] - ts[i-1]; gap < backoff-0.2 {
			t.Errorf("start %d came %.2fs after the one before, want the %.0fs backoff: starts %v", i+1, gap, backoff, ts)
		}
	}
}

// TEND_HANDOVER naming a file outside the supervisor's state directory is
// not taken for a hand-over: the supervisor says so in one line and
// starts afresh, and the file is neither read nor removed.
func TestPlantedHandoverFileIsIgnored(t *testing.T) {
	t.Parallel()
	planted := filepath.Join(t.TempDir(), "HANDOVER")
	body := []byte(`{"version":1,"listeners":{"ctl":3}}`)
	if err := os.WriteFile(planted, body, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSupEnv(t, t.TempDir(), []string{"TEND_HANDOVER=" + planted})
	s.mustTend("sup", "stats")
	if n := strings.Count(s.errOut.String(), "hand-over state ignored"); n != 1 {
		t.Fatalf("%d lines saying the hand-over state was ignored, want 1:\n%s", n, s.errOut.String())
	}
	if b, err := os.ReadFile(planted); err != nil || string(b) != string(body) {
		t.Fatalf("planted file removed or changed: %q %v", b, err)
	}
}
