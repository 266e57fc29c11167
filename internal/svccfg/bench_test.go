package svccfg

import "testing"

// benchLayers is a service's config at start-up: a default.toml of a few
// dozen keys in nested tables, then small env, user and gossip overrides.
func benchLayers(b *testing.B) Layers {
	def, err := ParseTOML("default.toml", []byte(`
port = 6379
bind = "0.0.0.0"
protected_mode = "yes"
tcp_backlog = 511
timeout = 0
tcp_keepalive = 300
databases = 16
loglevel = "notice"
save = ["900 1", "300 10", "60 10000"]
maxmemory = "0"
maxmemory_policy = "noeviction"
appendonly = "no"
appendfsync = "everysec"

[tls]
enabled = false
port = 6380
cert = "/hab/svc/redis/config/redis.crt"
key = "/hab/svc/redis/config/redis.key"
protocols = ["TLSv1.2", "TLSv1.3"]

[cluster]
enabled = false
node_timeout = 15000
[cluster.replica]
validity_factor = 10
migration_barrier = 1

[[acl]]
user = "default"
rules = "on nopass ~* +@all"
[[acl]]
user = "reader"
rules = "on >secret ~* +@read"
`))
	if err != nil {
		b.Fatal(err)
	}
	return Layers{
		Default: def,
		Env:     map[string]any{"loglevel": "debug"},
		User:    map[string]any{"port": int64(7000), "tls": map[string]any{"enabled": true}},
		Gossip:  map[string]any{"maxmemory": "2gb", "cluster": map[string]any{"replica": map[string]any{"migration_barrier": int64(2)}}},
	}
}

func BenchmarkMerge(b *testing.B) {
	l := benchLayers(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Merged()
	}
}

func BenchmarkEncodeTOML(b *testing.B) {
	cfg := benchLayers(b).Merged()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeTOML(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
