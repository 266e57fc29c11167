package process

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// respawnCost measures the mean cost of one exit-and-respawn cycle of
// /bin/true over n cycles. With reaper nil it is the os/exec baseline.
func respawnCost(t testing.TB, r *Reaper, n int) time.Duration {
	t.Helper()
	begin := time.Now()
	for range n {
		if r == nil {
			if err := exec.Command("/bin/true").Run(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		p, err := r.Start(Spec{Path: "/bin/true"})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
	}
	return time.Since(begin) / time.Duration(n)
}

// The supervisor must notice an exit and respawn within 1.5x the time of a
// bare exec.Command+Wait loop. Rounds alternate between the two, since the
// reaper must not run while os/exec waits, and the best round of each
// counts, which filters out noise from other load on the machine.
func TestRespawnLatency(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not in -short or -race")
	}
	const rounds, cycles = 7, 60
	best := func(d, b time.Duration) time.Duration {
		if b == 0 || d < b {
			return d
		}
		return b
	}
	var reaper, bare time.Duration
	for range rounds {
		bare = best(respawnCost(t, nil, cycles), bare)
		r := NewReaper(nil)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- r.Run(ctx) }()
		reaper = best(respawnCost(t, r, cycles), reaper)
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	ratio := float64(reaper) / float64(bare)
	t.Logf("respawn: reaper %v, exec.Command+Wait %v, ratio %.2f", reaper, bare, ratio)
	if ratio > 1.5 {
		t.Errorf("respawn through the reaper takes %.2fx a bare exec loop, want <= 1.5x", ratio)
	}
}
