package httpgw

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/api"
)

func ptr[T any](v T) *T { return &v }

func TestParseIdent(t *testing.T) {
	cases := map[string]packageIdentJSON{
		"core/redis":              {Origin: "core", Name: "redis"},
		"core/redis/7.2":          {Origin: "core", Name: "redis", Version: ptr("7.2")},
		"core/redis/7.2/20240101": {Origin: "core", Name: "redis", Version: ptr("7.2"), Release: ptr("20240101")},
		"redis":                   {Name: "redis"},
		"":                        {},
	}
	for in, want := range cases {
		if got := parseIdent(in); !cmp.Equal(got, want) {
			t.Errorf("parseIdent(%q): %s", in, cmp.Diff(want, got))
		}
	}
}

func TestFieldMapping(t *testing.T) {
	s := fixtureSnapshot("")
	obj := func(i int) serviceJSON { return serviceObject(s, s.Services[i], []byte("{}"), false) }
	redis, web, worker := obj(1), obj(2), obj(3)

	if redis.Process.PID == nil || *redis.Process.PID != 4242 || redis.Process.State != "up" ||
		redis.Process.StateEntered != t0.Add(-30*time.Minute).Unix() {
		t.Errorf("redis process: %+v", redis.Process)
	}
	if web.Process.PID != nil || web.Process.State != "down" {
		t.Errorf("web process: %+v", web.Process)
	}
	if web.NextRestartAt == nil || *web.NextRestartAt != t0.Unix()+20 {
		t.Errorf("web next_restart_at: %v", web.NextRestartAt)
	}
	// An exit without one of Habitat's reasons (killed by a signal) is the
	// run hook's process failing.
	if lp := web.LastProcessState; lp == nil || lp.TerminationReason != "run_hook_failed" || *lp.PID != 5001 {
		t.Errorf("web last_process_state: %+v", lp)
	}
	if got := lastProcess(&api.Exit{Reason: "app_config_updated"}); got.TerminationReason != "app_config_updated" || got.PID != nil {
		t.Errorf("reason kept, no pid: %+v", got)
	}
	if web.HealthCheckInterval != (durationJSON{Secs: 10, Nanos: 500_000_000}) {
		t.Errorf("interval: %+v", web.HealthCheckInterval)
	}
	if web.Pkg.ShutdownSignal != "QUIT" || web.Pkg.ShutdownTimeout != 15 {
		t.Errorf("web shutdown: %q %d", web.Pkg.ShutdownSignal, web.Pkg.ShutdownTimeout)
	}
	if worker.Pkg.ShutdownSignal != "" {
		t.Errorf("worker shutdown_signal %q, want left out", worker.Pkg.ShutdownSignal)
	}
	if web.Hooks.Reload != nil || web.Hooks.PostStop == nil || web.Hooks.HealthCheck == nil || web.Hooks.Init != nil {
		t.Errorf("web hooks: %+v", web.Hooks)
	}
	if web.DesiredState != "Up" || web.HealthCheck != "Critical" || web.Topology != "leader" ||
		web.UpdateStrategy != "rolling" || web.BindingMode != "relaxed" {
		t.Errorf("web enums: %s %s %s %s %s", web.DesiredState, web.HealthCheck, web.Topology, web.UpdateStrategy, web.BindingMode)
	}
	if worker.HealthCheck != "Warning" || redis.HealthCheck != "Ok" {
		t.Errorf("health: %s %s", worker.HealthCheck, redis.HealthCheck)
	}
	// Loaded from a directory: the spec names the exact package.
	if want := (packageIdentJSON{Origin: "core", Name: "worker", Version: ptr("0.9.0"), Release: ptr("20240303000000")}); !cmp.Equal(worker.SpecIdent, want) {
		t.Errorf("worker spec_ident: %s", cmp.Diff(want, worker.SpecIdent))
	}
	if worker.SpecIdentifier != "/srv/pkgs/worker" {
		t.Errorf("spec_identifier %q", worker.SpecIdentifier)
	}
	if want := []pkgBindJSON{{"cache", []string{"port"}}, {"db", []string{}}}; !cmp.Equal(web.AllPkgBinds, want) {
		t.Errorf("all_pkg_binds: %s", cmp.Diff(want, web.AllPkgBinds))
	}
	// Unknown enum values fall back to Habitat's defaults.
	odd := api.Service{Topology: "mesh", UpdateStrategy: "yolo", BindingMode: "loose", UpdateCondition: "x"}
	o := serviceObject(s, &odd, nil, true)
	if o.Topology != "standalone" || o.UpdateStrategy != "none" || o.BindingMode != "strict" || o.UpdateCondition != "latest" {
		t.Errorf("fallbacks: %+v", o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, has := m["cfg"]; has || len(m) != 29 {
		t.Errorf("redacted object has %d keys (cfg present: %v), want 29 without cfg", len(m), has)
	}
}
