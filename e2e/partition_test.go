package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// pnet is a small network the test builds from iproute2: a bridge in the
// root namespace holding SUBNET.254/24, and one network namespace per
// member, each joined to the bridge by a veth pair and holding SUBNET.(i+1).
// The test (in the root namespace) reaches every member through the
// bridge. A partition is a permanent neighbour entry, inside each
// namespace, giving each member of the other side a MAC address nobody has:
// packets to them leave without an error and are dropped silently, as on a
// cut link (a blackhole route would fail every send at once instead), and
// the test keeps its reach.
type pnet struct {
	t      *testing.T
	subnet string // "10.213.X."
	bridge string
	ns     []string
	dev    []string // each namespace's end of its veth
}

// netnsUnusable skips the test, or fails it when TEND_REQUIRE_TOOLS=1 says
// every tool must be there.
func netnsUnusable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (TEND_REQUIRE_TOOLS=1)", msg)
	}
	t.Skipf("%s; set TEND_REQUIRE_TOOLS=1 to require it", msg)
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// mustIP runs ip and fails the test if it fails.
func (n *pnet) mustIP(args ...string) {
	n.t.Helper()
	if err := ipCmd(args...); err != nil {
		n.t.Fatal(err)
	}
}

// freeSubnet picks a 10.213.X.0/24 no address or route of this machine
// uses, starting from the pid so parallel runs pick different ones.
func freeSubnet(t *testing.T) string {
	t.Helper()
	addrs, _ := exec.Command("ip", "-4", "-o", "addr", "show").CombinedOutput()
	routes, _ := exec.Command("ip", "-4", "route", "show", "table", "all").CombinedOutput()
	used := string(addrs) + string(routes)
	for k := range 200 {
		p := fmt.Sprintf("10.213.%d.", (os.Getpid()+k)%200+20)
		if !strings.Contains(used, p) {
			return p
		}
	}
	t.Fatal("no free 10.213.X.0/24 subnet")
	return ""
}

// newPnet builds the network for n members. Every namespace, veth and the
// bridge are deleted in t.Cleanup, registered as each is created, so they
// go even when the test fails half-way (and after the supervisors started
// later have stopped).
func newPnet(t *testing.T, members int) *pnet {
	t.Helper()
	if os.Geteuid() != 0 {
		netnsUnusable(t, "network partition test needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		netnsUnusable(t, "ip (iproute2) is not installed")
	}
	pid := os.Getpid()
	n := &pnet{t: t, subnet: freeSubnet(t), bridge: fmt.Sprintf("tpb%d", pid)}

	// The first namespace and the bridge tell whether this machine can do
	// it at all: failing there skips, failing later fails.
	first := fmt.Sprintf("tendpart-%d-0", pid)
	if err := ipCmd("netns", "add", first); err != nil {
		netnsUnusable(t, "ip netns is unusable here: %v", err)
	}
	t.Cleanup(func() { n.delete("netns", "del", first) })
	n.ns = append(n.ns, first)
	if err := ipCmd("link", "add", n.bridge, "type", "bridge"); err != nil {
		netnsUnusable(t, "cannot create a bridge here: %v", err)
	}
	t.Cleanup(func() { n.delete("link", "del", n.bridge) })
	n.mustIP("addr", "add", n.subnet+"254/24", "dev", n.bridge)
	n.mustIP("link", "set", n.bridge, "up")

	for i := range members {
		ns := fmt.Sprintf("tendpart-%d-%d", pid, i)
		if i > 0 {
			n.mustIP("netns", "add", ns)
			t.Cleanup(func() { n.delete("netns", "del", ns) })
			n.ns = append(n.ns, ns)
		}
		host, peer := fmt.Sprintf("tpv%dh%d", pid, i), fmt.Sprintf("tpv%dn%d", pid, i)
		n.mustIP("link", "add", host, "type", "veth", "peer", "name", peer)
		// Deleting either end deletes the pair; the namespace's end goes
		// with the namespace, this one may be left if the move failed.
		t.Cleanup(func() {
			if ipCmd("link", "show", host) == nil {
				n.delete("link", "del", host)
			}
		})
		n.mustIP("link", "set", peer, "netns", ns)
		n.dev = append(n.dev, peer)
		n.mustIP("link", "set", host, "master", n.bridge)
		n.mustIP("link", "set", host, "up")
		n.mustIP("-n", ns, "addr", "add", n.addr(i)+"/24", "dev", peer)
		n.mustIP("-n", ns, "link", "set", peer, "up")
		n.mustIP("-n", ns, "link", "set", "lo", "up")
	}
	return n
}

func (n *pnet) delete(args ...string) {
	if err := ipCmd(args...); err != nil {
		n.t.Errorf("cleanup: %v", err)
	}
}

// addr is member i's address.
func (n *pnet) addr(i int) string { return fmt.Sprintf("%s%d", n.subnet, i+1) }

// exec is the command prefix that runs a program in member i's namespace.
func (n *pnet) exec(i int) []string { return []string{"ip", "netns", "exec", n.ns[i]} }

// nowhere is a locally administered MAC address no interface has.
const nowhere = "02:00:5e:00:de:ad"

// cut partitions members a from members b: each side sends the other's
// packets to nowhere. heal deletes those entries, so the members resolve
// each other again.
func (n *pnet) cut(a, b []int) {
	n.t.Helper()
	n.neigh(a, b, func(i, j int) []string {
		return []string{"-n", n.ns[i], "neigh", "replace", n.addr(j), "lladdr", nowhere, "dev", n.dev[i], "nud", "permanent"}
	})
}

func (n *pnet) heal(a, b []int) {
	n.t.Helper()
	n.neigh(a, b, func(i, j int) []string {
		return []string{"-n", n.ns[i], "neigh", "del", n.addr(j), "dev", n.dev[i]}
	})
}

func (n *pnet) neigh(a, b []int, cmd func(i, j int) []string) {
	n.t.Helper()
	for _, x := range [][2][]int{{a, b}, {b, a}} {
		for _, i := range x[0] {
			for _, j := range x[1] {
				n.mustIP(cmd(i, j)...)
			}
		}
	}
}

// censusView is every supervisor's census, for failure messages.
func censusView(sups []*sup, names map[string]string, cs []map[string]map[string]string) string {
	var b strings.Builder
	for i, c := range cs {
		fmt.Fprintf(&b, "  %s sees:", names[sups[i].memberID()])
		var groups []string
		for g := range c {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			var ms []string
			for id, h := range c[g] {
				ms = append(ms, names[id]+"="+h)
			}
			sort.Strings(ms)
			fmt.Fprintf(&b, " %s{%s}", g, strings.Join(ms, " "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestPartitionCutAndHealConvergesWithNothingLost runs four members in
// network namespaces, two a side, cuts the link between the sides, lets
// each side declare the other dead, changes both sides while cut (services
// loaded on each, a config applied on one), heals the link and waits for
// both sides to converge: every member alive again everywhere, every
// service and the config everywhere.
func TestPartitionCutAndHealConvergesWithNothingLost(t *testing.T) {
	pn := newPnet(t, 4)
	left, right := []int{0, 1}, []int{2, 3}

	var sups []*sup
	for i := range 4 {
		var extra []string
		if i > 0 {
			extra = []string{"--peer", sups[0].gossip}
		}
		sups = append(sups, startSupVia(t, pn.exec(i), pn.addr(i), t.TempDir(), extra...))
	}
	names := map[string]string{}
	ids := make([]string, 4)
	for i, s := range sups {
		ids[i] = s.memberID()
		names[ids[i]] = []string{"L1", "L2", "R1", "R2"}[i]
	}
	censuses := func() []map[string]map[string]string {
		out := make([]map[string]map[string]string, len(sups))
		for i, s := range sups {
			out[i] = s.census(t)
		}
		return out
	}
	pkg := func(name string, files map[string]string) string {
		files["IDENT"] = "test/" + name + "/1.0.0/20260101000000"
		files["hooks/run"] = "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n"
		return pkgDir(t, files)
	}

	// Every member runs "shared", so every census lists all four; one
	// member of each side also runs a service of its own.
	shared := pkg("pshared", map[string]string{
		"default.toml": "greeting = \"default\"\n",
		"config/greet": "{{cfg.greeting}}\n",
	})
	for _, s := range sups {
		s.mustTend("svc", "load", shared)
	}
	sups[0].mustTend("svc", "load", pkg("pleft", map[string]string{}))
	sups[2].mustTend("svc", "load", pkg("pright", map[string]string{}))

	// want: group -> member index -> health, checked in the censuses of
	// the members in on; other groups must be absent from them.
	type want map[string]map[int]string
	check := func(on []int, w want) func() (bool, string) {
		return func() (bool, string) {
			cs := censuses()
			ok := true
			for _, i := range on {
				c := cs[i]
				if len(c) != len(w) {
					ok = false
				}
				for g, ms := range w {
					if len(c[g]) != len(ms) {
						ok = false
					}
					for m, h := range ms {
						if c[g][ids[m]] != h {
							ok = false
						}
					}
				}
			}
			return ok, censusView(sups, names, cs)
		}
	}
	all := func(h string) map[int]string { return map[int]string{0: h, 1: h, 2: h, 3: h} }
	// mix is shared as seen from one side: its own members alive, the
	// others' h.
	mix := func(own []int, h string) map[int]string {
		m := all(h)
		for _, i := range own {
			m[i] = "alive"
		}
		return m
	}
	everyone := []int{0, 1, 2, 3}
	waitUntil(t, 30*time.Second, "every member alive and both services in every census", check(everyone, want{
		"pshared.default": all("alive"),
		"pleft.default":   {0: "alive"},
		"pright.default":  {2: "alive"},
	}))
	greet := func(i int) string { return readFile(filepath.Join(sups[i].root, "svc", "pshared", "config", "greet")) }
	for i := range sups {
		if g := greet(i); g != "default\n" {
			t.Fatalf("%s renders %q before the cut", names[ids[i]], g)
		}
	}

	// Cut. Each side sees every member of the other go suspect (in the
	// census of the member whose probe failed first) and then confirmed
	// in both its members' censuses, while its own stay alive.
	cutAt := time.Now()
	pn.cut(left, right)
	healed := false
	t.Cleanup(func() {
		if !healed && t.Failed() {
			t.Logf("failed while partitioned, %s after the cut", time.Since(cutAt).Round(time.Millisecond))
		}
	})
	cross := []pair{}
	for _, a := range left {
		for _, b := range right {
			cross = append(cross, pair{a, b}, pair{b, a})
		}
	}
	suspected := map[int]time.Duration{}  // target -> first seen suspect
	confirmed := map[pair]time.Duration{} // first seen confirmed
	waitUntil(t, 60*time.Second, "each side to confirm the other side's members", func() (bool, string) {
		cs := censuses()
		for _, p := range cross {
			h := cs[p.observer]["pshared.default"][ids[p.target]]
			if _, ok := suspected[p.target]; !ok && h == "suspect" {
				suspected[p.target] = time.Since(cutAt)
			}
			if _, ok := confirmed[p]; !ok && h == "confirmed" {
				confirmed[p] = time.Since(cutAt)
			}
		}
		for _, own := range [][]int{left, right} {
			for _, a := range own {
				for _, b := range own {
					// A probe slowed by a loaded machine may make a
					// member of its own side suspect for a moment;
					// confirming one is wrong.
					if h := cs[a]["pshared.default"][ids[b]]; h == "confirmed" || h == "departed" {
						t.Fatalf("%s sees %s on its own side %s during the cut:\n%s", names[ids[a]], names[ids[b]], h, censusView(sups, names, cs))
					}
				}
			}
		}
		return len(confirmed) == len(cross), censusView(sups, names, cs)
	})
	for _, b := range everyone {
		if _, ok := suspected[b]; !ok {
			t.Errorf("no member of the other side ever showed %s suspect before confirming it", names[ids[b]])
		}
	}
	var lastConfirmed time.Duration
	for _, p := range cross {
		lastConfirmed = max(lastConfirmed, confirmed[p])
	}
	t.Logf("cut: first suspect after %v, every member of each side confirmed by every member of the other after %v\n  suspect first seen: %s\n  confirmed (observer>target): %s",
		minDur(suspected), lastConfirmed.Round(time.Millisecond), fmtSuspected(suspected, names, ids), fmtConfirmed(confirmed, names, ids))

	// Change both sides while cut: the left loads a service and applies
	// a config, the right loads a service. Each stays on its side.
	sups[1].mustTend("svc", "load", pkg("pleft2", map[string]string{}))
	sups[3].mustTend("svc", "load", pkg("pright2", map[string]string{}))
	cfg := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(cfg, []byte("greeting = \"applied during the cut\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sups[0].mustTend("config", "apply", "pshared.default", "2", cfg, "--remote-sup", sups[0].ctl)
	waitUntil(t, 30*time.Second, "the left's changes on the left", check(left, want{
		"pshared.default": mix(left, "confirmed"),
		"pleft.default":   {0: "alive"},
		"pright.default":  {2: "confirmed"},
		"pleft2.default":  {1: "alive"},
	}))
	waitUntil(t, 30*time.Second, "the right's changes on the right", check(right, want{
		"pshared.default": mix(right, "confirmed"),
		"pleft.default":   {0: "confirmed"},
		"pright.default":  {2: "alive"},
		"pright2.default": {3: "alive"},
	}))
	for _, i := range left {
		waitUntil(t, 30*time.Second, "the config applied during the cut rendered on "+names[ids[i]], func() (bool, string) {
			g := greet(i)
			return g == "applied during the cut\n", fmt.Sprintf("%q", g)
		})
	}
	// The left has it all by now; the right has none of it (the check
	// above also says the right does not know pleft2).
	for _, i := range right {
		if g := greet(i); g != "default\n" {
			t.Fatalf("the config applied on the left during the cut reached %s: %q", names[ids[i]], g)
		}
	}

	// Heal. Both sides converge: every member alive in every census,
	// every service loaded on either side everywhere, the config applied
	// on the left rendered on the right.
	healAt := time.Now()
	pn.heal(left, right)
	healed = true
	var aliveAt time.Duration
	waitUntil(t, 60*time.Second, "both sides to converge after the heal", func() (bool, string) {
		ok, seen := check(everyone, want{
			"pshared.default": all("alive"),
			"pleft.default":   {0: "alive"},
			"pright.default":  {2: "alive"},
			"pleft2.default":  {1: "alive"},
			"pright2.default": {3: "alive"},
		})()
		if ok && aliveAt == 0 {
			aliveAt = time.Since(healAt)
		}
		var greets []string
		for i := range sups {
			g := greet(i)
			greets = append(greets, fmt.Sprintf("%s renders %q", names[ids[i]], g))
			ok = ok && g == "applied during the cut\n"
		}
		return ok, seen + "  " + strings.Join(greets, ", ")
	})
	t.Logf("heal: every census complete after %v; converged (config rendered everywhere) after %v",
		aliveAt.Round(time.Millisecond), time.Since(healAt).Round(time.Millisecond))

	// The gateway of a right-side member serves the config applied on
	// the left during the cut.
	for _, i := range right {
		resp, err := http.Get("http://" + sups[i].http + "/services/pshared/default/config")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "applied during the cut") {
			t.Fatalf("%s /services/pshared/default/config: %d %s", names[ids[i]], resp.StatusCode, body)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// pair is an observer and a member it watches.
type pair struct{ observer, target int }

func minDur(m map[int]time.Duration) time.Duration {
	var out time.Duration
	for _, d := range m {
		if out == 0 || d < out {
			out = d
		}
	}
	return out.Round(time.Millisecond)
}

func fmtSuspected(m map[int]time.Duration, names map[string]string, ids []string) string {
	var parts []string
	for i, d := range m {
		parts = append(parts, fmt.Sprintf("%s@%v", names[ids[i]], d.Round(time.Millisecond)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func fmtConfirmed(m map[pair]time.Duration, names map[string]string, ids []string) string {
	var parts []string
	for p, d := range m {
		parts = append(parts, fmt.Sprintf("%s>%s@%v", names[ids[p.observer]], names[ids[p.target]], d.Round(time.Millisecond)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
