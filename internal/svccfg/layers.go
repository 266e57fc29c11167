package svccfg

// Layers are one service's config sources, lowest precedence first. Any of
// them may be nil.
type Layers struct {
	Default map[string]any // the package's default.toml
	Env     map[string]any // TEND_<PKGNAME> or HAB_<PKGNAME>, see EnvLayer
	User    map[string]any // ROOT/user/SVC/config/user.toml
	Gossip  map[string]any // the service group's applied config
}

// Merged is the service's cfg: the layers merged, later wins. It is never
// nil and shares nothing with the layers.
func (l Layers) Merged() map[string]any {
	return Merge(l.Default, l.Env, l.User, l.Gossip)
}
