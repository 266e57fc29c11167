package process

import (
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
