package manager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/store"
)

// Update changes a loaded service's options at runtime (svc update, as
// Habitat's hab svc update). Update strategy and condition, health-check
// interval and shutdown timeout are taken by the running service without
// a restart; new binds restart it (its templates, and whether it may
// start at all, depend on them), on the package it runs now. The spec
// file is rewritten either way; a request that fails its checks changes
// nothing.
func (m *Manager) Update(ctx context.Context, req api.UpdateRequest, progress func(string)) (err error) {
	defer func() { m.control("update", req.Pkg, err) }()
	e, done, err := m.beginFound(ctx, req.Pkg)
	if err != nil {
		return err
	}
	defer done()
	if e.specErr != "" || e.runner == nil {
		return api.Errorf(api.BadRequest, "service %s cannot be changed: %s", e.name, e.specErr)
	}
	var sp spec.Spec
	m.call(func(o *owned) { sp = e.spec })
	old := sp
	sp.Binds = slices.Clone(sp.Binds)
	if req.Strategy != "" {
		sp.UpdateStrategy = req.Strategy
	}
	if req.UpdateCondition != "" {
		sp.UpdateCondition = req.UpdateCondition
	}
	if req.Binds != nil {
		sp.Binds = slices.Clone(*req.Binds)
	}
	if req.HealthCheckInterval != nil {
		sp.HealthCheckInterval = spec.FromD(time.Duration(*req.HealthCheckInterval) * time.Second)
	}
	if req.ShutdownTimeout != nil {
		t := *req.ShutdownTimeout
		sp.ShutdownTimeout = &t
	}
	if err := sp.Validate(); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	sg := e.runner.ServiceGroup()
	if spec.Same(sp, old) {
		progress(fmt.Sprintf("%s already has these options; nothing changed", sg))
		return nil
	}
	if !slices.Equal(sp.Binds, old.Binds) {
		return m.rebind(e, sp, progress)
	}
	if cerr := m.call(func(o *owned) {
		if err = store.WriteFile(e.specFile, sp.Encode(), 0o644); err == nil {
			e.spec = sp
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return api.Errorf(api.Internal, "save spec: %v", err)
	}
	if err := e.runner.SetOptions(ctx, sp); err != nil {
		return api.Errorf(api.Internal, "%s: %v", sg, err)
	}
	m.wakeUpdates() // a rolling service takes a turn that is due; newer packages are looked for at the next poll
	progress(fmt.Sprintf("Updated %s (%s) without a restart", sg, changed(old, sp)))
	return nil
}

// rebind restarts e with new binds on the package it runs.
func (m *Manager) rebind(e *entry, sp spec.Spec, progress func(string)) error {
	id, err := ident.Parse(e.runner.Package())
	if err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	p, err := pkg.Find(m.cfg.Root, id)
	if err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	if err := checkBinds(p, sp.Binds); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	r, err := m.newRunner(sp, p, e.specFile, nil)
	if err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	ne := &entry{name: e.name, spec: sp, specFile: e.specFile, runner: r, replaces: e}
	if err := m.swapIn(ne, "svc update changed its binds", progress); err != nil {
		return err
	}
	progress(fmt.Sprintf("Updated %s: binds %s; restarted", r.ServiceGroup(), strings.Join(sp.Binds, " ")))
	return nil
}

// changed says which options differ, for the progress line.
func changed(a, b spec.Spec) string {
	var out []string
	if a.UpdateStrategy != b.UpdateStrategy {
		out = append(out, "strategy "+b.UpdateStrategy)
	}
	if a.UpdateCondition != b.UpdateCondition {
		out = append(out, "update condition "+b.UpdateCondition)
	}
	if a.HealthCheckInterval.D() != b.HealthCheckInterval.D() {
		out = append(out, "health-check interval "+b.HealthCheckInterval.D().String())
	}
	if (a.ShutdownTimeout == nil) != (b.ShutdownTimeout == nil) || (b.ShutdownTimeout != nil && *a.ShutdownTimeout != *b.ShutdownTimeout) {
		out = append(out, fmt.Sprintf("shutdown timeout %ds", *b.ShutdownTimeout))
	}
	return strings.Join(out, ", ")
}
