package sdnotify

import (
	"context"
	"time"
)

// Sender sends one notification (*Notifier).
type Sender interface {
	Send(assignments ...string) error
}

// Supervisor is what Run tells the service manager about.
type Supervisor struct {
	// Ready is closed once the supervisor is ready (/ready turns 200).
	Ready <-chan struct{}
	// Stopping is closed when shutdown begins.
	Stopping <-chan struct{}
	// Status is a one-line summary, sent as STATUS= when it changes.
	Status func() string
	// Live reports whether the supervisor's own loops are ticking; the
	// watchdog is fed only while they are.
	Live func() bool
	// Watchdog is $WATCHDOG_USEC (0: no watchdog): WATCHDOG=1 is sent
	// every half of it.
	Watchdog time.Duration
	// Every is how often STATUS is refreshed; 0 means a second.
	Every time.Duration
	// Errorf reports a failed send; nil: ignored.
	Errorf func(format string, args ...any)
}

// Run sends READY=1 (with STATUS) once Ready is closed, STATUS whenever
// the summary changes, WATCHDOG=1 every Watchdog/2 while Live, and
// STOPPING=1 once Stopping is closed; from then on it feeds the watchdog
// whatever Live says until ctx ends, since stopping the services can take
// longer than the watchdog's interval, and the loops stop answering as
// the supervisor winds down.
func Run(ctx context.Context, n Sender, s Supervisor) {
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	send := func(a ...string) {
		if err := n.Send(a...); err != nil && s.Errorf != nil {
			s.Errorf("%v", err)
		}
	}
	statusT := time.NewTicker(every)
	defer statusT.Stop()
	var dogC <-chan time.Time
	if s.Watchdog > 0 {
		dog := time.NewTicker(s.Watchdog / 2)
		defer dog.Stop()
		dogC = dog.C
	}
	ready, stopping := s.Ready, s.Stopping
	last := s.Status()
	send("STATUS=" + last)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ready:
			ready = nil
			last = s.Status()
			send("READY=1", "STATUS="+last)
		case <-stopping:
			stopping, ready = nil, nil
			last = "stopping"
			send("STOPPING=1", "STATUS="+last)
		case <-statusT.C:
			if stopping == nil {
				continue // "stopping" stays until the end
			}
			if st := s.Status(); st != last {
				last = st
				send("STATUS=" + st)
			}
		case <-dogC:
			// While stopping, the loops wind down on purpose, and a
			// shutdown that hangs is TimeoutStopSec's business.
			if stopping == nil || s.Live() {
				send("WATCHDOG=1")
			}
		}
	}
}
