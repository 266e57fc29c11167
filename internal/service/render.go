package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/safefs"
	"github.com/tend-sh/tend/internal/svccfg"
	"github.com/tend-sh/tend/internal/tmpl"
)

// templates are a package's parsed hooks and config files. Parsing happens
// once, at load, so a broken template is refused before anything changes.
type templates struct {
	hooks   map[string]*tmpl.Template // by hook name
	configs map[string]*tmpl.Template // by path under config/
	literal bool                      // none uses data: render needs none built
}

func parseTemplates(p *pkg.Package) (*templates, error) {
	t := &templates{hooks: map[string]*tmpl.Template{}, configs: map[string]*tmpl.Template{}}
	for name, src := range p.Hooks {
		tp, err := tmpl.ParseWith(filepath.Join(p.Path, "hooks", name), src, p.TemplateDialect)
		if err != nil {
			return nil, err
		}
		t.hooks[name] = tp
	}
	for rel, src := range p.ConfigTemplates {
		tp, err := tmpl.ParseWith(filepath.Join(p.Path, "config", rel), src, p.TemplateDialect)
		if err != nil {
			return nil, err
		}
		t.configs[rel] = tp
	}
	t.literal = true
	for _, m := range []map[string]*tmpl.Template{t.hooks, t.configs} {
		for _, tp := range m {
			t.literal = t.literal && tp.Literal()
		}
	}
	return t, nil
}

// rendered is the output of one render: file contents by name.
type rendered struct {
	hooks   map[string]string
	configs map[string]string
	run     *directRun // directRun's memo
}

// directRun is what directExec made of the rendered run hook.
type directRun struct {
	path string
	argv []string
	ok   bool
}

// directRun returns directExec of the run hook, worked out once per render
// (a PATH search is a stat per entry): every start renders afresh, and env
// is the runner's, fixed once prepared.
func (r *rendered) directRun(env []string, paths *PathCache) directRun {
	if r.run == nil {
		path, argv, ok := directExec(r.hooks["run"], env, paths)
		r.run = &directRun{path, argv, ok}
	}
	return *r.run
}

func (t *templates) render(data map[string]any) (*rendered, error) {
	out := &rendered{hooks: make(map[string]string, len(t.hooks)), configs: make(map[string]string, len(t.configs))}
	for name, tp := range t.hooks {
		s, err := tp.Render(data)
		if err != nil {
			return nil, err
		}
		out.hooks[name] = s
	}
	for rel, tp := range t.configs {
		s, err := tp.Render(data)
		if err != nil {
			return nil, err
		}
		out.configs[rel] = s
	}
	return out, nil
}

// changes says what differs between two renders, to choose between a
// restart and the reconfigure hook (SPEC §5).
type changes struct {
	restartHooks []string // init, run or post-run changed
	config       bool     // a config file changed
	reconfigure  bool     // the reconfigure hook itself changed
}

func diff(old, cur *rendered) changes {
	var c changes
	if old == nil {
		return c
	}
	for _, h := range []string{"init", "run", "post-run"} {
		if old.hooks[h] != cur.hooks[h] {
			c.restartHooks = append(c.restartHooks, h)
		}
	}
	c.reconfigure = old.hooks["reconfigure"] != cur.hooks["reconfigure"]
	if len(old.configs) != len(cur.configs) {
		c.config = true
	}
	for k, v := range cur.configs {
		if ov, ok := old.configs[k]; !ok || ov != v {
			c.config = true
		}
	}
	return c
}

// write puts rendered files in place, each through a rename so a running
// service never reads half a file and a running hook is never rewritten in
// place (ETXTBSY). Files equal to what is there already are left alone.
// These are derived files, rebuilt at every start, so no fsync. hooks/
// and config/ are the supervisor's: the service user reads the files and
// cannot replace them (svcPaths.make).
func (r *rendered) write(old *rendered, svcDir string, gid int) error {
	dirs, err := openDirs(svcDir)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer dirs.close()
	for name, s := range r.hooks {
		if old != nil && old.hooks[name] == s {
			continue
		}
		if err := dirs.write("hooks/"+name, s, hookPerm, safefs.Self); err != nil {
			return err
		}
	}
	for rel, s := range r.configs {
		if old != nil && old.configs[rel] == s {
			continue
		}
		if err := dirs.write("config/"+rel, s, configPerm, configOwner(gid)); err != nil {
			return err
		}
	}
	return nil
}

// Modes of what tend writes for a service. Config files and gossiped
// files are the supervisor's and readable by the service's group only.
const (
	hookPerm   = 0o755
	configPerm = 0o640
	dirPerm    = 0o755
)

func configOwner(gid int) safefs.Owner { return safefs.Owner{UID: -1, GID: gid} }

// writeFile writes a gossiped file below files/, the supervisor's like
// config/, readable by the service's group.
func writeFile(svcDir, rel, content string, gid int) error {
	dirs, err := openDirs(svcDir)
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	defer dirs.close()
	return dirs.write(rel, content, configPerm, configOwner(gid))
}

// svcDirs writes below svc/NAME, each directory opened once however many
// files go there.
type svcDirs struct {
	root *safefs.Dir
	sub  map[string]*safefs.Dir // by slash-separated path below root
}

func openDirs(svcDir string) (*svcDirs, error) {
	root, err := safefs.Open(svcDir)
	if err != nil {
		return nil, err
	}
	return &svcDirs{root: root, sub: map[string]*safefs.Dir{}}, nil
}

func (s *svcDirs) close() {
	for _, d := range s.sub {
		d.Close()
	}
	s.root.Close()
}

// write puts content at rel (slash-separated, below svc/NAME), making its
// directories (the supervisor's), unless the file is there already with
// that content, owner and mode. Nothing on the way is followed if it is a
// link.
func (s *svcDirs) write(rel, content string, perm os.FileMode, o safefs.Owner) error {
	dir, name := path.Split(rel)
	d := s.sub[dir]
	if d == nil {
		var err error
		if d, err = s.root.MakeDirs(dir, dirPerm, safefs.Self); err != nil {
			return fmt.Errorf("render %s: %w", filepath.Join(s.root.Path(), rel), err)
		}
		s.sub[dir] = d
	}
	if cur, ok, err := d.ReadFile(name, perm, o); err == nil && ok && string(cur) == content {
		return nil
	}
	if err := d.WriteFile(name, []byte(content), perm, o); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

// loadConfig merges the service's config layers (SPEC §6). user is
// user.toml as read from userTOML (named in messages); nil: there is none.
func loadConfig(p *pkg.Package, userTOML string, user []byte, getenv func(string) string, gossip map[string]any) (map[string]any, error) {
	var l svccfg.Layers
	var err error
	if len(p.DefaultTOML) > 0 {
		if l.Default, err = svccfg.ParseTOML(filepath.Join(p.Path, "default.toml"), p.DefaultTOML); err != nil {
			return nil, err
		}
	}
	if l.Env, err = svccfg.EnvLayer(p.Ident.Name, getenv); err != nil {
		return nil, err
	}
	if user != nil {
		if len(user) > svccfg.MaxSize {
			return nil, fmt.Errorf("%s: %d bytes is over the %d byte limit", userTOML, len(user), svccfg.MaxSize)
		}
		if l.User, err = svccfg.ParseTOML(userTOML, user); err != nil {
			return nil, err
		}
	}
	l.Gossip = gossip
	return l.Merged(), nil
}

// exported applies the package's EXPORTS to cfg: what a member shares with
// its binders.
func exported(p *pkg.Package, cfg map[string]any) map[string]any {
	out := make(map[string]any, len(p.Exports))
	for k, path := range p.Exports {
		if v, ok := svccfg.Lookup(cfg, path); ok {
			out[k] = v
		}
	}
	return out
}

// pkgData is the template data under "pkg" (research/habitat.md §6.3).
func pkgData(p *pkg.Package, paths svcPaths, user, group string) map[string]any {
	env := make(map[string]any, len(p.Env))
	for _, e := range p.Env {
		env[e.Key] = e.Value
	}
	deps := make([]any, 0, len(p.Deps))
	for _, d := range p.Deps {
		deps = append(deps, map[string]any{"origin": d.Origin, "name": d.Name, "version": d.Version, "release": d.Release})
	}
	exports := make(map[string]any, len(p.Exports))
	for k, v := range p.Exports {
		exports[k] = v
	}
	exposes := make([]any, 0, len(p.Exposes))
	for _, e := range p.Exposes {
		exposes = append(exposes, e)
	}
	return map[string]any{
		"ident": p.Ident.String(), "origin": p.Ident.Origin, "name": p.Ident.Name,
		"version": p.Ident.Version, "release": p.Ident.Release,
		"deps": deps, "env": env, "exposes": exposes, "exports": exports,
		"path": p.Path, "svc_path": paths.root, "svc_config_path": paths.config,
		"svc_data_path": paths.data, "svc_files_path": paths.files, "svc_static_path": paths.static,
		"svc_var_path": paths.vars, "svc_pid_file": paths.pidFile, "svc_run": paths.hook("run"),
		"svc_user": user, "svc_group": group,
	}
}

// svcPaths are the directories of ROOT/svc/NAME.
type svcPaths struct {
	root, config, data, files, hooks, logs, static, vars, pidFile string
}

func newSvcPaths(root, name string) svcPaths {
	d := filepath.Join(root, "svc", name)
	return svcPaths{
		root: d, config: filepath.Join(d, "config"), data: filepath.Join(d, "data"),
		files: filepath.Join(d, "files"), hooks: filepath.Join(d, "hooks"), logs: filepath.Join(d, "logs"),
		static: filepath.Join(d, "static"), vars: filepath.Join(d, "var"), pidFile: filepath.Join(d, "PID"),
	}
}

func (p svcPaths) hook(name string) string { return filepath.Join(p.hooks, name) }

// make creates the service's directories: svc/NAME, its working
// directory, and data/, var/, config/ and hooks/ too unless only that is
// asked for (state.owed). A new inode is the dearest part of a first
// start, so logs/ and files/ are made when first written and static/ when
// a package brings any.
//
// Only data/ and var/ are the service user's (uid, gid; -1: the
// supervisor's). svc/NAME, config/, hooks/, logs/ and files/ are the
// supervisor's, mode 0755: it writes there as root, and a user who could
// put a link there could have root write through it. A tree an older
// tend handed to the service user is taken back here, through directory
// handles that follow no link.
func (p svcPaths) make(uid, gid int, all bool) error {
	root, err := p.makeRoot()
	if err != nil {
		return fmt.Errorf("create %s: %w", p.root, err)
	}
	defer root.Close()
	if all {
		if err := p.makeLateIn(root, uid, gid); err != nil {
			return err
		}
	}
	for _, d := range []string{"logs", "files"} {
		if root.Fresh() {
			break
		}
		if err := root.FixDir(d, dirPerm, safefs.Self); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Join(p.root, d), err)
		}
	}
	return nil
}

// makeRoot opens svc/NAME, creating it (and svc/) if missing, as the
// supervisor's, mode 0755.
func (p svcPaths) makeRoot() (*safefs.Dir, error) {
	root, err := safefs.Open(p.root)
	if err == nil {
		if err := root.Fix(dirPerm, safefs.Self); err != nil {
			root.Close()
			return nil, err
		}
		return root, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p.root), 0o755); err != nil {
		return nil, err
	}
	parent, err := safefs.Open(filepath.Dir(p.root))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return parent.MakeDir(filepath.Base(p.root), dirPerm, safefs.Self)
}

// makeLate creates data/, var/, config/ and hooks/.
func (p svcPaths) makeLate(uid, gid int) error {
	root, err := safefs.Open(p.root)
	if err != nil {
		return fmt.Errorf("create %s: %w", p.root, err)
	}
	defer root.Close()
	return p.makeLateIn(root, uid, gid)
}

func (p svcPaths) makeLateIn(root *safefs.Dir, uid, gid int) error {
	user := safefs.Owner{UID: uid, GID: gid}
	for _, d := range []string{"data", "var", "config", "hooks"} {
		var err error
		if d == "data" || d == "var" {
			err = root.EnsureDir(d, dirPerm, user, false)
		} else {
			err = root.EnsureDir(d, dirPerm, safefs.Self, true)
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", filepath.Join(p.root, d), err)
		}
	}
	return nil
}

// hookNames lists a package's hooks in a stable order.
func hookNames(p *pkg.Package) []string {
	names := make([]string, 0, len(p.Hooks))
	for n := range p.Hooks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
