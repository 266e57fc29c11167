package cgroup

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
)

// startIn starts sleep as a member of g: born in its cgroup, or marked
// for the /proc fallback.
func startIn(t *testing.T, g *Group, marker string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sleep", "1000")
	cmd.Env = []string{marker}
	startInGroup(t, g, cmd)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// killedBy waits for cmd, which must have been signalled, and returns the
// signal it died of.
func killedBy(t *testing.T, cmd *exec.Cmd) syscall.Signal {
	t.Helper()
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) {
		t.Fatalf("pid %d: %v, want killed", cmd.Process.Pid, err)
	}
	return ee.Sys().(syscall.WaitStatus).Signal()
}

// A member that exits after the scan of its group can be reaped and its
// pid taken by a process that is none of the service's before the signal
// is sent. Such a process, named by the scan but not the member it saw
// (in a cgroup: not in it; through /proc: with another start time), is
// not signalled; the members are.
func TestSignalSkipsAPidTakenSinceTheScan(t *testing.T) {
	for _, mode := range []string{Auto, Off} {
		t.Run(mode, func(t *testing.T) {
			tr := newTracker(t, mode)
			g, err := tr.Group("svc")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { g.Remove() }) // after the members' cleanups
			member := startIn(t, g, tr.markerPrefix()+"svc.default")
			outsider := startIn(t, &Group{t: tr, name: "other"}, "X=1")
			waitMembers(t, g, 1)
			ms, err := g.members()
			if err != nil || len(ms) != 1 || ms[0].pid != member.Process.Pid {
				t.Fatalf("members %+v, %v; want %d", ms, err, member.Process.Pid)
			}
			start, err := StartTime(outsider.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			// What the scan would have read of a member whose pid the
			// outsider took since: that pid, the member's start time.
			stale := proc{pid: outsider.Process.Pid, start: start - 1}
			if err := g.signal([]proc{stale, ms[0]}, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if sig := killedBy(t, member); sig != syscall.SIGKILL {
				t.Errorf("member died of %q, want %q", sig, syscall.SIGKILL)
			}
			// The first fatal signal is the one a process dies of: had
			// the SIGKILL reached the outsider, this SIGTERM would not.
			outsider.Process.Signal(syscall.SIGTERM)
			if sig := killedBy(t, outsider); sig != syscall.SIGTERM {
				t.Errorf("outsider died of %q, want %q: the pid taken since the scan was signalled", sig, syscall.SIGTERM)
			}
		})
	}
}
