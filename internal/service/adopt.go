package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
)

// outputs are the FIFOs of the run process's stdout and stderr, or none
// (anonymous pipes) without Deps.OutputDir.
func (r *Runner) outputs(st *state) [2]string {
	if r.d.OutputDir == "" {
		return [2]string{}
	}
	base := filepath.Join(r.d.OutputDir, st.spec.Name())
	return [2]string{base + ".stdout", base + ".stderr"}
}

// RemoveLeftovers removes, once Run has returned, for an unload, what
// outlives the service's runs: its output FIFOs, which nothing will read
// again, and the PID file's temporary a supervisor SIGKILLed while
// writing it left (no later write reuses it now). Never on a start: that
// would cost a system call per service for a file almost never there.
func (r *Runner) RemoveLeftovers() {
	<-r.done
	for _, f := range r.outputs(r.st) {
		if f != "" {
			os.Remove(f)
		}
	}
	cgroup.RemovePIDTemp(r.st.paths.pidFile)
}

// outputFuncs deliver the run process's lines to the supervisor log, its
// log files and its followers.
func (r *Runner) outputFuncs(logs *logPair) (stdout, stderr func([]byte)) {
	return func(line []byte) {
			r.d.Output(r.sg, 'O', line)
			logs.out.write(line)
			r.outputLine(api.StreamStdout, "", line)
		}, func(line []byte) {
			r.d.Output(r.sg, 'E', line)
			logs.err.write(line)
			r.outputLine(api.StreamStderr, "", line)
		}
}

// adoptable reports the run process a killed supervisor left running, for
// track: the service must be desired up, its PID file must name a live
// process with the start time recorded there (so never a recycled pid),
// and that process must be one of the service's own (its cgroup, or its
// marker and descent under /proc). pids are the group's members.
func (r *Runner) adoptable(st *state, pids []int) *process.Adoption {
	if !st.spec.Up() || r.d.OutputDir == "" {
		return nil
	}
	if _, ok := r.d.Reaper.(hook.Adopter); !ok {
		return nil
	}
	pid, start, ok := cgroup.ReadPIDFile(st.paths.pidFile)
	if !ok || !slices.Contains(pids, pid) {
		return nil
	}
	if cur, err := cgroup.StartTime(pid); err != nil || cur != start {
		return nil
	}
	return &process.Adoption{PID: pid, Start: start, Outputs: r.outputs(st), Leader: true}
}

// adoptRun takes over the run process found by track, instead of a
// start: the service keeps its pid and never notices the supervisor
// changed. Its config is rendered as for a start (a change made while no
// supervisor ran is applied as a reconfigure would, on the next change);
// hooks are not run again (init ran for this process already). If it
// cannot be adopted after all, what is left of it is stopped and the
// service starts as usual.
func (r *Runner) adoptRun(ctx context.Context, st *state) {
	a := *st.adopt
	st.adopt = nil
	err := r.prepare(st)
	var p hook.Process
	var missing []string
	if err == nil {
		st.runLogs = newLogPair(st.paths.logs, "run", st.gid, r.logLimits(st))
		a.Stdout, a.Stderr = r.outputFuncs(st.runLogs)
		if st.group != nil {
			a.Group = st.group
		}
		p, missing, err = r.d.Reaper.(hook.Adopter).Adopt(a)
		if err != nil {
			st.runLogs.close()
			st.runLogs = nil
		}
	}
	if err != nil {
		r.d.Log.Warn("cannot adopt the run process left by a previous supervisor; stopping it", "service", r.sg, "pid", a.PID, "err", err)
		r.stopLeftovers(ctx, st, []int{a.PID})
		// Gone since track found it: a hand-over's run process exited
		// during the hand-over.
		if !errors.Is(err, process.ErrNotAdoptable) || !r.lostInHandover(ctx, st) {
			r.start(ctx, st)
		}
		return
	}
	st.w().Initialized = true
	// Carried first: it replaces the records with those handed over,
	// and a record made before would be lost.
	entered := st.carry(a.PID)
	if len(missing) > 0 {
		r.record(st, false, "output of the adopted process not reattached (%s): it is lost", strings.Join(missing, ", "))
	}
	st.pidFiled = a.PID
	r.running(ctx, st, p, "adopted (pid %d) from a previous supervisor")
	if !entered.IsZero() {
		// Up since then, not since the hand-over.
		st.startedAt, st.w().StateEntered = entered, entered
		r.publish(st)
	}
	r.attemptDone()
}

// FlushOutput returns once the run process's output delivered so far is
// in its log files: a supervisor handing over to a new binary calls it
// after it stopped reading output (process.Reaper.Pause), so no line is
// left in its memory.
func (r *Runner) FlushOutput(ctx context.Context) error {
	err := r.doWait(ctx, func(_ context.Context, st *state) {
		if st.runLogs != nil {
			st.runLogs.flush()
		}
	})
	if errors.Is(err, ErrGone) {
		return nil // nothing of its output is left to flush
	}
	return err
}

// Carried is what a service's status keeps across `sup restart`: the new
// program's runner takes it when it adopts the same process (PID), or,
// for a service that was waiting to restart (PID 0), when it starts.
type Carried struct {
	PID           int
	StateEntered  time.Time
	LastExit      *api.Exit
	RestartCount  int
	HealthHistory []api.HealthResult
	Records       []api.Record
	// Streak and LastBackoff are the restart backoff (restarts), so a
	// crash-looping service is not restarted hot by a `sup restart`.
	Streak      int           `json:",omitempty"`
	LastBackoff time.Duration `json:",omitempty"`
	// NextStart is when a service backing off was due to start again, and
	// StartError why its last start failed; zero with a run process.
	NextStart  time.Time `json:",omitzero"`
	StartError string    `json:",omitempty"`
}

// CarriedOf is what s, a published status, hands over; nil when its run
// process is not running and no restart is pending.
func CarriedOf(s *api.Service) *Carried {
	c := &Carried{StateEntered: s.StateEntered, LastExit: s.LastExit, RestartCount: s.RestartCount,
		HealthHistory: s.HealthHistory, Records: s.Records, Streak: s.RestartStreak, LastBackoff: s.LastBackoff}
	switch {
	case s.Running && s.PID != 0:
		c.PID = s.PID
	case !s.Running && !s.NextRestart.IsZero():
		c.NextStart, c.StartError = s.NextRestart, s.StartError
	default:
		return nil
	}
	return c
}

// carry puts what the predecessor handed over for pid into the status,
// before the adoption is recorded.
func (st *state) carry(pid int) (entered time.Time) {
	c := st.carried
	st.carried = nil
	if c == nil || c.PID != pid {
		return time.Time{}
	}
	st.carryStatus(c)
	return c.StateEntered
}

// carryStatus takes c's status and backoff.
func (st *state) carryStatus(c *Carried) {
	st.w().LastExit, st.w().RestartCount = c.LastExit, c.RestartCount
	st.w().HealthHistory, st.w().Records = c.HealthHistory, c.Records
	st.restarts.streak, st.restarts.prev = c.Streak, c.LastBackoff
}

// resumeBackoff goes on with the wait of a service that was backing off
// at the hand-over: it starts when its predecessor would have started it,
// not at once, so a `sup restart` (or a loop of them) does not restart a
// crash-looping service hot. It reports whether there was such a wait.
func (r *Runner) resumeBackoff(st *state) bool {
	c := st.carried
	if c == nil || c.PID != 0 || c.NextStart.IsZero() {
		return false
	}
	st.carried = nil
	st.carryStatus(c)
	st.w().StartError, st.w().StateEntered = c.StartError, c.StateEntered
	st.setHealth(api.HealthCritical) // SPEC §5: CRITICAL when the process is not up
	// Never longer than this supervisor's own longest backoff.
	d := min(max(time.Until(c.NextStart), 0), r.d.Backoff.Max)
	r.enter(st, phaseBackingOff)
	st.w().NextRestart = time.Now().Add(d)
	st.restartT = time.NewTimer(d)
	st.restartC = st.restartT.C
	r.publish(st)
	r.attemptDone()
	return true
}

// lostInHandover deals with a service whose run process was handed over
// (`sup restart`) but is not adopted: it exited during the hand-over, or
// is no longer the process handed over. Its exit counts as a crash, with
// the status and backoff handed over: the restart streak goes on, the
// backoff applies and the termination is recorded, where a fresh start
// would forget them and restart a crash-looping service hot. How it
// ended is unknown: the predecessor never collected it, and this program
// reaps it, if it is its child, as an orphan. It reports whether there
// was such a process.
func (r *Runner) lostInHandover(ctx context.Context, st *state) bool {
	c := st.carried
	if c == nil || c.PID == 0 {
		return false
	}
	st.carried = nil
	st.carryStatus(c)
	now := time.Now()
	st.w().LastExit = &api.Exit{PID: c.PID, Code: -1, At: now, Reason: "run_hook_failed"}
	st.setHealth(api.HealthCritical) // SPEC §5: CRITICAL when the process is not up
	cr := &crash{exit: process.Exit{Code: -1, At: now, Unknown: true}, pid: c.PID, upFor: now.Sub(c.StateEntered),
		text: fmt.Sprintf("pid %d exited during the hand-over (status unknown)", c.PID)}
	r.crashed(ctx, st, cr)
	if !st.triedSent {
		// Backing off (a start ends the attempt itself): the start-up
		// need not wait for it.
		r.attemptDone()
	}
	return true
}
