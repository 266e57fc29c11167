package ring

import (
	"bytes"
	"compress/lzw"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// lzwRoundTrip is what memberlist does to a push/pull state or a TCP
// message with compression on (its default): LZW out, LZW in. It returns
// the compressed size.
func lzwRoundTrip(b *testing.B, msg []byte) int {
	var buf bytes.Buffer
	w := lzw.NewWriter(&buf, lzw.LSB, 8)
	if _, err := w.Write(msg); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	n := buf.Len()
	r := lzw.NewReader(&buf, lzw.LSB, 8)
	if _, err := io.Copy(io.Discard, r); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkPushPull200 is what one push/pull between two members of a
// 200-member ring costs both of them together, memberlist's node table
// excluded: the rumor states made, compressed, decompressed and merged,
// and for digests the deltas that follow. "whole" is the exchange before
// digests (each side's whole store, both ways), "digest" the one now.
// Cases: both hold the same rumors (a ring at rest; every periodic
// push/pull), one member's rumor changed since (a ring at work), and a
// newcomer that holds only its own (a join).
func BenchmarkPushPull200(b *testing.B) {
	const n = 200
	cases := []struct {
		name string
		peer func(s *rumor.Store)
	}{
		{"held", func(s *rumor.Store) {
			for i := range n {
				s.Merge(benchRumor(i, 1))
			}
		}},
		{"one-newer", func(s *rumor.Store) {
			for i := range n {
				s.Merge(benchRumor(i, 1))
			}
			s.Merge(benchRumor(0, 2))
		}},
		{"newcomer", func(s *rumor.Store) { s.Merge(benchRumor(n, 1)) }},
	}
	pair := func(b *testing.B, peer func(*rumor.Store)) (*Ring, *Ring) {
		x, err := New(Config{MemberID: "x", Bind: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		y, err := New(Config{MemberID: "y", Bind: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			x.store.Merge(benchRumor(i, 1))
		}
		peer(y.store)
		return x, y
	}
	for _, tc := range cases {
		b.Run("whole-"+tc.name, func(b *testing.B) {
			var raw, wire int
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				x, y := pair(b, tc.peer)
				b.StartTimer()
				sx, _ := x.store.Encode()
				sy, _ := y.store.Encode()
				raw, wire = len(sx)+len(sy), lzwRoundTrip(b, sx)+lzwRoundTrip(b, sy)
				(&delegate{y}).MergeRemoteState(sx, false)
				(&delegate{x}).MergeRemoteState(sy, false)
			}
			b.ReportMetric(float64(raw), "state-B/op")
			b.ReportMetric(float64(wire), "lzw-B/op")
		})
		b.Run("digest-"+tc.name, func(b *testing.B) {
			var raw, wire int
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				x, y := pair(b, tc.peer)
				b.StartTimer()
				dx, dy := x.encodeDigest(), y.encodeDigest()
				raw, wire = len(dx)+len(dy), lzwRoundTrip(b, dx)+lzwRoundTrip(b, dy)
				(&delegate{y}).MergeRemoteState(dx, false)
				(&delegate{x}).MergeRemoteState(dy, false)
				for _, p := range [][2]*Ring{{x, y}, {y, x}} {
					if req, ok := p[0].deltas.take(); ok {
						if msg, k := p[0].deltaMsg(req); k > 0 {
							raw += len(msg)
							wire += lzwRoundTrip(b, msg)
							(&delegate{p[1]}).NotifyMsg(msg)
						}
					}
				}
			}
			b.ReportMetric(float64(raw), "state-B/op")
			b.ReportMetric(float64(wire), "lzw-B/op")
		})
	}
}

// BenchmarkReadPersisted500 is what `sup run` spends reading back the
// rumors of a supervisor that ran 500 services before its first start:
// the file as tend writes it (one service rumor each, sys filled in,
// no exported config), read and merged into a new store.
func BenchmarkReadPersisted500(b *testing.B) {
	s := rumor.NewStore()
	for i := range 500 {
		r := benchRumor(0, 1796287536214201343+uint64(i))
		r.Service.ServiceGroup = fmt.Sprintf("svc%d.default", i+1)
		r.Service.Package = fmt.Sprintf("bench/svc%d/1.0.0/20260101000000", i+1)
		r.Service.Cfg = map[string]any{}
		s.Merge(r)
	}
	enc, err := s.Encode()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, rumorsFile), enc, 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if p := ReadPersisted(dir); p.err != nil || !p.read || p.store.Len() != 500 {
			b.Fatal(p.err, p.read, p.store.Len())
		}
	}
}
