package process

import (
	"errors"
	"os/exec"
	"testing"
)

// BenchmarkStartExit is the supervisor's exit-to-respawn loop: start a child
// that exits at once and wait for Done.
func BenchmarkStartExit(b *testing.B) {
	r := startReaper(b)
	for b.Loop() {
		p, err := r.Start(Spec{Path: "/bin/true"})
		if err != nil {
			b.Fatal(err)
		}
		<-p.Done()
	}
}

// BenchmarkStartExitPiped also waits for two output pumps to drain.
func BenchmarkStartExitPiped(b *testing.B) { forkModes(b, 0) }

// BenchmarkExecCommandWait is the baseline: os/exec with its own wait. No
// reaper may run meanwhile, or it would steal the status.
func BenchmarkExecCommandWait(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartExitBusy is BenchmarkStartExitPiped beside 500 running
// children with two pipes each (1,000 more descriptors).
func BenchmarkStartExitBusy(b *testing.B) { forkModes(b, 500) }

// forkModes runs the piped start-and-exit loop beside `busy` sleeping
// children, forking through the spawner and directly from the
// supervisor's table.
func forkModes(b *testing.B, busy int) {
	for _, direct := range []bool{false, true} {
		name := "spawner"
		if direct {
			name = "direct"
		}
		b.Run(name, func(b *testing.B) {
			r := startReaper(b)
			r.spawnFrom = 0
			if direct {
				r.spawnErr = errors.New("benchmark: fork directly")
			}
			startSleepers(b, r, busy)
			discard := func([]byte) {}
			b.ResetTimer()
			for b.Loop() {
				p, err := r.Start(Spec{Path: "/bin/true", Stdout: discard, Stderr: discard})
				if err != nil {
					b.Fatal(err)
				}
				<-p.Done()
			}
		})
	}
}
