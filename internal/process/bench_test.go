package process

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	eachForkMode(b, func(b *testing.B, r *Reaper, _ bool) {
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

// eachForkMode runs bench with a reaper that forks every child through
// the spawner threads, then with one that forks them directly.
func eachForkMode(b *testing.B, bench func(b *testing.B, r *Reaper, direct bool)) {
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
			bench(b, r, direct)
		})
	}
}

// BenchmarkStartExitFIFO is BenchmarkStartExitPiped with output FIFOs, as
// the supervisor's services have, kept across starts (a restart). Through
// the spawner it also reports the spawner thread's CPU time per start
// (spawner-ns/op, from its schedstat): the part of a fork that another
// process's load does not stretch.
func BenchmarkStartExitFIFO(b *testing.B) {
	eachForkMode(b, func(b *testing.B, r *Reaper, direct bool) {
		dir := b.TempDir()
		discard := func([]byte) {}
		s := Spec{Path: "/bin/true", Stdout: discard, Stderr: discard, Outputs: [2]string{filepath.Join(dir, "out"), filepath.Join(dir, "err")}}
		run := func() {
			p, err := r.Start(s)
			if err != nil {
				b.Fatal(err)
			}
			<-p.Done()
		}
		run() // the FIFOs made, and the spawner started
		var cpu0 int64
		if !direct {
			cpu0 = spawnersCPU(b, r.spawner)
		}
		b.ResetTimer()
		for b.Loop() {
			run()
		}
		if !direct {
			b.ReportMetric(float64(spawnersCPU(b, r.spawner)-cpu0)/float64(b.N), "spawner-ns/op")
		}
	})
}

// threadCPU returns the time thread tid of this process has run, in ns.
func threadCPU(tb testing.TB, tid int) int64 {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		tb.Fatal(err)
	}
	ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return ns
}

// spawnersCPU is the CPU time of every spawner thread, ns.
func spawnersCPU(b *testing.B, pool *spawnPool) (ns int64) {
	for _, sp := range pool.all {
		ns += threadCPU(b, sp.tid)
	}
	return ns
}
