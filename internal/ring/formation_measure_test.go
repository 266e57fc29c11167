package ring

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMeasureFormation is a measurement, not a check: N in-process
// members (TEND_MEASURE_FORMATION=N; skipped without it) start together,
// joining the first, with tend's timing (memberlist's LAN defaults, gossip
// every 500 ms), and each publishes 4 service rumors. It logs when every
// member holds every rumor, and the push/pull and wire bytes all members
// sent and the process CPU until then and 25 s after the last start (the
// new members' early exchanges). Run without -race:
//
//	TEND_MEASURE_FORMATION=40 go test -run MeasureFormation -v ./internal/ring
func TestMeasureFormation(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TEND_MEASURE_FORMATION"))
	if n < 2 {
		t.Skip("TEND_MEASURE_FORMATION=N (members) not set")
	}
	const svcs = 4
	tm := Timing{GossipInterval: 500 * time.Millisecond}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	cpu0, t0 := cpu(), time.Now()
	var ms []*node
	for i := range n {
		c := Config{MemberID: fmt.Sprintf("m%03d", i), Timing: tm}
		if i > 0 {
			c.Peers = []string{ms[0].Addr()}
		}
		m := start(t, c)
		ms = append(ms, m)
		for s := range svcs {
			rm := benchRumor(i, 1)
			rm.Service.ServiceGroup = fmt.Sprintf("ring%d.g%d", s, i%10)
			if err := m.Publish(rm); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := time.Now()
	report := func(what string) {
		var pp, wire uint64
		for _, m := range ms {
			for k, c := range m.Stats().Kinds {
				if strings.HasPrefix(k, "pushpull") {
					pp += c.BytesSent
				}
				if k == statWire {
					wire += c.BytesSent
				}
			}
		}
		t.Logf("%s: %.1f s after the last start; all %d members sent %.2f MB push/pull (uncompressed), %.2f MB on the wire; process CPU %.1f s",
			what, time.Since(last).Seconds(), n, float64(pp)/1e6, float64(wire)/1e6, (cpu() - cpu0).Seconds())
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		all := true
		for _, m := range ms {
			if m.store.Len() < n*svcs {
				all = false
				break
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not formed in 3 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	report("every member holds every rumor")
	time.Sleep(time.Until(last.Add(25 * time.Second)))
	report("25 s after the last start")
	t.Logf("start of %d members took %.1f s", n, last.Sub(t0).Seconds())
}
