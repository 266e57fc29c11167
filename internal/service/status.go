package service

import (
	"path/filepath"
	"slices"

	"github.com/tend-sh/tend/internal/api"
)

// baseStatus is what is known of a service before it first starts.
func (r *Runner) baseStatus(specFile string) api.Service {
	st := r.st
	p := st.pkg
	paths := st.paths
	hooks := make(map[string]api.Hook, len(p.Hooks))
	for _, name := range hookNames(p) {
		hooks[name] = api.Hook{
			Path:       paths.hook(name),
			StdoutPath: filepath.Join(paths.logs, name+".stdout.log"),
			StderrPath: filepath.Join(paths.logs, name+".stderr.log"),
		}
	}
	var binds []api.PkgBind
	for _, set := range []struct {
		m        map[string][]string
		optional bool
	}{{p.Binds, false}, {p.BindsOptional, true}} {
		for name, exports := range set.m {
			binds = append(binds, api.PkgBind{Service: name, Exports: exports, Optional: set.optional})
		}
	}
	slices.SortFunc(binds, func(a, b api.PkgBind) int {
		if a.Service < b.Service {
			return -1
		}
		if a.Service > b.Service {
			return 1
		}
		return 0
	})
	deps := make([]string, 0, len(p.Deps))
	for _, d := range p.Deps {
		deps = append(deps, d.String())
	}
	env := make(map[string]string, len(p.Env))
	for _, e := range p.Env {
		env[e.Key] = e.Value
	}
	return api.Service{
		Name: st.spec.Name(), Group: st.spec.Group, Org: r.d.Org, ServiceGroup: r.sg,
		SpecIdent: st.spec.Ident, SpecFile: specFile, DesiredUp: st.spec.Up(),
		Topology: st.spec.Topology, UpdateStrategy: st.spec.UpdateStrategy,
		UpdateCondition: st.spec.UpdateCondition, BindingMode: st.spec.BindingMode,
		Binds: st.spec.Binds, HealthInterval: st.spec.HealthCheckInterval.D(),
		ShutdownTimeout: st.shutdownTimeout(),
		Pkg: api.Pkg{
			Ident: p.Ident.String(), Origin: p.Ident.Origin, Name: p.Ident.Name,
			Version: p.Ident.Version, Release: p.Ident.Release, Path: p.Path,
			SvcPath: paths.root, SvcConfigPath: paths.config, SvcDataPath: paths.data,
			SvcFilesPath: paths.files, SvcStaticPath: paths.static, SvcVarPath: paths.vars,
			SvcPIDFile: paths.pidFile, SvcRun: paths.hook("run"),
			SvcUser: p.SvcUser, SvcGroup: p.SvcGroup,
			Exposes: p.Exposes, Exports: p.Exports, Env: env, Deps: deps,
			ShutdownSignal: p.ShutdownSignal, ShutdownTimeout: p.ShutdownTimeout,
		},
		AllPkgBinds: binds,
		Hooks:       hooks,
		Health:      api.HealthUnknown,
	}
}
