package rumor

import (
	"fmt"
	"testing"
)

// ringState is the push/pull state of a ring of n members, one service
// each in 10 groups, with the exported config and sys info a real
// service rumor carries, and one config per group: what every member
// sends and merges on each push/pull (issue 14).
func ringState(b testing.TB, n int, inc uint64) []byte {
	b.Helper()
	s := NewStore()
	for i := range n {
		id := fmt.Sprintf("%032x", i+1)
		s.Merge(Rumor{Kind: KindService, Service: &Service{
			MemberID: id, ServiceGroup: fmt.Sprintf("ring.g%d", i%10), Package: "bench/ring/1.0.0/20260101000000",
			Incarnation: inc, Health: "OK", Up: true, Initialized: true,
			Cfg: map[string]any{"port": 6379 + i, "ratio": 0.5, "name": "svc", "tls": map[string]any{"enabled": true, "ciphers": []any{"a", "b"}}},
			Sys: Sys{IP: "127.0.0.1", Hostname: "host", GossipIP: "127.0.0.1", GossipPort: 9638 + i, HTTPGatewayIP: "127.0.0.1", HTTPGatewayPort: 9631, CtlGatewayIP: "127.0.0.1", CtlGatewayPort: 9632},
		}})
	}
	for g := range 10 {
		s.Merge(cfg(fmt.Sprintf("ring.g%d", g), inc, "port = 1\n"))
	}
	enc, err := s.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return enc
}

// The four push/pulls a member merges: a state it already holds (a ring
// at rest), a state that is all new (a member joining), a state one
// version newer than the one it holds (every member restarted), and a
// state older than the one it holds (a member that was away).
func BenchmarkMergeEncoded(b *testing.B) {
	state := ringState(b, 50, 2)
	older := ringState(b, 50, 1)
	b.Run("held-50", func(b *testing.B) {
		s := NewStore()
		if _, err := s.MergeEncoded(state); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(state)))
		for b.Loop() {
			if changed, err := s.MergeEncoded(state); changed || err != nil {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("new-50", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(state)))
		for b.Loop() {
			if changed, err := NewStore().MergeEncoded(state); !changed || err != nil {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("newer-50", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(state)))
		for b.Loop() {
			b.StopTimer()
			s := NewStore()
			if _, err := s.MergeEncoded(older); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if changed, err := s.MergeEncoded(state); !changed || err != nil {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("stale-50", func(b *testing.B) {
		s := NewStore()
		if _, err := s.MergeEncoded(state); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(older)))
		for b.Loop() {
			if changed, err := s.MergeEncoded(older); changed || err != nil {
				b.Fatal(changed, err)
			}
		}
	})
}

// persisted is the rumors.json of a supervisor running n services (the
// file a restart reads back before its first start): one service rumor
// each, shaped as tend writes them (sys filled in, an empty or no
// exported config, a start-time incarnation), and, every tenth, one
// exporting a config with a port, a ratio and a nested table.
func persisted(b testing.TB, n int) []byte {
	b.Helper()
	s := NewStore()
	for i := range n {
		var cfg map[string]any
		switch i % 10 {
		case 0:
		case 1:
			cfg = map[string]any{"port": 6379 + i, "ratio": 0.25, "name": "svc", "tls": map[string]any{"enabled": true, "ciphers": []any{"a", "b"}}}
		default:
			cfg = map[string]any{}
		}
		s.Merge(Rumor{Kind: KindService, Service: &Service{
			MemberID: "b5f5611fba3723f285b47825cba7ed34", ServiceGroup: fmt.Sprintf("svc%d.default", i+1),
			Package: fmt.Sprintf("bench/svc%d/1.0.0/20260101000000", i+1), Incarnation: 1796287536214201343 + uint64(i),
			Cfg: cfg, Health: "OK", Up: true, Initialized: true,
			Sys: Sys{IP: "192.0.2.2", Hostname: "vm", GossipIP: "127.0.0.1", GossipPort: 37889, HTTPGatewayIP: "127.0.0.1",
				HTTPGatewayPort: 39387, CtlGatewayIP: "127.0.0.1", CtlGatewayPort: 42417},
		}})
	}
	enc, err := s.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return enc
}

// BenchmarkMergeEncodedFresh500 is a restart over 500 services reading its
// persisted rumors back into its empty store, which the ring waits for
// before the supervisor's first start. Run with -cpu 1 for its CPU time
// (decodeAll shares the work among the CPUs there are).
func BenchmarkMergeEncodedFresh500(b *testing.B) {
	doc := persisted(b, 500)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if changed, err := NewStore().MergeEncoded(doc); !changed || err != nil {
			b.Fatal(changed, err)
		}
	}
}
