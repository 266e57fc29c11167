package rumor

import (
	"reflect"
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
