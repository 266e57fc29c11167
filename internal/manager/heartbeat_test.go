package manager

import (
	"testing"
	"testing/synctest"
	"time"
)

// Both loops answer the heartbeat every second; an owner held by a call
// stops answering (its time stands still) while the ring loop goes on,
// and answers again once released.
func TestLoopsAnswerHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		synctest.Wait()
		start := time.Now()
		for _, l := range fx.m.Loops() {
			if l.Last.IsZero() || start.Sub(l.Last) > time.Second {
				t.Fatalf("%s: last answered %v, now %v", l.Name, l.Last, start)
			}
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		for _, l := range fx.m.Loops() {
			if l.Last.Before(start.Add(3 * time.Second)) {
				t.Fatalf("%s: last answered %v, 3 s after %v", l.Name, l.Last, start)
			}
		}

		held, release := make(chan struct{}), make(chan struct{})
		go fx.m.call(func(*owned) { close(held); <-release })
		<-held
		heldAt := time.Now()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		loops := fx.m.Loops()
		if owner := loops[0]; owner.Name != "manager" || owner.Last.After(heldAt) {
			t.Fatalf("held owner answered: %+v (held at %v)", owner, heldAt)
		}
		if ring := loops[1]; ring.Name != "ring" || ring.Last.Before(heldAt.Add(5*time.Second)) {
			t.Fatalf("ring loop stopped answering: %+v", ring)
		}
		close(release)
		synctest.Wait()
		if owner := fx.m.Loops()[0]; owner.Last.Before(heldAt.Add(5 * time.Second)) {
			t.Fatalf("released owner did not answer: %+v", owner)
		}
	})
}
