package service

import (
	"context"
	"fmt"
	"time"

	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/spec"
)

// Package is the ident of the package the service runs or, once
// UpdatePackage returned, is moving to.
func (r *Runner) Package() string { return *r.pkgIdent.Load() }

// PackageUpdated is Habitat's termination_reason of a process stopped to
// run a newer package of its service.
const PackageUpdated = "package_updated"

// UpdatePackage moves the service to package p (a newer release of the
// same package, installed): a running service is stopped and started again
// on it, its last exit saying package_updated; one that is not running
// starts on it next time. The package is checked first (templates, run
// hook, user): one that fails changes nothing and is returned as the
// error. It returns once the runner has taken the package, not once the
// service is up again.
func (r *Runner) UpdatePackage(ctx context.Context, p *pkg.Package) error {
	tpl, err := checkedTemplates(p)
	if err != nil {
		return err
	}
	if err := checkUser(p, r.d.Privileged); err != nil {
		return err
	}
	err = r.do(ctx, func(ctx context.Context, st *state) {
		from := st.pkg.Ident.String()
		st.pkg, st.tpl = p, tpl
		// Whom it runs as and its environment come from the package.
		st.prepared = false
		text := fmt.Sprintf("package update: %s to %s", from, p.Ident)
		r.emit(events.Event{Type: events.ServiceRestart, Backoff: events.Seconds(0), NextStart: time.Now(),
			Reason: PackageUpdated, Text: r.sg + " " + text})
		switch st.phase {
		case phaseUp, phaseStarting, phaseStopping:
			// The status keeps naming the old package until its process
			// is gone (stopped calls showPackage): the ring must not read
			// "new package, up" while the old one is still stopping.
			st.pkgPending = true
			r.record(st, true, "%s; restarting", text)
			if st.phase == phaseUp {
				r.restart(st, PackageUpdated) // stopped starts it on p
			} else {
				// An init running now rendered the old package; a stop
				// in flight is followed by a start on p anyway.
				r.stop(st, PackageUpdated)
			}
		default:
			r.showPackage(st)
			r.record(st, true, "%s; it starts on it next time", text)
		}
		r.publish(st)
	})
	if err == nil {
		// The loop has the function and runs it before anything else.
		id := p.Ident.String()
		r.pkgIdent.Store(&id)
	}
	return err
}

// showPackage makes the status describe st.pkg.
func (r *Runner) showPackage(st *state) {
	st.pkgPending = false
	base := r.baseStatus(st.svc.SpecFile)
	st.w().Pkg, st.w().Hooks, st.w().AllPkgBinds = base.Pkg, base.Hooks, base.AllPkgBinds
	st.w().ShutdownTimeout = base.ShutdownTimeout
}

// SetOptions takes the options `svc update` changes without a restart:
// update strategy and condition (read by the supervisor's updater),
// health-check interval (the next check is rescheduled on it) and
// shutdown timeout (used by the next stop). sp is the service's whole new
// spec; any other difference is the caller's to act on (binds restart).
func (r *Runner) SetOptions(ctx context.Context, sp spec.Spec) error {
	// Returns once applied, not once handed over, so that `svc update`
	// followed by `svc status` shows the new options.
	return r.doWait(ctx, func(ctx context.Context, st *state) {
		oldInterval := st.spec.HealthCheckInterval.D()
		st.spec = sp
		st.w().UpdateStrategy, st.w().UpdateCondition = sp.UpdateStrategy, sp.UpdateCondition
		st.w().HealthInterval, st.w().ShutdownTimeout = sp.HealthCheckInterval.D(), st.shutdownTimeout()
		if sp.HealthCheckInterval.D() != oldInterval && st.healthT != nil && st.healthC != nil {
			// A check is waiting for the old interval: wait the new one.
			st.healthT.Stop()
			st.healthT = time.NewTimer(nextCheck(st, st.svc.Health))
			st.healthC = st.healthT.C
		}
		r.record(st, true, "options updated: strategy %s, update condition %s, health-check interval %s, shutdown timeout %s",
			sp.UpdateStrategy, sp.UpdateCondition, sp.HealthCheckInterval.D(), st.shutdownTimeout())
		r.publish(st)
	})
}
