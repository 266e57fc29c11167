package process

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const marker = "TEND_SERVICE=redis.default@m1"

// startLeftover starts, outside any reaper, what a killed supervisor leaves
// behind: a session and group leader with the marker in its environment and
// a member of its group. It returns the leader's and the member's pids.
func startLeftover(t *testing.T, ignoreTerm bool) (leader, member int) {
	t.Helper()
	trap := ""
	if ignoreTerm {
		trap = `trap "" TERM; `
	}
	cmd := exec.Command("/bin/sh", "-c", marker+` setsid sh -c '`+trap+`sleep 1000 & echo $$ $!; exec sleep 1000' &`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	// The outer shell has exited at once; no reaper runs in this test, so
	// Wait is allowed. The leftovers are re-parented away from us.
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	leader, _ = strconv.Atoi(f[0])
	member, _ = strconv.Atoi(f[1])
	t.Cleanup(func() {
		_ = syscall.Kill(-leader, syscall.SIGKILL)
	})
	return leader, member
}

// dead reports that pid has exited; its new parent may leave it a zombie.
func dead(pid int) func() bool {
	return func() bool {
		st, _ := procState(pid)
		return st == "" || st == "Z"
	}
}

func TestLeftover(t *testing.T) {
	leader, member := startLeftover(t, false)
	for _, tc := range []struct {
		pid    int
		marker string
		want   bool
	}{
		{leader, marker, true},
		{leader, "TEND_SERVICE=redis.default", false}, // a prefix is not the entry
		{leader, marker + "x", false},
		{leader, "", false},
		{member, marker, false}, // has the marker but does not lead a group
		{0, marker, false},
		{-1, marker, false},
	} {
		if got := Leftover(tc.pid, tc.marker); got != tc.want {
			t.Errorf("Leftover(%d, %q) = %v, want %v", tc.pid, tc.marker, got, tc.want)
		}
	}
	if err := KillLeftover(context.Background(), leader, syscall.SIGTERM, testTimeout); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "leader dead", dead(leader))
	waitFor(t, "member dead", dead(member))
	if Leftover(leader, marker) {
		t.Error("Leftover true after KillLeftover")
	}
	// A process that is gone is not an error.
	if err := KillLeftover(context.Background(), leader, syscall.SIGTERM, time.Second); err != nil {
		t.Errorf("KillLeftover of a dead pid: %v", err)
	}
}

func TestKillLeftoverEscalates(t *testing.T) {
	leader, member := startLeftover(t, true)
	const timeout = 200 * time.Millisecond
	begin := time.Now()
	if err := KillLeftover(context.Background(), leader, syscall.SIGTERM, timeout); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < timeout {
		t.Errorf("returned after %v, before the %v timeout", d, timeout)
	}
	waitFor(t, "leader dead", dead(leader))
	waitFor(t, "member dead", dead(member))
}

func TestKillLeftoverContext(t *testing.T) {
	leader, member := startLeftover(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := KillLeftover(ctx, leader, syscall.SIGTERM, time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	// Cancelling still ends in SIGKILL.
	waitFor(t, "leader dead", dead(leader))
	waitFor(t, "member dead", dead(member))
}
