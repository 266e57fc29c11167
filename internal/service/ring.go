package service

import (
	"context"
	"fmt"
	"strings"
)

// RingView is what the ring knows that one service sees: its group's
// gossiped config, the census of its group and of its binds, and files
// pushed to its group. The manager derives it from the census; the service
// never talks to the ring itself.
type RingView struct {
	// Key names what the view was built from; a view with the same Key
	// holds the same data, so the service does not render again for it.
	Key       string
	Gossip    map[string]any // the group's config from `config apply`; nil when none
	GossipInc uint64
	// Svc builds the template data "svc" (the group's census); nil means
	// this member alone. It is built only when a template is rendered:
	// services whose templates never use it (most) hold no copy.
	Svc func() map[string]any
	// Binds is the template data "bind": satisfied binds by name.
	Binds map[string]any
	// Unsatisfied names the strict binds still waiting for their group.
	Unsatisfied []string
	// ElectionWait says why a leader-topology service waits for its
	// group's election ("election in progress", ...); "" once it is
	// finished, and always for other topologies. Hooks wait for it.
	ElectionWait string
	Files        []File
}

// File is a file pushed to the service's group.
type File struct {
	Name        string
	Incarnation uint64
	Body        []byte
}

// SetRing hands the service a new view of the ring; it never blocks: a
// newer view replaces one the runner has not taken yet. Changed config or
// census re-renders (restart or reconfigure as SPEC §5 says); new files are
// written to svc/SVC/files and run file-updated; binds becoming satisfied
// let a waiting service start.
func (r *Runner) SetRing(v RingView) {
	for {
		select {
		case r.ringCh <- &v:
			return
		default:
			select {
			case <-r.ringCh: // drop the stale view
			default:
			}
		}
	}
}

func (r *Runner) applyRing(ctx context.Context, st *state, v *RingView) {
	old := st.ring
	st.ring = *v
	r.applyFiles(ctx, st)
	if (st.phase == phaseWaitingBinds && len(v.Unsatisfied) == 0) || (st.phase == phaseWaitingElection && v.ElectionWait == "") {
		r.start(ctx, st)
		return
	}
	if st.phase != phaseUp {
		return
	}
	if v.ElectionWait != "" {
		// A running leader-topology service keeps running through a new
		// election and renders again once it is finished (whose view has
		// another Key): rendered now, it would see no leader.
		st.ring.Key = old.Key
		return
	}
	// Templates that use no data render the same from any census; only
	// gossiped config (a new incarnation) can still change the service.
	if old.Key != v.Key && !(st.tpl.literal && old.GossipInc == v.GossipInc) {
		why := "the ring changed (members or bound services)"
		if old.GossipInc != v.GossipInc {
			why = fmt.Sprintf("config version %d applied to the group", v.GossipInc)
		}
		r.reconfigure(ctx, st, why)
	}
}

// applyFiles writes every file newer than what the service has, then runs
// file-updated once if the service is initialized.
func (r *Runner) applyFiles(ctx context.Context, st *state) {
	if st.files == nil {
		st.files = map[string]uint64{}
	}
	var updated []string
	for _, f := range st.ring.Files {
		if f.Incarnation <= st.files[f.Name] || strings.ContainsAny(f.Name, "/\x00") || f.Name == "." || f.Name == ".." {
			continue
		}
		if err := writeFile(st.paths.root, "files/"+f.Name, string(f.Body), st.gid); err != nil {
			r.record(st, false, "file %s not written: %v", f.Name, err)
			continue
		}
		st.files[f.Name] = f.Incarnation
		updated = append(updated, fmt.Sprintf("%s (version %d)", f.Name, f.Incarnation))
	}
	if len(updated) == 0 {
		return
	}
	r.record(st, true, "files updated: %s", strings.Join(updated, ", "))
	if _, ok := st.tpl.hooks["file-updated"]; ok && st.svc.Initialized {
		r.runHook(ctx, st, "file-updated")
	}
	r.publish(st)
}

// WaitingForBinds begins the start error of a service held for its binds:
// it has not failed, it waits.
const WaitingForBinds = "waiting for binds: "

// WaitingForElection begins the start error of a leader-topology service
// held until its group's election is finished.
const WaitingForElection = "waiting to execute hooks: "

// waitingForElection holds a leader-topology service until its group's
// election is finished, saying why once.
func (r *Runner) waitingForElection(st *state) bool {
	if st.ring.ElectionWait == "" {
		return false
	}
	r.enter(st, phaseWaitingElection)
	msg := WaitingForElection + st.ring.ElectionWait
	if st.svc.StartError != msg {
		st.w().StartError = msg
		r.record(st, false, "%s", msg)
		r.d.Log.Info("service waits for its group's leader election", "service", r.sg, "why", st.ring.ElectionWait)
	}
	r.publish(st)
	return true
}

// waitingForBinds holds a strict service until every bind is satisfied.
func (r *Runner) waitingForBinds(st *state) bool {
	if st.spec.BindingMode != "strict" || len(st.ring.Unsatisfied) == 0 {
		return false
	}
	r.enter(st, phaseWaitingBinds)
	msg := WaitingForBinds + strings.Join(st.ring.Unsatisfied, ", ")
	if st.svc.StartError != msg {
		st.w().StartError = msg
		r.record(st, false, "%s", msg)
	}
	r.publish(st)
	return true
}
