package e2e

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// svcView is what one member's /services says of one service.
type svcView struct {
	ident, state, reason, strategy string
	ok                             bool
}

func (s *sup) service(name string) svcView {
	var services []struct {
		Pkg struct {
			Ident string `json:"ident"`
			Name  string `json:"name"`
		} `json:"pkg"`
		Process struct {
			State string `json:"state"`
		} `json:"process"`
		Last *struct {
			Reason string `json:"termination_reason"`
		} `json:"last_process_state"`
		Strategy string `json:"update_strategy"`
	}
	if !getJSON("http://"+s.http+"/services", &services) {
		return svcView{}
	}
	for _, o := range services {
		if o.Pkg.Name == name {
			v := svcView{ident: o.Pkg.Ident, state: o.Process.State, strategy: o.Strategy, ok: true}
			if o.Last != nil {
				v.reason = o.Last.Reason
			}
			return v
		}
	}
	return svcView{}
}

// updPkg is a package of release version whose run hook sleeps with tag.
func updPkg(t *testing.T, name, version, tag string) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/" + name + "/" + version + "/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
}

// dropArchive writes dir as NAME.tar.gz into source, under one top
// directory, by a rename so a poll never sees half of it.
func dropArchive(t *testing.T, dir, source, name string) {
	t.Helper()
	tmp := filepath.Join(source, "."+name+".tar.gz")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(filepath.Join(name, rel))
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	for _, c := range []func() error{tw.Close, gz.Close, f.Close} {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(source, name+".tar.gz")); err != nil {
		t.Fatal(err)
	}
}

// dropDir copies a package directory into source, by a rename.
func dropDir(t *testing.T, dir, source, name string) {
	t.Helper()
	tmp := filepath.Join(source, "."+name)
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(source, name)); err != nil {
		t.Fatal(err)
	}
}

// installAndLoad installs dir on every member and loads the package by its
// fuzzy ident (a directory or a fully qualified ident would pin the
// release) with args.
func installAndLoad(t *testing.T, sups []*sup, dir, fuzzy string, args ...string) {
	t.Helper()
	for _, s := range sups {
		if r := runTend(t, s.root, "pkg", "install", dir); r.code != 0 {
			t.Fatalf("pkg install: %s", r.stderr)
		}
		s.mustTend(append([]string{"svc", "load", fuzzy}, args...)...)
	}
}

// TestUpdateAtOnce: three members follow one update source with a short
// period; a v2 archive dropped into it reaches every member within one
// period plus its splay (and the time a restart takes), each restarted
// with termination_reason package_updated and a log line saying so.
func TestUpdateAtOnce(t *testing.T) {
	t.Parallel()
	source := t.TempDir()
	const period = 2 * time.Second
	sups := ringOf(t, 3, "--update-source", source, "--service-update-period", period.String())
	name := "updnow"
	tag1, tag2, tag3, tagNone := uniqueTag()+"1", uniqueTag()+"2", uniqueTag()+"3", uniqueTag()+"4"
	installAndLoad(t, sups, updPkg(t, name, "1.0.0", tag1), "test/"+name, "--strategy", "at-once")
	// Beside it, on the first member, a service with strategy none.
	still := "updnone"
	installAndLoad(t, sups[:1], updPkg(t, still, "1.0.0", tagNone), "test/"+still)
	v1, v2 := "test/"+name+"/1.0.0/20260101000000", "test/"+name+"/2.0.0/20260101000000"
	for _, s := range sups {
		waitFor(t, 30*time.Second, "v1 up on "+s.memberID(), func() bool {
			v := s.service(name)
			return v.ident == v1 && v.state == "up" && v.strategy == "at-once"
		})
	}
	dropArchive(t, updPkg(t, name, "2.0.0", tag2), source, name+"-2.0.0")
	dropDir(t, updPkg(t, still, "2.0.0", tagNone+"2"), source, still+"-2.0.0")
	dropped := time.Now()
	// A period plus a quarter of splay, and the restart itself; the
	// machine is shared, so the restart gets slack.
	bound := period + period/4 + 5*time.Second
	for _, s := range sups {
		waitUntil(t, bound-time.Since(dropped), "v2 up on "+s.memberID(), func() (bool, string) {
			v := s.service(name)
			return v.ident == v2 && v.state == "up", fmt.Sprintf("%+v", v)
		})
		if v := s.service(name); v.reason != "package_updated" {
			t.Errorf("%s: termination_reason %q, want package_updated", s.memberID(), v.reason)
		}
		if !strings.Contains(s.errOut.String(), "package update: "+v1+" to "+v2) {
			t.Errorf("%s: no package update line in the log", s.memberID())
		}
	}
	t.Logf("3 members on v2 %s after the archive was dropped (period %s)", time.Since(dropped).Round(time.Millisecond), period)
	// The poll that moved the first member moved nothing with strategy none.
	if v := sups[0].service(still); v.ident != "test/"+still+"/1.0.0/20260101000000" || v.state != "up" {
		t.Errorf("strategy none: %+v, want v1 up", v)
	}

	// tend pkg install of a newer release on one member counts as a new
	// package there: that member moves, the others (whose source has no
	// v3) stay.
	v3 := "test/" + name + "/3.0.0/20260101000000"
	if r := runTend(t, sups[1].root, "pkg", "install", updPkg(t, name, "3.0.0", tag3)); r.code != 0 {
		t.Fatalf("pkg install: %s", r.stderr)
	}
	waitFor(t, period+period/4+10*time.Second, "v3 up on the member it was installed on", func() bool {
		v := sups[1].service(name)
		return v.ident == v3 && v.state == "up"
	})
	for _, s := range []*sup{sups[0], sups[2]} {
		if v := s.service(name); v.ident != v2 {
			t.Errorf("%s moved to %s without v3 in its source or root", s.memberID(), v.ident)
		}
	}
	if n := len(procsWith("sleep 1000" + tag1)); n != 0 {
		t.Errorf("%d v1 processes still run", n)
	}
	for tag, want := range map[string]int{tag2: 2, tag3: 1, tagNone: 1} {
		if n := len(procsWith("sleep 1000" + tag)); n != want {
			t.Errorf("%d processes of sleep 1000%s, want %d", n, tag, want)
		}
	}
}

// wholeGroupInEveryCensus waits until every member's census lists every
// member of sg as alive. A rolling update orders the group as each member
// sees it: in the first second after a load, a member that has not heard
// of another yet leaves it out of its ring and of its "nobody else is
// down" check, and can go at the same time as it (the likely cause of two
// members seen down at once under the whole suite's load).
func wholeGroupInEveryCensus(t *testing.T, sups []*sup, sg string) {
	t.Helper()
	for _, s := range sups {
		waitUntil(t, 30*time.Second, "every member of "+sg+" in the census of "+s.memberID(), func() (bool, string) {
			g := s.census(t)[sg]
			for _, o := range sups {
				if g[o.memberID()] != "alive" {
					return false, fmt.Sprint(g)
				}
			}
			return true, ""
		})
	}
}

// updateLeader waits until every member of sups names the same update
// leader of sg in its census, and returns it.
func updateLeader(t *testing.T, sups []*sup, sg string) string {
	t.Helper()
	var leader string
	waitUntil(t, 60*time.Second, "one update leader in every census", func() (bool, string) {
		var seen []string
		leader = ""
		for _, s := range sups {
			var census struct {
				Groups map[string]struct {
					Status string  `json:"update_election_status"`
					Leader *string `json:"update_leader_id"`
				} `json:"census_groups"`
			}
			if !getJSON("http://"+s.http+"/census", &census) {
				return false, "no census"
			}
			g := census.Groups[sg]
			seen = append(seen, fmt.Sprintf("%s: %s %v", s.memberID(), g.Status, g.Leader))
			if g.Status != "ElectionFinished" || g.Leader == nil || (leader != "" && *g.Leader != leader) {
				return false, strings.Join(seen, "; ")
			}
			leader = *g.Leader
		}
		return true, ""
	})
	return leader
}

// sample is one read of a member's /services.
type sample struct {
	member string
	at     time.Time
	v      svcView
}

// sampler polls every member's /services every 100 ms, each member on its
// own goroutine, until collect is called (and once more then); collect
// returns what was read. A test that ends early stops the polling in its
// cleanup.
func sampler(t *testing.T, sups []*sup, name string) (collect func() []sample) {
	stop := make(chan struct{})
	out := make(chan []sample, len(sups))
	for _, s := range sups {
		id := s.memberID()
		go func() {
			var got []sample
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					// One last read: what the caller waited for is seen.
					out <- append(got, sample{member: id, at: time.Now(), v: s.service(name)})
					return
				case <-tick.C:
					got = append(got, sample{member: id, at: time.Now(), v: s.service(name)})
				}
			}
		}()
	}
	collect = sync.OnceValue(func() []sample {
		close(stop)
		var all []sample
		for range sups {
			all = append(all, <-out...)
		}
		slices.SortFunc(all, func(a, b sample) int { return a.at.Compare(b.at) })
		return all
	})
	t.Cleanup(func() { collect() })
	return collect
}

// TestUpdateRolling: five members roll to v2 one at a time. Sampling every
// member's /services every 100 ms: no two members are ever seen down in
// overlapping windows, members reach v2 in the member-id ring's order from
// the update leader, and the roll finishes although the update leader's
// supervisor is SIGKILLed in the middle of it; every member left ends on
// v2, and their censuses agree on the target's incarnation.
func TestUpdateRolling(t *testing.T) {
	t.Parallel()
	source := t.TempDir()
	sups := ringOf(t, 5, "--update-source", source, "--service-update-period", "1s")
	name := "updroll"
	sg := name + ".default"
	tag1, tag2 := uniqueTag()+"1", uniqueTag()+"2"
	installAndLoad(t, sups, updPkg(t, name, "1.0.0", tag1), "test/"+name, "--strategy", "rolling")
	v1, v2 := "test/"+name+"/1.0.0/20260101000000", "test/"+name+"/2.0.0/20260101000000"
	for _, s := range sups {
		waitFor(t, 30*time.Second, "v1 up on "+s.memberID(), func() bool {
			v := s.service(name)
			return v.ident == v1 && v.state == "up"
		})
	}
	leader := updateLeader(t, sups, sg)
	wholeGroupInEveryCensus(t, sups, sg)
	var ids []string
	for _, s := range sups {
		ids = append(ids, s.memberID())
	}
	slices.Sort(ids)
	k := slices.Index(ids, leader)
	wantOrder := append(slices.Clone(ids[k:]), ids[:k]...)

	collect := sampler(t, sups, name)
	dropped := time.Now()
	dropDir(t, slowPkg(t, name, "2.0.0", tag2), source, name+"-2.0.0")

	// Mid-roll: once the leader and the member after it run v2, the
	// leader's supervisor is killed.
	victim := bySup(sups, leader)
	next := bySup(sups, wantOrder[1])
	waitFor(t, 60*time.Second, "the update leader and the next member on v2", func() bool {
		a, b := victim.service(name), next.service(name)
		return a.ident == v2 && a.state == "up" && b.ident == v2 && b.state == "up"
	})
	killedAt := time.Now()
	victim.kill()
	rest := without(sups, victim)
	for _, s := range rest {
		waitUntil(t, 120*time.Second, "v2 up on "+s.memberID(), func() (bool, string) {
			v := s.service(name)
			return v.ident == v2 && v.state == "up", fmt.Sprintf("%+v", v)
		})
	}
	took := time.Since(dropped)
	samples := collect()
	t.Logf("5 members rolled to v2 in %s (update leader %s killed after %s)", took.Round(time.Millisecond), leader, killedAt.Sub(dropped).Round(time.Millisecond))

	checkRoll(t, samples, v2, wantOrder, leader, killedAt)
	for _, s := range rest {
		if v := s.service(name); v.reason != "package_updated" {
			t.Errorf("%s: termination_reason %q", s.memberID(), v.reason)
		}
	}
	// Every census left agrees on the target and its incarnation.
	for _, s := range rest {
		var census struct {
			Groups map[string]struct {
				Inc        uint64 `json:"pkg_incarnation"`
				Population map[string]struct {
					Package string `json:"package"`
					Inc     int64  `json:"pkg_incarnation"`
				} `json:"population"`
			} `json:"census_groups"`
		}
		waitUntil(t, 30*time.Second, "the target incarnation in "+s.memberID()+"'s census", func() (bool, string) {
			if !getJSON("http://"+s.http+"/census", &census) {
				return false, ""
			}
			g := census.Groups[sg]
			for _, r := range rest {
				if m := g.Population[r.memberID()]; g.Inc != 1 || m.Package != v2 || m.Inc != 1 {
					return false, fmt.Sprintf("%+v", g)
				}
			}
			return true, ""
		})
	}
	if n := len(procsWith("sleep 1000" + tag1)); n != 0 {
		t.Errorf("%d v1 processes still run", n)
	}
}

// TestSvcUpdate: svc update changes a loaded service's options. Strategy,
// update condition, health-check interval and shutdown timeout apply
// without a restart (same pid), show in /services and the spec file, and
// the new strategy acts (the service then follows its update source);
// new binds restart it; bad input is refused with one line and changes
// nothing.
func TestSvcUpdate(t *testing.T) {
	t.Parallel()
	source := t.TempDir()
	root := t.TempDir()
	s := startSup(t, root, "--update-source", source, "--service-update-period", "1s")
	name := "svcupd"
	tag := uniqueTag()
	dir := pkgDir(t, map[string]string{
		"IDENT":              "test/" + name + "/1.0.0/20260101000000",
		"BINDS_OPTIONAL":     "db=port\n",
		"hooks/health-check": "#!/bin/sh\nexit 0\n",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
	installAndLoad(t, []*sup{s}, dir, "test/"+name)
	sg := name + ".default"
	waitFor(t, 30*time.Second, "up", func() bool { return s.status()[sg].State == "up" })
	pid := s.status()[sg].PID
	specBefore := readFile(s.specPath(name))

	// Bad input: one line, non-zero exit, nothing changed.
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"svc", "update", "test/" + name}, "nothing to update"},
		{[]string{"svc", "update", "test/" + name, "--strategy", "sometimes"}, "update_strategy"},
		{[]string{"svc", "update", "test/" + name, "--update-condition", "newest"}, "update_condition"},
		{[]string{"svc", "update", "test/" + name, "--health-check-interval", "-1"}, "negative"},
		{[]string{"svc", "update", "test/" + name, "--bind", "cache:memcached.default"}, `unknown bind "cache"`},
		{[]string{"svc", "update", "test/nosuch", "--strategy", "at-once"}, "nosuch"},
	} {
		r := s.tend(bad.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || len(lines) != 1 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("tend %v: exit %d, stderr %q; want one line with %q", bad.args[1:], r.code, r.stderr, bad.want)
		}
	}
	if got := readFile(s.specPath(name)); got != specBefore {
		t.Errorf("refused updates changed the spec file:\n%s", got)
	}

	out := s.mustTend("svc", "update", "test/"+name, "--strategy", "at-once", "--update-condition", "latest",
		"--health-check-interval", "7", "--shutdown-timeout", "3")
	if !strings.Contains(out, "without a restart") {
		t.Errorf("svc update said %q", out)
	}
	st := s.status()[sg]
	if st.PID != pid || st.State != "up" {
		t.Errorf("the update restarted the service: pid %d -> %d, state %s", pid, st.PID, st.State)
	}
	var services []struct {
		Strategy string `json:"update_strategy"`
		Interval struct {
			Secs int64 `json:"secs"`
		} `json:"health_check_interval"`
		Binds []string `json:"binds"`
	}
	if !getJSON("http://"+s.http+"/services", &services) || len(services) != 1 || services[0].Strategy != "at-once" || services[0].Interval.Secs != 7 {
		t.Errorf("/services after the update: %+v", services)
	}
	spec := readFile(s.specPath(name))
	for _, want := range []string{`update_strategy = "at-once"`, "shutdown_timeout = 3", "secs = 7"} {
		if !strings.Contains(spec, want) {
			t.Errorf("spec file lacks %q:\n%s", want, spec)
		}
	}
	// The new strategy acts: v2 in the source reaches the service.
	dropDir(t, pkgDir(t, map[string]string{
		"IDENT":          "test/" + name + "/2.0.0/20260101000000",
		"BINDS_OPTIONAL": "db=port\n",
		"hooks/run":      "#!/bin/sh\nexec sleep 1000" + tag + "2\n",
	}), source, name+"-2")
	waitFor(t, 30*time.Second, "v2 up after the strategy changed", func() bool {
		v := s.service(name)
		return v.ident == "test/"+name+"/2.0.0/20260101000000" && v.state == "up"
	})

	// New binds restart it, and are saved.
	pid = s.status()[sg].PID
	out = s.mustTend("svc", "update", "test/"+name, "--bind", "db:postgres.default")
	if !strings.Contains(out, "restarted") {
		t.Errorf("svc update --bind said %q", out)
	}
	waitFor(t, 30*time.Second, "restarted with the bind", func() bool {
		st := s.status()[sg]
		return st.State == "up" && st.PID != pid
	})
	if !strings.Contains(readFile(s.specPath(name)), `binds = ["db:postgres.default"]`) {
		t.Errorf("spec file binds:\n%s", readFile(s.specPath(name)))
	}
	if !getJSON("http://"+s.http+"/services", &services) || len(services) != 1 || !slices.Equal(services[0].Binds, []string{"db:postgres.default"}) || services[0].Strategy != "at-once" {
		t.Errorf("/services after the bind: %+v", services)
	}
}

// checkRoll checks what the sampling saw of a roll to v2: no two members
// seen down in overlapping windows (each member is down once, so
// overlapping observed windows mean overlapping real ones), at least three
// restarts seen at all, and members first seen on v2 in wantOrder. The
// samples of member gone after goneAt are left out.
func checkRoll(t *testing.T, samples []sample, v2 string, wantOrder []string, gone string, goneAt time.Time) {
	t.Helper()
	// Each member's observed down window, and the order members were
	// first seen on v2.
	type window struct{ from, to time.Time }
	down := map[string]*window{}
	var order []string
	for _, sm := range samples {
		if sm.member == gone && sm.at.After(goneAt) {
			continue // its gateway died with it
		}
		if sm.v.ident == v2 && sm.v.state == "up" && !slices.Contains(order, sm.member) {
			order = append(order, sm.member)
		}
		if sm.v.state != "up" && sm.v.ok {
			w := down[sm.member]
			if w == nil {
				w = &window{from: sm.at}
				down[sm.member] = w
			}
			w.to = sm.at
		}
	}
	if len(down) < 3 {
		t.Errorf("only %d members were ever seen down; the sampling missed the restarts", len(down))
	}
	for a, wa := range down {
		for b, wb := range down {
			if a < b && !wa.to.Before(wb.from) && !wb.to.Before(wa.from) {
				t.Errorf("%s (down %s..%s) and %s (down %s..%s) were down at the same time", a,
					wa.from.Format("15:04:05.000"), wa.to.Format("15:04:05.000"), b, wb.from.Format("15:04:05.000"), wb.to.Format("15:04:05.000"))
			}
		}
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("members reached v2 in the order %v, want the ring from the update leader %v", order, wantOrder)
	}
}

// slowPkg is updPkg with an init hook that takes a moment, so each member
// is down long enough for the sampling to see it.
func slowPkg(t *testing.T, name, version, tag string) string {
	return pkgDir(t, map[string]string{
		"IDENT":      "test/" + name + "/" + version + "/20260101000000",
		"hooks/init": "#!/bin/sh\nsleep 0.5\n",
		"hooks/run":  "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
}

// TestUpdateRollingLeaderTopology: in leader topology the followers roll
// along the member-id ring from the update leader and the topology leader
// goes last; one member down at a time, all five end on v2.
func TestUpdateRollingLeaderTopology(t *testing.T) {
	t.Parallel()
	source := t.TempDir()
	sups := ringOf(t, 5, "--update-source", source, "--service-update-period", "1s")
	name := "updlead"
	sg := name + ".default"
	tag1, tag2 := uniqueTag()+"1", uniqueTag()+"2"
	installAndLoad(t, sups, updPkg(t, name, "1.0.0", tag1), "test/"+name, "--strategy", "rolling", "--topology", "leader")
	v1, v2 := "test/"+name+"/1.0.0/20260101000000", "test/"+name+"/2.0.0/20260101000000"
	topo, _ := agreeOnLeader(t, sups, sg, 60*time.Second, "", -1)
	for _, s := range sups {
		waitFor(t, 30*time.Second, "v1 up on "+s.memberID(), func() bool {
			v := s.service(name)
			return v.ident == v1 && v.state == "up"
		})
	}
	// The first member to load is alone in its group for a moment and wins
	// both elections; a later update election would fall to a follower.
	// Either way the topology leader goes last: when it leads the update,
	// the follower after it in the ring goes first.
	leader := updateLeader(t, sups, sg)
	wholeGroupInEveryCensus(t, sups, sg)
	var followers []string
	for _, s := range sups {
		if id := s.memberID(); id != topo {
			followers = append(followers, id)
		}
	}
	slices.Sort(followers)
	k, _ := slices.BinarySearch(followers, leader)
	k %= len(followers)
	wantOrder := append(append(slices.Clone(followers[k:]), followers[:k]...), topo)

	collect := sampler(t, sups, name)
	dropped := time.Now()
	dropDir(t, slowPkg(t, name, "2.0.0", tag2), source, name+"-2.0.0")
	for _, s := range sups {
		waitUntil(t, 120*time.Second, "v2 up on "+s.memberID(), func() (bool, string) {
			v := s.service(name)
			return v.ident == v2 && v.state == "up", fmt.Sprintf("%+v", v)
		})
	}
	took := time.Since(dropped)
	checkRoll(t, collect(), v2, wantOrder, "", time.Time{})
	t.Logf("5 members (leader topology) rolled to v2 in %s; update leader %s, topology leader %s last", took.Round(time.Millisecond), leader, topo)
	if l, _ := agreeOnLeader(t, sups, sg, 30*time.Second, "", -1); l != topo {
		t.Errorf("the topology leader changed from %s to %s during the roll", topo, l)
	}
}
