package manager

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/store"
)

// loadPersisted reads every spec file and prepares what it describes. A
// spec that cannot be used is reported down with its reason; the others run.
// A service the start-up file also names is only read: loadStartup
// prepares it over that spec with the others, in parallel, and
// preparePending prepares from the file what loadStartup left (pending).
// Preparing it here too would read every package and parse every template
// twice, one service at a time, before a supervisor restarted over its root
// starts anything (0.5 s for 500 services).
func (m *Manager) loadPersisted() error {
	if err := os.MkdirAll(m.specsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", m.specsDir, err)
	}
	var specs *Specs
	if m.cfg.Specs != nil {
		specs = m.cfg.Specs()
	} else {
		specs = ReadSpecs(m.cfg.StateDir)
	}
	if specs.err != nil {
		return specs.err
	}
	// Temporary files are never read (ReadSpecs skips dot files): removing
	// them after the read, not before, changes nothing it found. ReadSpecs
	// names them, so the directory is not listed a second time.
	for _, t := range specs.temps {
		os.Remove(filepath.Join(m.specsDir, t))
	}
	atStartup := m.startupNames()
	// The start-up file's services are recorded in one call at the end, not
	// one owner round trip each (500 on a restart over the root).
	var pending []*entry
	for _, f := range specs.files {
		e := &entry{name: f.name, specFile: f.path, spec: f.spec}
		err := f.err
		if err == nil {
			m.noteUnused(f.path, e.spec)
		}
		if err == nil && atStartup[f.name] {
			e.pending = true
			pending = append(pending, e)
			continue
		}
		m.preparePersisted(e, err)
	}
	if len(pending) > 0 {
		m.call(func(o *owned) {
			for _, e := range pending {
				o.services[e.name] = e
			}
		})
	}
	return nil
}

// Specs are the spec files of a state directory, read and parsed
// (ReadSpecs).
type Specs struct {
	files []specFile
	temps []string // what a killed writer left (store.IsTemp), to remove
	err   error    // the directory could not be listed
}

// specFile is one spec file read: its spec, or why it cannot be used.
type specFile struct {
	name, path string
	spec       spec.Spec
	err        error
}

// ReadSpecs reads and parses the spec files under stateDir. It only reads:
// `sup run` calls it as soon as it holds the state directory's lock, beside
// the rest of its start-up (Config.Specs), since a restart over a root of
// 500 services spent 13 ms of CPU here of the 57 ms before its first start
// (perf, docs/BENCHMARKS.md session 12). The files are read by
// specReaders side by side: once the rumors were read in 1 ms (session
// 13), this read, one file after another, ended last of the start-up
// reads in a trace of such a restart.
// A directory that does not exist yet holds no spec.
func ReadSpecs(stateDir string) *Specs {
	dir := filepath.Join(stateDir, "specs")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return &Specs{}
	}
	if err != nil {
		return &Specs{err: fmt.Errorf("read %s: %w", dir, err)}
	}
	out := &Specs{files: make([]specFile, 0, len(ents))}
	for _, de := range ents {
		if store.IsTemp(de.Name()) {
			out.temps = append(out.temps, de.Name())
			continue
		}
		name, ok := strings.CutSuffix(de.Name(), ".spec")
		if !ok || de.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		out.files = append(out.files, specFile{name: name, path: filepath.Join(dir, de.Name())})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(out.files), specReaders) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(out.files); i = int(next.Add(1) - 1) {
				out.files[i].read()
			}
		})
	}
	wg.Wait()
	return out
}

// specReaders read spec files side by side (ReadSpecs).
const specReaders = 4

// read reads and parses f's file, or says why it cannot be used.
func (f *specFile) read() {
	data, err := store.ReadFile(f.path)
	if err == nil {
		f.spec, err = spec.Parse(f.path, data)
	}
	if err == nil && f.spec.Name() != f.name {
		err = fmt.Errorf("%s: ident %q does not name service %q", f.path, f.spec.Ident, f.name)
	}
	f.err = err
}

// startupNames lists the services the start-up file names by package
// ident (a directory's service is known only once it is read).
func (m *Manager) startupNames() map[string]bool {
	names := map[string]bool{}
	for _, req := range m.cfg.Startup {
		if req.Pkg != "" && !filepath.IsAbs(req.Pkg) {
			names[mustFuzzy(req.Pkg).Name] = true
		}
	}
	return names
}

// preparePersisted makes the runner of a service read from its spec file
// (err: why the file could not be read) and records it. It records a new
// entry: one already in the map (pending) is the owner's to read.
func (m *Manager) preparePersisted(pe *entry, err error) {
	e := &entry{name: pe.name, spec: pe.spec, specFile: pe.specFile}
	var p *pkg.Package
	if err == nil {
		p, err = m.findPackage(e.spec.Ident)
	}
	if err == nil {
		e.runner, err = m.newRunner(e.spec, p, e.specFile, nil)
	}
	if err != nil {
		e.specErr = err.Error()
		m.log.Error("cannot load service", "spec", e.specFile, "err", err)
	}
	m.call(func(o *owned) {
		o.services[e.name] = e
		if err != nil {
			o.storeRecord(false, err.Error())
		}
	})
}

// preparePending prepares from their spec files the services loadStartup
// did not replace (their start-up entry failed), as if the start-up file
// did not name them.
func (m *Manager) preparePending() {
	var pending []*entry
	m.call(func(o *owned) {
		for _, e := range o.services {
			if e.pending {
				pending = append(pending, e)
			}
		}
	})
	for _, e := range pending {
		m.preparePersisted(e, nil)
	}
}

func (m *Manager) findPackage(identStr string) (*pkg.Package, error) {
	return pkg.Resolve(m.cfg.Root, identStr)
}

// loadStartup loads the start-up file's services and hands each to start
// as soon as it is ready, so the first service runs while the last package
// is still being read. Packages are read and templates parsed by a few
// workers; entries are taken in the file's order, so a name listed twice
// keeps its first entry as before. It returns the entries it started, whose
// specs saveStartup writes once start-up is over.
func (m *Manager) loadStartup(start func(*entry)) []*entry {
	reqs := m.cfg.Startup
	type prepared struct {
		e    *entry
		err  error
		done chan struct{}
	}
	res := make([]prepared, len(reqs))
	for i := range res {
		res[i].done = make(chan struct{})
	}
	var next atomic.Int64
	var workers sync.WaitGroup
	for range min(len(reqs), cap(m.gate)) {
		workers.Go(func() {
			for i := int(next.Add(1) - 1); i < len(reqs); i = int(next.Add(1) - 1) {
				res[i].e, res[i].err = m.prepareLoadAt(reqs[i], m.cfg.StartupFound[reqs[i].Pkg])
				close(res[i].done)
				// Let the starter waiting for this entry run now: with a
				// worker on every P it would wait for a preemption tick
				// (10 ms), and the first service with it.
				runtime.Gosched()
			}
		})
	}
	defer workers.Wait()
	var started []*entry
	seen := map[string]bool{}
	for i, req := range reqs {
		<-res[i].done
		e, err := res[i].e, res[i].err
		if err != nil {
			if api.KindOf(err) != api.Conflict {
				m.log.Error("start-up service not loaded", "pkg", req.Pkg, "err", err)
				m.call(func(o *owned) {
					o.storeRecord(false, fmt.Sprintf("start-up service %s not loaded: %v", req.Pkg, err))
				})
			}
			continue
		}
		if seen[e.name] {
			continue
		}
		seen[e.name] = true
		// One owner round trip a service. On a restart over the root the
		// spec is its file's, field for field (spec.Same encodes neither).
		var unchanged bool
		m.call(func(o *owned) {
			old := o.services[e.name]
			unchanged = old != nil && old.specErr == "" && spec.Same(old.spec, e.spec)
			if unchanged && !old.pending {
				return // keep the runner made from the spec file
			}
			o.services[e.name] = e
			// A restart over the root replaces every entry read from a
			// spec file (pending): nothing reads it afterwards.
			e.replaces = nil
			start(e)
		})
		if !unchanged {
			started = append(started, e) // its spec file is to be written
		}
	}
	return started
}

// saveStartup writes the spec files of the services the start-up file
// loaded. It runs once they have all tried to start, not before: a spec
// file is a new inode, and on a busy ext4 500 of them cost more than
// starting 500 processes. Until then the start-up file is their record (a
// supervisor killed meanwhile reads it again when it restarts). A control
// operation that changed or unloaded one of them since has written its
// own state on the owner, where this writes too: a changed spec is written
// as it is now, an unloaded or replaced service (gone) not at all.
func (m *Manager) saveStartup(started []*entry) {
	if len(started) == 0 {
		return
	}
	m.call(func(o *owned) {
		files := make(map[string][]byte, len(started))
		for _, e := range started {
			if o.services[e.name] == e && !e.gone {
				files[e.name+".spec"] = e.spec.Encode()
			}
		}
		if len(files) == 0 {
			return
		}
		// One sync for all; if it fails the services still run (the
		// start-up file lists them again at the next start) and the
		// failure is recorded.
		if err := store.WriteFiles(m.specsDir, files, 0o644); err != nil {
			m.log.Error("start-up service specs not saved; they run from the start-up file", "err", err)
			o.storeRecord(false, "start-up services not saved: "+err.Error())
			return
		}
		o.storeRecord(true, fmt.Sprintf("saved %d start-up service specs", len(files)))
		m.changed()
	})
}

// prepareLoad turns a load request into a checked entry with a runner that
// has not started. Nothing on disk changes except the package install.
func (m *Manager) prepareLoad(req api.LoadRequest) (*entry, error) {
	return m.prepareLoadAt(req, ident.Ident{})
}

// prepareLoadAt is prepareLoad of a package already found at found (a
// whole ident: the start-up file's entries, which sup run looked up to
// check the file), so the installed versions are not listed twice; the
// zero ident looks it up.
func (m *Manager) prepareLoadAt(req api.LoadRequest, found ident.Ident) (*entry, error) {
	if req.Pkg == "" {
		return nil, api.Errorf(api.BadRequest, "no package given")
	}
	// Everything is checked against the package as given; only a load that
	// passes every check installs it, so a refused load changes nothing.
	isDir := filepath.IsAbs(req.Pkg)
	var p *pkg.Package
	var err error
	if isDir {
		p, err = pkg.Read(req.Pkg)
	} else {
		if !strings.Contains(req.Pkg, "/") {
			// A bare name, as svc stop and svc start take it.
			var q ident.Ident
			if q, err = pkg.Qualify(m.cfg.Root, req.Pkg); err == nil {
				req.Pkg = q.String()
			}
		}
		at := found
		if at.Release == "" {
			at = mustFuzzy(req.Pkg)
		}
		if err == nil {
			p, err = pkg.Find(m.cfg.Root, at)
		}
	}
	if err != nil {
		if errors.Is(err, pkg.ErrNotFound) {
			return nil, api.Errorf(api.NotFound, "%v", err)
		}
		return nil, api.Errorf(api.BadRequest, "%v", err)
	}
	name := p.Ident.Name
	var old *entry
	var oldSpec spec.Spec
	m.call(func(o *owned) {
		if old = o.services[name]; old != nil {
			oldSpec = old.spec
		}
	})
	if old != nil && !req.Force {
		return nil, api.Errorf(api.Conflict, "service %s is already loaded; unload it or load with --force", name)
	}
	identStr := req.Pkg
	if isDir {
		identStr = p.Ident.String()
	}
	sp := spec.New(identStr)
	if old != nil && old.specErr == "" {
		sp = oldSpec
		sp.Ident = identStr
	}
	applyRequest(&sp, req)
	if err := sp.Validate(); err != nil {
		return nil, api.Errorf(api.BadRequest, "%v", err)
	}
	if err := checkBinds(p, sp.Binds); err != nil {
		return nil, api.Errorf(api.BadRequest, "%v", err)
	}
	checked, err := service.Check(p, m.cfg.Privileged)
	if err != nil {
		return nil, api.Errorf(api.BadRequest, "%v", err)
	}
	if isDir {
		// Start-up loads are prepared in parallel and may name one
		// directory twice; two installs of a package must not interleave.
		m.installMu.Lock()
		p, err = pkg.Install(m.cfg.Root, req.Pkg)
		m.installMu.Unlock()
		if err != nil {
			return nil, api.Errorf(api.Internal, "install: %v", err)
		}
	}
	path := filepath.Join(m.specsDir, name+".spec")
	// The templates Check parsed, unless p is now the installed copy.
	r, err := m.newRunner(sp, p, path, checked)
	if err != nil {
		return nil, api.Errorf(api.BadRequest, "%v", err)
	}
	return &entry{name: name, spec: sp, specFile: path, runner: r, replaces: old}, nil
}

func applyRequest(sp *spec.Spec, req api.LoadRequest) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&sp.Group, req.Group)
	set(&sp.Topology, req.Topology)
	set(&sp.UpdateStrategy, req.Strategy)
	set(&sp.UpdateCondition, req.UpdateCondition)
	set(&sp.BindingMode, req.BindingMode)
	if req.Binds != nil {
		sp.Binds = slices.Clone(req.Binds)
	}
	if req.HealthCheckInterval != nil {
		sp.HealthCheckInterval = spec.FromD(time.Duration(*req.HealthCheckInterval) * time.Second)
	}
	if req.ShutdownTimeout != nil {
		t := *req.ShutdownTimeout
		sp.ShutdownTimeout = &t
	}
	if req.LogMaxBytes != nil {
		n := *req.LogMaxBytes
		sp.LogMaxBytes = &n
	}
	if req.LogBackups != nil {
		n := *req.LogBackups
		sp.LogBackups = &n
	}
	if req.HookTimeout != nil {
		t := *req.HookTimeout
		sp.HookTimeout = &t
	}
	if req.HealthCheckGrace != nil {
		g := *req.HealthCheckGrace
		sp.HealthCheckGrace = &g
	}
	sp.DesiredState = spec.Up
}

// checkBinds refuses a bind the package does not declare and a required
// bind left out.
func checkBinds(p *pkg.Package, binds []string) error {
	given := map[string]bool{}
	for _, b := range binds {
		name, _, err := spec.ParseBind(b)
		if err != nil {
			return err
		}
		_, req := p.Binds[name]
		_, opt := p.BindsOptional[name]
		if !req && !opt {
			return fmt.Errorf("unknown bind %q: package %s declares %s", name, p.Ident, declared(p))
		}
		given[name] = true
	}
	for name := range p.Binds {
		if !given[name] {
			return fmt.Errorf("missing bind %q: package %s requires --bind %s:SERVICE.GROUP", name, p.Ident, name)
		}
	}
	return nil
}

func declared(p *pkg.Package) string {
	var names []string
	for n := range p.Binds {
		names = append(names, n)
	}
	for n := range p.BindsOptional {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "no binds"
	}
	slices.Sort(names)
	return "binds " + strings.Join(names, ", ")
}

// newRunner prepares the runner of sp on p; checked is what service.Check
// made of p, or nil.
func (m *Manager) newRunner(sp spec.Spec, p *pkg.Package, specFile string, checked *service.Checked) (*service.Runner, error) {
	o := m.runnerOptions(sp, p, specFile)
	o.Checked = checked
	// The ring's view of this service from the start, so strict binds and
	// a leader election hold the first start.
	o.Ring = m.initialView(&api.Service{ServiceGroup: sp.ServiceGroup(m.cfg.Org), Binds: sp.Binds, AllPkgBinds: pkgBinds(p), Topology: sp.Topology})
	return service.New(o)
}

// pkgBinds lists the binds a package declares.
func pkgBinds(p *pkg.Package) []api.PkgBind {
	var out []api.PkgBind
	for name, exports := range p.Binds {
		out = append(out, api.PkgBind{Service: name, Exports: exports})
	}
	for name, exports := range p.BindsOptional {
		out = append(out, api.PkgBind{Service: name, Exports: exports, Optional: true})
	}
	return out
}

func (m *Manager) runnerOptions(sp spec.Spec, p *pkg.Package, specFile string) service.Options {
	return service.Options{
		Spec: sp, Pkg: p, SpecFile: specFile, Carried: m.cfg.Carried[sp.Name()],
		Deps: service.Deps{
			Reaper: m.cfg.Reaper, Log: m.log, Output: m.cfg.Output,
			Root: m.cfg.Root, Org: m.cfg.Org, MemberID: m.cfg.MemberID,
			Sys: m.sys, Backoff: m.cfg.Backoff, Getenv: m.cfg.Getenv, Env: m.cfg.Env,
			Changed: m.changed, Gate: m.gate, Settled: m.settled, Tracker: m.tracker, Paths: m.paths,
			Logs: m.cfg.Logs, Event: m.emit, OutputDir: m.outputDir, Privileged: m.cfg.Privileged,
		},
	}
}

// sysData is the template data under "sys". Templates get a normalised
// copy (tmpl), so one map serves every service.
func (m *Manager) sysData() map[string]any {
	s := m.cfg.Sys
	return map[string]any{
		"version": m.cfg.Version, "member_id": m.cfg.MemberID, "ip": s.IP, "hostname": s.Hostname,
		"gossip_ip": s.GossipIP, "gossip_port": s.GossipPort,
		"http_gateway_ip": s.HTTPGatewayIP, "http_gateway_port": s.HTTPGatewayPort,
		"ctl_gateway_ip": s.CtlGatewayIP, "ctl_gateway_port": s.CtlGatewayPort,
		"permanent": s.Permanent,
	}
}

// mustFuzzy parses a fuzzy ident; a malformed one becomes an ident that
// matches nothing, so Find reports it as not found with its text.
func mustFuzzy(s string) ident.Ident {
	id, err := ident.Parse(s)
	if err != nil {
		return ident.Ident{Origin: s, Name: s}
	}
	return id
}

// noteUnused logs what a spec file holds that tend keeps but does not act
// on: a misspelt key is kept as Habitat keeps it, so this line is where an
// operator learns it does nothing.
func (m *Manager) noteUnused(path string, sp spec.Spec) {
	if keys := sp.KeptKeys(); len(keys) > 0 {
		m.log.Warn("spec keys tend does not know are kept but not used", "spec", path, "keys", strings.Join(keys, ","))
	}
	if sp.ConfigFrom != nil {
		m.log.Warn("config_from is kept but not used: config and hooks come from the package", "spec", path, "config_from", *sp.ConfigFrom)
	}
}
