package httpgw

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/rumor"
)

// t0 is the fixed clock of the literal snapshots: their golden files need
// no normalisation.
var t0 = time.Date(2026, 5, 29, 16, 36, 40, 0, time.UTC)

const memberID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

func fixtureSup(org string) api.Supervisor {
	return api.Supervisor{
		MemberID:     memberID,
		PID:          100,
		StartedAt:    t0.Add(-time.Hour),
		Version:      "0.1.0/20260529163640",
		Org:          org,
		Root:         "/hab",
		StateDir:     "/hab/sup/default",
		SpecsPath:    "/hab/sup/default/specs",
		DataPath:     "/hab/sup/default/data",
		MemberIDFile: "/hab/sup/default/MEMBER_ID",
		LockFile:     "/hab/sup/default/LOCK",
		Sys: api.Sys{
			IP: "10.0.0.5", Hostname: "node-1",
			GossipIP: "0.0.0.0", GossipPort: 9638,
			HTTPGatewayIP: "0.0.0.0", HTTPGatewayPort: 9631,
			CtlGatewayIP: "127.0.0.1", CtlGatewayPort: 9632,
		},
		MinBackoff: time.Second,
		MaxBackoff: 60 * time.Second,
		Cooldown:   300 * time.Second,
	}
}

func pkgFor(name, version, release string) api.Pkg {
	svc := "/hab/svc/" + name
	return api.Pkg{
		Ident:   "core/" + name + "/" + version + "/" + release,
		Origin:  "core",
		Name:    name,
		Version: version,
		Release: release,
		Path:    "/hab/pkgs/core/" + name + "/" + version + "/" + release,

		SvcPath:       svc,
		SvcConfigPath: svc + "/config",
		SvcDataPath:   svc + "/data",
		SvcFilesPath:  svc + "/files",
		SvcStaticPath: svc + "/static",
		SvcVarPath:    svc + "/var",
		SvcPIDFile:    svc + "/PID",
		SvcRun:        svc + "/run",
		SvcUser:       "hab",
		SvcGroup:      "hab",

		Env:             map[string]string{"PATH": "/hab/pkgs/core/" + name + "/" + version + "/" + release + "/bin:/bin"},
		Deps:            []string{"core/glibc/2.35/20240105171810"},
		ShutdownSignal:  "TERM",
		ShutdownTimeout: 8 * time.Second,
	}
}

func hook(svcName, name, logDir string) api.Hook {
	return api.Hook{
		Path:       "/hab/svc/" + svcName + "/hooks/" + name,
		StdoutPath: logDir + "/" + name + ".stdout.log",
		StderrPath: logDir + "/" + name + ".stderr.log",
	}
}

// fixtureServices are four services in every state the gateway renders:
// broken (spec unreadable), redis (up, healthy), web (leader, crashed and
// waiting to restart, critical) and worker (up, warning, no hook output).
func fixtureServices(org string) []api.Service {
	at := ""
	if org != "" {
		at = "@" + org
	}
	redis := api.Service{
		Name: "redis", Group: "default", Org: org, ServiceGroup: "redis.default" + at,
		SpecIdent: "core/redis", SpecFile: "/hab/sup/default/specs/redis.spec",
		DesiredUp: true, Topology: "standalone", UpdateStrategy: "none", UpdateCondition: "latest",
		BindingMode: "strict", HealthInterval: 30 * time.Second,
		Pkg: pkgFor("redis", "7.2.4", "20240301120000"),
		Hooks: map[string]api.Hook{
			"run":          hook("redis", "run", "/hab/svc/redis/logs"),
			"init":         hook("redis", "init", "/hab/svc/redis/logs"),
			"health-check": hook("redis", "health-check", "testdata/hooks/redis"),
		},
		Cfg: map[string]any{
			"port":      int64(6379),
			"bind":      []any{"0.0.0.0"},
			"maxmemory": "1gb",
			"tls":       map[string]any{"enabled": false, "port": int64(6380)},
			"tuning":    map[string]any{"hz": int64(10), "active_defrag_ratio": 0.25},
		},
		Running: true, PID: 4242, StateEntered: t0.Add(-30 * time.Minute),
		LastExit:     &api.Exit{PID: 4100, Code: 1, At: t0.Add(-31 * time.Minute), Reason: "run_hook_failed"},
		RestartCount: 1, Initialized: true, Health: api.HealthOK,
		HealthOutput: &api.HookOutput{Stdout: "PONG\n", Stderr: "Warning: AUTH not set\n"},
	}
	redis.Pkg.Exposes = []string{"6379"}
	redis.Pkg.Exports = map[string]string{"port": "port", "tls-port": "tls.port", "missing": "no.such.key"}
	redis.Exported = map[string]any{"port": int64(6379), "tls-port": int64(6380)} // what the runner derives from Cfg

	web := api.Service{
		Name: "web", Group: "default", Org: org, ServiceGroup: "web.default" + at,
		SpecIdent: "core/web/1.4.2", SpecFile: "/hab/sup/default/specs/web.spec",
		DesiredUp: true, Topology: "leader", UpdateStrategy: "rolling", UpdateCondition: "latest",
		BindingMode: "relaxed", Binds: []string{"cache:redis.default" + at},
		HealthInterval: 10*time.Second + 500*time.Millisecond, ShutdownTimeout: 15 * time.Second,
		Pkg:         pkgFor("web", "1.4.2", "20240302090000"),
		AllPkgBinds: []api.PkgBind{{Service: "cache", Exports: []string{"port"}}, {Service: "db", Optional: true}},
		Hooks: map[string]api.Hook{
			"run":          hook("web", "run", "/hab/svc/web/logs"),
			"health-check": hook("web", "health-check", "testdata/hooks/web"),
			"post-stop":    hook("web", "post-stop", "/hab/svc/web/logs"),
			"reload":       hook("web", "reload", "/hab/svc/web/logs"),
		},
		Cfg: map[string]any{
			"listen":    map[string]any{"port": int64(8080)},
			"upstreams": []any{map[string]any{"name": "a", "weight": int64(1)}},
		},
		StateEntered: t0.Add(-10 * time.Second),
		LastExit:     &api.Exit{PID: 5001, Code: -1, Signal: "SIGKILL", At: t0.Add(-10 * time.Second)},
		RestartCount: 3, NextRestart: t0.Add(20 * time.Second), Initialized: true,
		Health: api.HealthCritical, StartError: "run hook exited",
	}
	web.Pkg.ShutdownSignal = "SIGQUIT"
	web.Pkg.Exports = map[string]string{"port": "listen.port"}
	web.Exported = map[string]any{"port": int64(8080)}

	worker := api.Service{
		Name: "worker", Group: "default", Org: org, ServiceGroup: "worker.default" + at,
		SpecIdent: "/srv/pkgs/worker", SpecFile: "/hab/sup/default/specs/worker.spec",
		DesiredUp: true, HealthInterval: 30 * time.Second,
		Pkg: pkgFor("worker", "0.9.0", "20240303000000"),
		Hooks: map[string]api.Hook{
			"run":          hook("worker", "run", "/hab/svc/worker/logs"),
			"health-check": hook("worker", "health-check", "testdata/hooks/worker"),
		},
		Cfg:     map[string]any{"threads": int64(4)},
		Running: true, PID: 4300, StateEntered: t0.Add(-20 * time.Minute),
		Initialized: true, Health: api.HealthWarning, UserConfigUpdated: true,
	}
	worker.Pkg.ShutdownSignal = "WINCH" // not one of Habitat's: shutdown_signal is left out

	broken := api.Service{
		Name: "broken", Group: "default", Org: org, ServiceGroup: "broken.default" + at,
		SpecFile:  "/hab/sup/default/specs/broken.spec",
		SpecError: "broken.spec: toml: line 3: expected '=' after key",
	}
	return []api.Service{broken, redis, web, worker}
}

func fixtureSnapshot(org string) *api.Snapshot {
	return withRing(&api.Snapshot{
		Generation: 7,
		Taken:      t0,
		Ready:      true,
		Sup:        fixtureSup(org),
		Services:   ptrs(fixtureServices(org)),
	})
}

// withRing gives s the ring documents of a member alone on its ring, built
// (when first served) from s as it is then, as the manager's fold would.
func withRing(s *api.Snapshot) *api.Snapshot {
	s.Ring = &api.Ring{
		Census:    api.NewEncodedDoc(func() ([]byte, error) { return census.Build(localInput(s)).EncodeJSON() }),
		Butterfly: api.NewDoc(func() any { return census.Butterfly(localInput(s)) }),
	}
	return s
}

// localInput describes s's member, alive, with one service rumor per
// loaded service, as the census fold's input.
func localInput(s *api.Snapshot) census.Input {
	sys := s.Sup.Sys
	in := census.Input{
		LocalID: s.Sup.MemberID,
		Members: []census.Member{{ID: s.Sup.MemberID, Health: "alive", Address: sys.IP, Port: sys.GossipPort, Permanent: sys.Permanent}},
	}
	for i := range s.Services {
		svc := s.Services[i]
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: s.Sup.MemberID, ServiceGroup: svc.ServiceGroup, Package: svc.Pkg.Ident,
			Cfg: svc.Exported, Sys: sys.Rumor(), Initialized: svc.Initialized,
			Health: string(svc.Health), Up: svc.Running,
		}})
	}
	return in
}

// ptrs points at each of svcs, as a snapshot holds them.
func ptrs(svcs []api.Service) []*api.Service {
	out := make([]*api.Service, len(svcs))
	for i := range svcs {
		out[i] = &svcs[i]
	}
	return out
}

// manyServices is a snapshot of n running services, for benchmarks.
func manyServices(n int) *api.Snapshot {
	s := withRing(&api.Snapshot{Ready: true, Taken: t0, Sup: fixtureSup("")})
	base := fixtureServices("")[1] // redis
	for i := range n {
		svc := base
		svc.Name = fmt.Sprintf("svc%03d", i)
		svc.ServiceGroup = svc.Name + ".default"
		svc.Pkg = pkgFor(svc.Name, "1.0.0", "20240301120000")
		s.Services = append(s.Services, &svc)
	}
	return s
}

// serve builds a gateway over a fixed snapshot.
func serve(s *api.Snapshot, redact bool) http.Handler {
	return New(Options{Snapshot: func() *api.Snapshot { return s }, Redact: redact, Log: discardLog()})
}

// live is a gateway over a snapshot that can be swapped, as the core does.
type live struct {
	cur atomic.Pointer[api.Snapshot]
	h   http.Handler
}

func newLive(s *api.Snapshot, redact bool) *live {
	l := &live{}
	l.cur.Store(s)
	l.h = New(Options{Snapshot: l.cur.Load, Redact: redact, Log: discardLog()})
	return l
}

// result is a recorded response.
type result struct {
	code   int
	header http.Header
	body   []byte
}

func do(t testing.TB, h http.Handler, method, path string, header ...string) result {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{rec.Code, rec.Result().Header, body}
}

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }
