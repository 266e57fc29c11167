package rumor

import (
	"fmt"
	"testing"
)

// Shared lists every rumor for a reader that keeps them (the census fold)
// without a copy of each: its allocations do not grow with the rumors,
// where All's do, and it lists the same rumors.
func TestSharedCopiesNoRumor(t *testing.T) {
	s := NewStore()
	const n = 200
	for i := range n {
		s.Merge(svc(fmt.Sprintf("svc%03d.default", i), "m1", 1, "OK"))
	}
	all, shared := s.All(), s.Shared()
	if len(shared) != n || len(all) != n {
		t.Fatalf("Shared lists %d rumors, All %d; want %d", len(shared), len(all), n)
	}
	for i := range all {
		if all[i].Key() != shared[i].Key() || all[i].Service.Health != shared[i].Service.Health {
			t.Fatalf("rumor %d: Shared %s, All %s", i, shared[i].Key(), all[i].Key())
		}
	}
	if a := testing.AllocsPerRun(5, func() { s.Shared() }); a > 4 {
		t.Errorf("Shared makes %.0f allocations for %d rumors, want a few", a, n)
	}
}
