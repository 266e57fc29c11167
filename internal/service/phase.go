package service

import (
	"fmt"

	"github.com/tend-sh/tend/internal/events"
)

// phase is where a service is in its life. The Run loop alone moves it,
// through enter, and only along transitions.
type phase uint8

const (
	phaseDown            phase = iota // not running and not trying to: desired down, or not started yet
	phaseWaitingBinds                 // desired up, held until every strict bind is satisfied
	phaseWaitingElection              // desired up, held until the group's leader election is finished (leader topology)
	phaseStarting                     // the init hook is running (in the background)
	phaseUp                           // the run process is running
	phaseBackingOff                   // a start failed or the process exited; a restart is scheduled
	phaseStopping                     // the process, or what a service not up left running, is being stopped (in the background)
)

var phaseNames = [...]string{
	phaseDown: "down", phaseWaitingBinds: "waiting for binds", phaseWaitingElection: "waiting for the election", phaseStarting: "starting",
	phaseUp: "up", phaseBackingOff: "backing off", phaseStopping: "stopping",
}

func (p phase) String() string { return phaseNames[p] }

// transitions is every move a service can make; staying put is always
// allowed. Starting comes from start (binds missing, init running, run
// spawned, or the start failed), stopping from stop (of the run process,
// or of what a service not up left running), the rest from what the run
// process, the init hook and the stop report back.
var transitions = [...][]phase{
	phaseDown:            {phaseWaitingBinds, phaseWaitingElection, phaseStarting, phaseUp, phaseBackingOff, phaseStopping},
	phaseWaitingBinds:    {phaseWaitingElection, phaseStarting, phaseUp, phaseBackingOff, phaseStopping, phaseDown},
	phaseWaitingElection: {phaseWaitingBinds, phaseStarting, phaseUp, phaseBackingOff, phaseStopping, phaseDown},
	phaseStarting:        {phaseUp, phaseBackingOff, phaseDown},                                                       // init done: spawned, failed, or stopped meanwhile
	phaseUp:              {phaseStopping, phaseBackingOff, phaseDown},                                                 // stop; exit with a restart, or without one
	phaseBackingOff:      {phaseWaitingBinds, phaseWaitingElection, phaseStarting, phaseUp, phaseStopping, phaseDown}, // restart timer fired; stopped
	phaseStopping:        {phaseDown},                                                                                 // stopped, post-stop done
}

func canMove(from, to phase) bool {
	if from == to {
		return true
	}
	for _, p := range transitions[from] {
		if p == to {
			return true
		}
	}
	return false
}

// enter moves the service to p. A move the table does not have is a bug:
// it is logged, and the move made, so the service keeps running.
func (r *Runner) enter(st *state, p phase) {
	if !canMove(st.phase, p) {
		r.d.Log.Error("service: phase change not in the table", "service", r.sg, "from", st.phase.String(), "to", p.String())
	}
	if st.phase != p {
		r.emitState(st, st.phase, p)
	}
	st.phase = p
}

// emitState says the service moved from one phase to another.
func (r *Runner) emitState(st *state, from, to phase) {
	e := events.Event{Type: events.ServiceState, State: to.String(), From: from.String()}
	e.Text = r.sg + " is " + to.String()
	if to == phaseUp && st.proc != nil {
		e.PID = st.proc.PID()
		e.Text += fmt.Sprintf(" (pid %d)", e.PID)
	}
	r.emit(e)
}
