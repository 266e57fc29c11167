package service

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// prepare makes the service's directories, works out whom it runs as and
// with what environment (once), then loads its config and renders it.
func (r *Runner) prepare(st *state) error {
	if !st.prepared {
		if err := r.credentials(st); err != nil {
			return err
		}
		st.envTail = r.environment(st)
	}
	cfg, user, err := r.config(st)
	if err != nil {
		return err
	}
	cur, err := st.tpl.render(r.dataFor(st, cfg))
	if err != nil {
		return err
	}
	if !st.prepared {
		owe := r.starting() && deferrable(st.tpl, cur, r.env(st), r.pathCache())
		if err := st.paths.make(st.uid, st.gid, !owe); err != nil {
			return err
		}
		st.owed = owe
		st.prepared = true
	}
	if err := r.writeRendered(st, cur); err != nil {
		return err
	}
	st.last = cur
	st.setCfg(cfg)
	userConfigChanged(st, user)
	return nil
}

// userConfigChanged reports whether cur, user.toml as the config was just
// loaded from it (a missing file reads as empty), differs from what it was
// when the service was first rendered, and takes the first reading as that
// baseline. user_config_updated is this, so a service without a user.toml
// never says its user config changed, even when gossip or the census
// re-renders it.
func userConfigChanged(st *state, cur string) bool {
	if st.userTOML == nil {
		st.userTOML = &cur
		return false
	}
	return cur != *st.userTOML
}

// pathCache is Deps.Paths while the supervisor starts, else nil.
func (r *Runner) pathCache() *PathCache {
	if r.starting() {
		return r.d.Paths
	}
	return nil
}

// starting reports whether the supervisor's start-up is still under way.
func (r *Runner) starting() bool {
	if r.d.Settled == nil {
		return false
	}
	select {
	case <-r.d.Settled:
		return false
	default:
		return true
	}
}

// deferrable reports whether a service can start before its data/, var/,
// hooks/ and config/ exist: it runs nothing from hooks/ or config/ (its
// run hook is exec'd directly, it has no other hook and no config
// template) and its arguments do not name data or var (absolute, or
// relative to svc/NAME, its working directory). Each directory is a new
// inode, and while hundreds of services start the inodes cost more than
// the spawns; Settle makes them moments later.
func deferrable(t *templates, cur *rendered, env []string, paths *PathCache) bool {
	if len(t.hooks) != 1 || len(t.configs) != 0 {
		return false
	}
	run := cur.directRun(env, paths)
	if !run.ok {
		return false
	}
	for _, w := range run.argv[1:] {
		if strings.Contains(w, "data") || strings.Contains(w, "var") {
			return false
		}
	}
	return true
}

// writeRendered puts rendered hooks and config in place, unless they are
// owed and still not needed.
func (r *Runner) writeRendered(st *state, cur *rendered) error {
	if !st.owed {
		return cur.write(st.last, st.paths.root, st.gid)
	}
	if deferrable(st.tpl, cur, r.env(st), r.pathCache()) {
		return nil
	}
	// The run hook now needs its file: pay what is owed first.
	st.owed = false
	if err := st.paths.makeLate(st.uid, st.gid); err != nil {
		return err
	}
	return cur.write(nil, st.paths.root, st.gid)
}

// settle writes what start-up left owed.
func (r *Runner) settle(st *state) {
	if !st.owed {
		return
	}
	st.owed = false
	err := st.paths.makeLate(st.uid, st.gid)
	if err == nil {
		err = st.last.write(nil, st.paths.root, st.gid)
	}
	if err != nil {
		r.d.Log.Warn("hooks and config not written", "service", r.sg, "err", err)
	}
}

// config loads the service's config layers, and returns user.toml as it
// read it too: one read serves both the config and user_config_updated
// (userConfigChanged).
func (r *Runner) config(st *state) (map[string]any, string, error) {
	userTOML := filepath.Join(r.d.Root, "user", st.spec.Name(), "config", "user.toml")
	b, err := os.ReadFile(userTOML)
	if err != nil && !os.IsNotExist(err) {
		return nil, "", fmt.Errorf("read %s: %w", userTOML, err)
	}
	cfg, err := loadConfig(st.pkg, userTOML, b, r.d.Getenv, st.ring.Gossip)
	return cfg, string(b), err
}

// credentials picks the service user: the package's SVC_USER/SVC_GROUP when
// the supervisor is privileged (Deps.Privileged), else its own user.
func (r *Runner) credentials(st *state) error {
	uid, gid, ok, err := serviceIDs(st.pkg, r.d.Privileged)
	if !ok || err != nil {
		return err
	}
	st.uid, st.gid = uid, gid
	st.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

// environment is what the service adds to the supervisor's environment
// (Deps.Env, secrets already removed): the package's RUNTIME_ENVIRONMENT
// and the marker that names the process ours.
func (r *Runner) environment(st *state) []string {
	env := make([]string, 0, len(st.pkg.Env)+3)
	for _, e := range st.pkg.Env {
		env = append(env, e.Key+"="+e.Value)
	}
	return append(env, r.marker(), "TEND_SERVICE_GROUP="+r.sg, "TEND_SVC_PATH="+st.paths.root)
}

// env is the environment of the service's processes, as prepare worked
// it out: built for each start or hook, which is rare, not held.
func (r *Runner) env(st *state) []string {
	return append(slices.Clip(r.d.Env), st.envTail...)
}

// dataFor is the template data, or nil when no template reads any.
func (r *Runner) dataFor(st *state, cfg map[string]any) map[string]any {
	if st.tpl.literal {
		return nil
	}
	return r.data(st, cfg)
}

// data is the template data (research/habitat.md §6.3). Without a ring the
// service's census is this one member.
func (r *Runner) data(st *state, cfg map[string]any) map[string]any {
	user, group := st.pkg.SvcUser, st.pkg.SvcGroup
	p := pkgData(st.pkg, st.paths, user, group)
	me := map[string]any{
		"member_id": r.d.MemberID, "service": st.spec.Name(), "group": st.spec.Group, "org": r.d.Org,
		"package": st.pkg.Ident.String(), "pkg_incarnation": 0,
		"pkg": map[string]any{
			"origin": st.pkg.Ident.Origin, "name": st.pkg.Ident.Name,
			"version": st.pkg.Ident.Version, "release": st.pkg.Ident.Release,
		},
		"persistent": true, "leader": false, "follower": false,
		"update_leader": false, "update_follower": false,
		"election_is_running": false, "election_is_no_quorum": false, "election_is_finished": false,
		"update_election_is_running": false, "update_election_is_no_quorum": false, "update_election_is_finished": false,
		"sys": r.d.Sys, "alive": true, "suspect": false, "confirmed": false, "departed": false,
		"cfg": exported(st.pkg, cfg),
	}
	binds := st.ring.Binds
	if binds == nil {
		binds = map[string]any{}
	}
	if st.ring.Svc != nil {
		return map[string]any{"sys": r.d.Sys, "pkg": p, "cfg": cfg, "svc": st.ring.Svc(), "bind": binds}
	}
	svc := map[string]any{
		"service": st.spec.Name(), "group": st.spec.Group, "org": r.d.Org,
		"election_is_running": false, "election_is_no_quorum": false, "election_is_finished": false,
		"update_election_is_running": false, "update_election_is_no_quorum": false, "update_election_is_finished": false,
		"me": me, "members": []any{me}, "leader": nil, "first": me, "update_leader": nil,
	}
	return map[string]any{"sys": r.d.Sys, "pkg": p, "cfg": cfg, "svc": svc, "bind": binds}
}
