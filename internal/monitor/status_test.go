package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/api"
)

func rec(sec int, ok bool, text string) api.Record {
	return api.Record{At: t0.Add(time.Duration(sec) * time.Second), OK: ok, Text: text}
}

func getStatus(t *testing.T, m *Monitor) statusDoc {
	t.Helper()
	r := get(t, m, http.MethodGet, "/status")
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/status: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var doc statusDoc
	if err := json.Unmarshal([]byte(body(t, r)), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestStatusDegradeAndHeal: two error records in a row degrade a component,
// one [ok] heals it.
func TestStatusDegradeAndHeal(t *testing.T) {
	ok, bad := true, false
	for _, tc := range []struct {
		seq  []bool
		want string
	}{
		{nil, statusHealthy},
		{[]bool{ok}, statusHealthy},
		{[]bool{bad}, statusHealthy},
		{[]bool{ok, bad}, statusHealthy},
		{[]bool{bad, bad}, statusDegraded},
		{[]bool{ok, bad, bad}, statusDegraded},
		{[]bool{bad, bad, ok}, statusHealthy},
		{[]bool{bad, bad, ok, bad}, statusHealthy},
		{[]bool{bad, bad, ok, bad, bad}, statusDegraded},
	} {
		var recs []api.Record
		for i, o := range tc.seq {
			recs = append(recs, rec(i, o, "x"))
		}
		if got := recordsStatus(recs); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.seq, got, tc.want)
		}
	}

	// The same through the endpoint, snapshot after snapshot.
	f := newFixture()
	m := mustNew(t, f.options())
	svc := running("redis")
	for i, step := range []struct {
		add  api.Record
		want string
	}{
		{rec(1, true, "health check OK"), statusHealthy},
		{rec(2, false, "health check CRITICAL"), statusHealthy},
		{rec(3, false, "health check CRITICAL"), statusDegraded},
		{rec(4, true, "health check OK"), statusHealthy},
	} {
		svc.Records = append(svc.Records[:len(svc.Records):len(svc.Records)], step.add)
		f.set(readySnap(svc))
		doc := getStatus(t, m)
		if got := doc.Components["redis.default"].Status; got != step.want {
			t.Fatalf("step %d: %s, want %s", i, got, step.want)
		}
		if doc.Status != step.want {
			t.Fatalf("step %d: root %s, want %s", i, doc.Status, step.want)
		}
	}
}

func TestServiceComponentRules(t *testing.T) {
	mk := func(mod func(*api.Service)) *api.Service {
		s := running("x")
		mod(&s)
		return &s
	}
	for _, tc := range []struct {
		name           string
		svc            *api.Service
		status, reason string
	}{
		{"running", mk(func(*api.Service) {}), statusHealthy, ""},
		{"spec error", mk(func(s *api.Service) { s.Running, s.SpecError = false, "line 3: expected '='" }),
			statusDown, "spec file cannot be read: line 3: expected '='"},
		{"never started", mk(func(s *api.Service) { s.Running = false }), statusDown, "not running: never started"},
		{"start failed", mk(func(s *api.Service) { s.Running, s.StartError = false, "init hook failed" }),
			statusDown, "not running: init hook failed"},
		{"exited, restart pending", mk(func(s *api.Service) {
			s.Running, s.LastExit, s.NextRestart = false, &api.Exit{Code: 1}, t0
		}), statusDown, "not running: exited with code 1; next restart at Mon, 29 May 2023 16:36:40 UTC"},
		{"killed", mk(func(s *api.Service) { s.Running, s.LastExit = false, &api.Exit{Code: -1, Signal: "SIGKILL"} }),
			statusDown, "not running: killed by SIGKILL"},
		{"stopped on purpose", mk(func(s *api.Service) { s.Running, s.DesiredUp = false, false }), statusHealthy, "stopped"},
		{"stopping", mk(func(s *api.Service) { s.DesiredUp = false }), statusHealthy, "stopping"},
		{"stopped with errors", mk(func(s *api.Service) {
			s.Running, s.DesiredUp = false, false
			s.Records = []api.Record{rec(1, false, "a"), rec(2, false, "b")}
		}), statusHealthy, "stopped"},
		{"running, two errors", mk(func(s *api.Service) {
			s.Records = []api.Record{rec(1, false, "a"), rec(2, false, "b")}
		}), statusDegraded, ""},
	} {
		c := serviceComponent(tc.svc, 5, nil)
		if c.Status != tc.status || c.Reason != tc.reason {
			t.Errorf("%s: %s %q, want %s %q", tc.name, c.Status, c.Reason, tc.status, tc.reason)
		}
	}
}

func TestRootStatus(t *testing.T) {
	for _, tc := range []struct {
		services, down int
		allHealthy     bool
		want           string
	}{
		{0, 0, true, statusHealthy},
		{0, 0, false, statusDegraded}, // store or ring degraded
		{3, 0, true, statusHealthy},
		{3, 1, false, statusDegraded},
		{3, 3, false, statusDown},
		{1, 1, false, statusDown},
	} {
		if got := rootStatus(tc.services, tc.down, tc.allHealthy); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc, got, tc.want)
		}
	}
}

func TestStatusDocument(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.StatusRecords = 3
	o.Secrets = []string{"configured-gateway-token"}
	m := mustNew(t, o)

	redis := running("redis")
	for i := range 6 {
		redis.Records = append(redis.Records, rec(i, true, fmt.Sprintf("health check OK %d", i)))
	}
	broken := running("web")
	broken.Running, broken.SpecError = false, "unexpected EOF"
	broken.Records = []api.Record{rec(0, false, "hook said Authorization: Bearer configured-gateway-token")}
	stopped := running("batch")
	stopped.Running, stopped.DesiredUp = false, false
	s := readySnap(stopped, redis, broken)
	s.StoreRecords = []api.Record{rec(0, false, "corrupt spec file web.spec"), rec(1, false, "corrupt spec file web.spec")}
	f.set(s)

	got := getStatus(t, m)
	want := statusDoc{
		Status: statusDegraded,
		Components: map[string]component{
			"batch.default": {Status: statusHealthy, Reason: "stopped", Records: []string{}},
			"redis.default": {Status: statusHealthy, Records: []string{
				"Mon, 29 May 2023 16:36:43 UTC: [ok] health check OK 3",
				"Mon, 29 May 2023 16:36:44 UTC: [ok] health check OK 4",
				"Mon, 29 May 2023 16:36:45 UTC: [ok] health check OK 5",
			}},
			"web.default": {Status: statusDown, Reason: "spec file cannot be read: unexpected EOF", Records: []string{
				"Mon, 29 May 2023 16:36:40 UTC: [error] hook said Authorization: Bearer ****oken",
			}},
			"ring": {Status: statusHealthy, Records: []string{
				"Mon, 29 May 2023 14:36:40 UTC: [ok] single member, no ring",
			}},
			"store": {Status: statusDegraded, Records: []string{
				"Mon, 29 May 2023 16:36:40 UTC: [error] corrupt spec file web.spec",
				"Mon, 29 May 2023 16:36:41 UTC: [error] corrupt spec file web.spec",
			}},
		},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(statusDoc{}, component{})); diff != "" {
		t.Fatalf("/status (-want +got):\n%s", diff)
	}
	raw := body(t, get(t, m, http.MethodGet, "/status"))
	if strings.Contains(raw, "configured-gateway-token") || !strings.Contains(raw, `"records":[]`) {
		t.Fatalf("raw /status: %s", raw)
	}
}

// TestRingComponent: the members' health decides the ring's status, the
// reason counts them; records are kept but do not decide.
func TestRingComponent(t *testing.T) {
	m := func(id, h string) api.Member { return api.Member{ID: id, Health: h} }
	twoErrors := []api.Record{rec(0, false, "member c is confirmed"), rec(1, false, "member c is departed")}
	for _, tc := range []struct {
		name           string
		members        []api.Member
		records        []api.Record
		status, reason string
	}{
		{"alone", []api.Member{m("me", "alive")}, nil, statusHealthy, "1 member: 1 alive"},
		{"all alive", []api.Member{m("me", "alive"), m("b", "alive"), m("c", "alive")}, nil,
			statusHealthy, "3 members: 3 alive"},
		{"one suspect", []api.Member{m("me", "alive"), m("b", "alive"), m("c", "suspect")}, nil,
			statusDegraded, "3 members: 2 alive, 1 suspect"},
		{"one confirmed", []api.Member{m("me", "alive"), m("c", "confirmed")}, nil,
			statusDegraded, "2 members: 1 alive, 1 confirmed"},
		{"every state", []api.Member{m("me", "alive"), m("b", "suspect"), m("c", "confirmed"), m("d", "departed"), m("e", "departed")}, nil,
			statusDegraded, "5 members: 1 alive, 1 suspect, 1 confirmed, 2 departed"},
		{"departed heals, whatever the records", []api.Member{m("me", "alive"), m("c", "departed")}, twoErrors,
			statusHealthy, "2 members: 1 alive, 1 departed"},
		{"this member departed", []api.Member{m("me", "departed"), m("b", "alive")}, nil,
			statusDegraded, "2 members: 1 alive, 1 departed; this member has been departed"},
		{"unknown health", []api.Member{m("me", "alive"), m("b", "")}, nil, statusHealthy, "2 members: 1 alive, 1 unknown"},
		{"no members yet", nil, nil, statusHealthy, "0 members"},
	} {
		s := readySnap()
		s.Sup.MemberID = "me"
		s.Ring = &api.Ring{Members: tc.members, Records: tc.records}
		c := ringComponent(s, 5, nil)
		if c.Status != tc.status || c.Reason != tc.reason || len(c.Records) != len(tc.records) {
			t.Errorf("%s: %s %q %d records, want %s %q %d", tc.name, c.Status, c.Reason, len(c.Records), tc.status, tc.reason, len(tc.records))
		}
	}
}

func TestStatusRootDownAndRing(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	a, b := running("a"), running("b")
	a.Running, b.Running = false, false
	s := readySnap(a, b)
	s.Ring = &api.Ring{
		Members: []api.Member{{ID: "me", Health: "alive"}, {ID: "x", Health: "confirmed"}},
		Records: []api.Record{rec(0, false, "member x is suspect"), rec(1, false, "member x is confirmed")},
	}
	f.set(s)
	doc := getStatus(t, m)
	want := component{Status: statusDegraded, Reason: "2 members: 1 alive, 1 confirmed", Records: []string{
		"Mon, 29 May 2023 16:36:40 UTC: [error] member x is suspect",
		"Mon, 29 May 2023 16:36:41 UTC: [error] member x is confirmed",
	}}
	if diff := cmp.Diff(want, doc.Components["ring"]); doc.Status != statusDown || diff != "" {
		t.Fatalf("root %s, ring (-want +got):\n%s", doc.Status, diff)
	}
	// One service back: degraded, not down.
	b.Running = true
	f.set(readySnap(a, b))
	if doc := getStatus(t, m); doc.Status != statusDegraded {
		t.Fatalf("root %s", doc.Status)
	}
	// Before any snapshot: no services, healthy ring and store.
	f.set(nil)
	if doc := getStatus(t, m); doc.Status != statusHealthy || len(doc.Components) != 2 {
		t.Fatalf("empty: %+v", doc)
	}
}

func TestStatusEncodedOncePerSnapshot(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	s := readySnap(running("redis"))
	f.set(s)
	b1, err1 := m.statusBody(s)
	b2, err2 := m.statusBody(s)
	if err1 != nil || err2 != nil || &b1[0] != &b2[0] {
		t.Fatal("the same snapshot should give the same encoded bytes")
	}
	// Another monitor (other options) reading the same snapshot has its own.
	o := f.options()
	o.StatusRecords = 1
	m2 := mustNew(t, o)
	if b3, _ := m2.statusBody(s); &b3[0] == &b1[0] {
		t.Fatal("monitors must not share a memo entry")
	}
}

func TestStatusOptions(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	r := get(t, m, http.MethodOptions, "/status")
	if r.StatusCode != http.StatusNoContent || r.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Fatalf("OPTIONS /status: %d Allow=%q", r.StatusCode, r.Header.Get("Allow"))
	}
	if got := body(t, r); got != "" {
		t.Fatalf("body %q", got)
	}
}

func TestRoutesFollowOptions(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.Ready, o.Metrics = false, false
	m := mustNew(t, o)
	var got []string
	for p := range m.Routes() {
		got = append(got, p)
	}
	want := []string{"GET /healthy", "GET /status", "OPTIONS /status"}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
		t.Fatalf("routes (-want +got):\n%s", diff)
	}
	if r := get(t, m, http.MethodGet, "/ready"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/ready when disabled: %d", r.StatusCode)
	}
}
