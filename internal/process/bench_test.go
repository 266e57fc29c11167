package process

import (
	"errors"
	"os/exec"
	"syscall"
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
func BenchmarkStartExitPiped(b *testing.B) {
	r := startReaper(b)
	discard := func([]byte) {}
	for b.Loop() {
		p, err := r.Start(Spec{Path: "/bin/true", Stdout: discard, Stderr: discard})
		if err != nil {
			b.Fatal(err)
		}
		<-p.Done()
	}
}

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
// children with two pipes each: through the spawner, and forked from the
// supervisor's own table (1,000 more descriptors to copy and close).
func BenchmarkStartExitBusy(b *testing.B) {
	for _, direct := range []bool{false, true} {
		name := "spawner"
		if direct {
			name = "direct"
		}
		b.Run(name, func(b *testing.B) {
			r := startReaper(b)
			if direct {
				r.spawnErr = errors.New("benchmark: fork directly")
			}
			discard := func([]byte) {}
			var busy []*Proc
			defer func() {
				for _, p := range busy {
					p.Signal(syscall.SIGKILL)
					<-p.Done()
				}
			}()
			for range 500 {
				p, err := r.Start(Spec{Path: "/bin/sleep", Args: []string{"600"}, Stdout: discard, Stderr: discard})
				if err != nil {
					b.Fatal(err)
				}
				busy = append(busy, p)
			}
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
