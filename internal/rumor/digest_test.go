package rumor

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// TestDigestExchangeConverges: two stores holding any two parts of a set
// of rumors, each sending the other what the other's digest lacks or
// holds in another version, both end with the store that merged the
// whole set; their sums are then equal, and another exchange sends
// nothing.
func TestDigestExchangeConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(genRumor(), 0, 20).Draw(t, "rumors")
		all := NewStore()
		for _, r := range rs {
			all.Merge(r)
		}
		c, d := NewStore(), NewStore()
		for _, r := range rs {
			switch rapid.IntRange(0, 2).Draw(t, "where") {
			case 0:
				c.Merge(r)
			case 1:
				d.Merge(r)
			default:
				c.Merge(r)
				d.Merge(r)
			}
		}
		_, dc := c.Digest()
		_, dd := d.Digest()
		toD, _ := c.EncodeLacking(dd)
		toC, _ := d.EncodeLacking(dc)
		for _, x := range []struct {
			s   *Store
			doc []byte
		}{{c, toC}, {d, toD}} {
			if x.doc == nil {
				continue
			}
			if _, err := x.s.MergeState(x.doc); err != nil {
				t.Fatal(err)
			}
		}
		want, _ := all.Encode()
		for name, s := range map[string]*Store{"c": c, "d": d} {
			if got, _ := s.Encode(); !bytes.Equal(got, want) {
				t.Fatalf("%s after the exchange:\n%s\nwant\n%s", name, got, want)
			}
		}
		if c.Sum() != d.Sum() || c.Sum() != all.Sum() {
			t.Fatalf("equal stores, sums %x %x %x", c.Sum(), d.Sum(), all.Sum())
		}
		_, dd = d.Digest()
		if doc, n := c.EncodeLacking(dd); n != 0 || doc != nil {
			t.Fatalf("equal stores: %d rumors sent (%s)", n, doc)
		}
	})
}

// TestDigestNamesWhatDiffers: a peer lacking a rumor, or holding another
// version of it, is sent ours; one holding the same is not; the sums of
// stores that differ differ.
func TestDigestNamesWhatDiffers(t *testing.T) {
	a, b := NewStore(), NewStore()
	for _, s := range []*Store{a, b} {
		s.Merge(svc("redis.default", "m1", 1, "OK"))
		s.Merge(cfg("redis.default", 1, "x = 1"))
	}
	if a.Sum() != b.Sum() {
		t.Fatal("same rumors, different sums")
	}
	a.Merge(svc("redis.default", "m1", 2, "OK")) // b holds version 1
	a.Merge(dep("m9"))                           // b lacks it
	if a.Sum() == b.Sum() {
		t.Fatal("different rumors, same sum")
	}
	_, db := b.Digest()
	doc, n := a.EncodeLacking(db)
	if n != 2 || !bytes.Contains(doc, []byte(`"incarnation":2`)) || !bytes.Contains(doc, []byte(`"m9"`)) || bytes.Contains(doc, []byte(`"config"`)) {
		t.Fatalf("sent %d rumors: %s; want the newer service and the departure", n, doc)
	}
	if _, err := b.MergeState(doc); err != nil {
		t.Fatal(err)
	}
	if a.Sum() != b.Sum() {
		t.Fatal("stores made equal, sums differ")
	}
}
