package service

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/sdnotify"
)

// Readiness: a package may say how its run process tells it is ready
// (pkg.Package.NotificationFD, Notify). Until it has, the service is up
// but not ready: Ready and Initialized are false, and the phase is up all
// the same (readiness is not a phase: stop, exit and restart work as for
// any service that is up). Without a protocol, ready means up.

// readiness is the package's protocol, "" for none.
func (st *state) readiness() string {
	switch {
	case st.pkg.NotificationFD > 0:
		return api.ReadinessFD
	case st.pkg.Notify:
		return api.ReadinessNotify
	}
	return ""
}

// maxSockPath is the longest path a sockaddr_un holds, its NUL left out.
const maxSockPath = 107

// notifySocket is where a service's NOTIFY_SOCKET is: notify.sock in its
// directory (the supervisor's, so the service cannot replace it), or,
// when that path is too long for a socket address, an abstract name
// made of the member id and the service group.
func (r *Runner) notifySocket(st *state) string {
	if p := filepath.Join(st.paths.root, "notify.sock"); len(p) <= maxSockPath {
		return p
	}
	return "@tend/" + r.d.MemberID + "/" + r.sg + "/notify"
}

// armReadiness sets up ps for the package's protocol before the spawn:
// the notification fd, or a socket of the service's own whose path goes
// in its NOTIFY_SOCKET, read beside the loop until the process goes.
// st.readyC is closed once the process says it is ready.
func (r *Runner) armReadiness(st *state, ps *process.Spec) error {
	st.readyC = nil
	proto := st.readiness()
	st.w().Readiness = proto
	if proto == "" {
		return nil
	}
	sig := make(chan struct{})
	var once sync.Once
	ready := func() { once.Do(func() { close(sig) }) }
	switch proto {
	case api.ReadinessFD:
		ps.NotifyFD, ps.Ready = st.pkg.NotificationFD, ready
	case api.ReadinessNotify:
		l, err := sdnotify.Listen(r.notifySocket(st), st.uid, st.gid)
		if err != nil {
			return err
		}
		st.notify = l
		ps.Env = append(slices.Clip(ps.Env), "NOTIFY_SOCKET="+l.Path())
		st.bg.Go(func() {
			for {
				m, err := l.Receive()
				if err != nil {
					return // closed: the process has gone
				}
				if m["READY"] == "1" {
					ready()
				}
			}
		})
	}
	st.readyC = sig
	return nil
}

// disarmReadiness forgets the protocol's state of a process that has gone
// (or did not start).
func (st *state) disarmReadiness() {
	st.readyC = nil
	st.w().Ready = false
	if st.notify != nil {
		st.notify.Close()
		st.notify = nil
	}
}

// spawned sets readiness once the run process is up: ready at once
// without a protocol; with one, not ready (nor initialized) until it says.
func (st *state) spawned() {
	if st.readyC == nil {
		st.w().Ready = true
		return
	}
	st.w().Ready, st.w().Initialized = false, false
}

// becameReady takes the process's notification.
func (r *Runner) becameReady(st *state) {
	st.readyC = nil
	if st.phase != phaseUp || st.svc.Ready {
		return
	}
	st.w().Ready, st.w().Initialized = true, true
	how := fmt.Sprintf("a newline on fd %d", st.pkg.NotificationFD)
	if st.svc.Readiness == api.ReadinessNotify {
		how = "READY=1 on NOTIFY_SOCKET"
	}
	r.record(st, true, "ready (%s)", how)
	r.publish(st)
}
