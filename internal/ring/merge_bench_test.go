package ring

import (
	"fmt"
	"testing"

	"github.com/tend-sh/tend/internal/rumor"
)

// benchRumor is member i's service rumor in a ring of one service per
// member, in 10 groups, at incarnation inc.
func benchRumor(i int, inc uint64) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
		MemberID: fmt.Sprintf("%032x", i+1), ServiceGroup: fmt.Sprintf("ring.g%d", i%10), Package: "bench/ring/1.0.0/20260101000000",
		Incarnation: inc, Health: "OK", Up: true, Cfg: map[string]any{"port": 6379 + i},
		Sys: rumor.Sys{IP: "127.0.0.1", GossipIP: "127.0.0.1", GossipPort: 9638 + i, HTTPGatewayIP: "127.0.0.1", HTTPGatewayPort: 9631},
	}}
}

// stateOf is the whole store (the push/pull state of older tends) of a
// ring of n members (benchRumor) at incarnation inc.
func stateOf(b testing.TB, n int, inc uint64) []byte {
	s := rumor.NewStore()
	for i := range n {
		s.Merge(benchRumor(i, inc))
	}
	enc, err := s.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return enc
}

// BenchmarkMergeRemoteState is what a member spends on the rumors of one
// push/pull of a 50-member ring (memberlist's own part excluded): a state
// it holds already (a ring at rest; every reconnect and early exchange of
// a formed ring) and one where every rumor is one version newer.
func BenchmarkMergeRemoteState(b *testing.B) {
	held, newer := stateOf(b, 50, 1), stateOf(b, 50, 2)
	b.Run("held-50", func(b *testing.B) {
		r, err := New(Config{MemberID: "m", Bind: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		d := &delegate{r}
		d.MergeRemoteState(held, false)
		b.ReportAllocs()
		for b.Loop() {
			d.MergeRemoteState(held, false)
		}
	})
	b.Run("newer-50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			r, err := New(Config{MemberID: "m", Bind: "127.0.0.1:0"})
			if err != nil {
				b.Fatal(err)
			}
			d := &delegate{r}
			d.MergeRemoteState(held, false)
			b.StartTimer()
			d.MergeRemoteState(newer, false)
		}
	})
}
