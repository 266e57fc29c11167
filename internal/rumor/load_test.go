package rumor

import (
	"reflect"
	"strings"
	"testing"
)

// A supervisor reads its persisted rumors back into an empty store before
// it starts a service: each rumor is decoded once, not its head first,
// and the store ends up holding what a store that looked at the heads
// holds.
func TestMergeEncodedIntoEmptyStoreDecodesOnce(t *testing.T) {
	state := ringState(t, 50, 2)
	other := svc("other.default", "m9", 1, "OK")
	load := func(withOther bool) *Store {
		s := NewStore()
		if withOther {
			s.Merge(other) // every head of the document is looked at first
		}
		if _, err := s.MergeEncoded(state); err != nil {
			t.Fatal(err)
		}
		return s
	}
	fresh := testing.AllocsPerRun(5, func() { load(false) })
	heads := testing.AllocsPerRun(5, func() { load(true) })
	t.Logf("allocations: empty store %.0f, holding one %.0f", fresh, heads)
	if fresh >= 0.9*heads {
		t.Errorf("loading 60 rumors into an empty store: %.0f allocations; into a store holding one: %.0f; want the heads not decoded", fresh, heads)
	}

	a, b := load(false), load(true)
	if a.Len() != 60 || b.Len() != 61 {
		t.Fatalf("stores hold %d and %d rumors, want 60 and 61", a.Len(), b.Len())
	}
	for _, r := range a.All() {
		if got, ok := b.Get(r.Key()); !ok || !reflect.DeepEqual(got, r) {
			t.Errorf("%s: loaded without looking at heads %+v, with %+v", r.Key(), r, got)
		}
	}
}

// Rumors read back into an empty store are not checked as JSON before
// they are decoded (mergeDecoded): a document with a rumor that does not
// decode must still change nothing, a rumor that decodes but is not valid
// is skipped with the others merged, and the store's digest is the one
// merging them one by one makes.
func TestMergeEncodedIntoEmptyStoreChecksEveryRumor(t *testing.T) {
	state := ringState(t, 150, 2) // 160 rumors: decoded side by side
	body := state[len(encodedHead) : len(state)-len(encodedTail)]
	doc := func(extra string) []byte {
		return []byte(encodedHead + string(body) + "," + extra + encodedTail)
	}

	s := NewStore()
	if _, err := s.MergeEncoded(doc(`{"kind":"service","service":{"member_id":tru}}`)); err == nil || !strings.Contains(err.Error(), "decode store") {
		t.Fatalf("a rumor that is not JSON: err %v, want the document refused", err)
	}
	if s.Len() != 0 {
		t.Fatalf("a document that does not decode left %d rumors", s.Len())
	}

	ms, err := s.MergeState(doc(`{"kind":"service","service":{"member_id":"","service_group":"x.default","incarnation":1}}`))
	if err == nil || !strings.Contains(err.Error(), "1 of 161 rumors skipped") {
		t.Fatalf("an invalid rumor: err %v, want it skipped and reported", err)
	}
	if s.Len() != 160 || len(ms) != 160 {
		t.Fatalf("with an invalid rumor: %d held, %d reported merged; want the other 160", s.Len(), len(ms))
	}

	one := NewStore()
	one.Merge(other()) // not empty: each rumor merged on its own (mergeJSON)
	if _, err := one.MergeEncoded(state); err != nil {
		t.Fatal(err)
	}
	fresh := NewStore()
	if _, err := fresh.MergeEncoded(state); err != nil {
		t.Fatal(err)
	}
	fresh.Merge(other())
	if fresh.Sum() != one.Sum() {
		t.Errorf("digest of a store loaded empty %x, merged one by one %x", fresh.Sum(), one.Sum())
	}
}

func other() Rumor { return svc("other.default", "m9", 1, "OK") }
