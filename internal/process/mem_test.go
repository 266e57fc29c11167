package process

import (
	"context"
	"runtime"
	"syscall"
	"testing"
)

// The supervisor's RSS budget is about 30 MB with 500 children, most of them
// silent: what the reaper keeps per idle child must stay small.
func TestIdleChildMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement: not in -short or -race")
	}
	const n = 500
	r := startReaper(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	discard := func([]byte) {}
	procs := make([]*Proc, 0, n)
	defer func() {
		for _, p := range procs {
			p.Stop(context.Background(), syscall.SIGKILL, 0)
		}
	}()
	for range n {
		procs = append(procs, start(t, r, Spec{Path: "/bin/sleep", Args: []string{"1000"}, Stdout: discard, Stderr: discard}))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perChild := (after.HeapInuse + after.StackInuse - before.HeapInuse - before.StackInuse) / n
	t.Logf("%d idle children with two pumps each: %d bytes of heap and stack per child", n, perChild)
	if perChild > 16<<10 {
		t.Errorf("%d bytes per idle child, want <= 16 KiB", perChild)
	}
}
