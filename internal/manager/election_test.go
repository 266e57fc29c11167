package manager

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
)

// A leader-topology service waits for its group's election; the ring loop
// takes this member's steps (the ring merging what it publishes, here the
// test), and once the election is finished the service starts, /status
// records the winner and /metrics' figures hold its term.
func TestLeaderTopologyWaitsForTheElection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		var p progress
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "alpha", nil), Topology: "leader"}, p.add); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if s := fx.service("alpha"); s.Running || fx.f.Count("run") != 0 {
			t.Fatalf("started before any election: %+v", s)
		}
		own := fx.ring.serviceRumors("alpha.default")
		if len(own) == 0 {
			t.Fatal("the service was not gossiped")
		}
		members := []ring.Member{{ID: "m1", Health: "alive"}}
		rumors := []rumor.Rumor{{Kind: rumor.KindService, Service: &own[len(own)-1]}}
		// The ring: what this member publishes comes back merged, until
		// the election is finished.
		var finished *rumor.Election
		for range 10 {
			fx.ring.set(members, rumors)
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			e := fx.ring.lastElection("alpha.default")
			if e == nil {
				continue
			}
			rumors = []rumor.Rumor{rumors[0], {Kind: rumor.KindElection, Election: e}}
			if e.Finished() {
				finished = e
				break
			}
		}
		if finished == nil || finished.MemberID != "m1" {
			t.Fatalf("no finished election with this member leading: %+v", finished)
		}
		fx.ring.set(members, rumors)
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if s := fx.service("alpha"); !s.Running || fx.f.Count("run") != 1 {
			t.Fatalf("not started once the election finished: %+v", s)
		}
		snap := fx.m.publishNow()
		found := false
		for _, r := range snap.Ring.Records {
			found = found || strings.Contains(r.Text, "election of alpha.default finished: term 0, leader m1")
		}
		if !found {
			t.Fatalf("/status records: %+v", snap.Ring.Records)
		}
		if len(snap.Ring.Elections) != 1 || snap.Ring.Elections[0].Leader != "m1" || snap.Ring.Elections[0].Count != 1 {
			t.Fatalf("elections for /metrics: %+v", snap.Ring.Elections)
		}
	})
}
