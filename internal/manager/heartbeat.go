package manager

import (
	"context"
	"time"
)

// defaultHeartbeat is how often the supervisor's own loops are asked to
// answer, for /livez and systemd's watchdog.
const defaultHeartbeat = time.Second

// Loop is one of the manager's loops and when it last answered a heartbeat
// (zero before its first answer).
type Loop struct {
	Name string
	Last time.Time
}

// Loops reports when the owner loop and the ring loop last answered a
// heartbeat. A loop stuck in a call stops answering, and its time stops
// moving: that is what /livez and the watchdog look for.
func (m *Manager) Loops() []Loop {
	return []Loop{
		{Name: "manager", Last: unixNano(m.ownerBeat.Load())},
		{Name: "ring", Last: unixNano(m.ringBeat.Load())},
	}
}

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// heartbeat asks both loops to answer every Config.Heartbeat until ctx
// ends, each from a goroutine of its own, so that a stuck loop holds up
// only its own answers. The owner answers through call (a heartbeat waits
// behind whatever holds it), the ring loop through a channel it selects
// on; a ring loop that has not taken the last ping is not sent another.
func (m *Manager) heartbeat(ctx context.Context) {
	every := m.cfg.Heartbeat
	if every <= 0 {
		every = defaultHeartbeat
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick(ctx, every, func() bool {
			return m.call(func(*owned) { m.ownerBeat.Store(time.Now().UnixNano()) }) == nil
		})
	}()
	tick(ctx, every, func() bool {
		select {
		case m.ringPing <- struct{}{}:
		default:
		}
		return true
	})
	<-done
}

// tick runs f now and every interval until ctx ends or f returns false.
func tick(ctx context.Context, every time.Duration, f func() bool) {
	t := time.NewTicker(every)
	defer t.Stop()
	for f() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
