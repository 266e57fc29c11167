package httpgw

import (
	"github.com/tend-sh/tend/internal/spec"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/tend-sh/tend/internal/api"
)

// Options configures New.
type Options struct {
	// Snapshot returns the latest published snapshot. It is never nil; the
	// snapshot it returns may have Ready=false.
	Snapshot func() *api.Snapshot
	// Redact hides configuration as Habitat's HAB_FEAT_REDACT_HTTP does: no
	// cfg in service objects, /config answers null, /census and /butterfly
	// answer 404.
	Redact bool
	// Extra are more ServeMux patterns mounted on the same mux, such as the
	// monitoring endpoints ("GET /metrics", "GET /ready", ...) when they do
	// not have a listener of their own. A pattern that conflicts with a
	// gateway route panics, as http.ServeMux.Handle does.
	Extra map[string]http.Handler
	// Log receives errors of encoding; nil means slog.Default().
	Log *slog.Logger
	// Events, when set, serves GET /events (the manager's event stream).
	Events EventSource
	// Logs, when set, serves GET /services/{svc}/{group}[/{org}]/logs.
	Logs LogSource
}

// gateway holds what the handlers need; it has no mutable state of its own.
type gateway struct {
	snapshot func() *api.Snapshot
	redact   bool
	log      *slog.Logger
	logs     LogSource
	mux      *http.ServeMux
	index    response
	memoKey  string
}

// Memo keys: the cache depends on Redact, and a snapshot may be served by
// more than one gateway (or other edges) at once.
const (
	memoKey         = "httpgw"
	memoKeyRedacted = "httpgw/redacted"
)

// route is one of the gateway's own routes.
type route struct {
	pattern, about string
	serve          func(*gateway, http.ResponseWriter, *http.Request)
}

// routes in the order the index page lists them. The literal /config and
// /health win over {org}, as in Habitat (an org named "config" or "health"
// cannot be addressed with the 3-segment form), and so does tend's /usage.
var routes = []route{
	{"GET /services", "every loaded service, stopped ones included", (*gateway).serveServices},
	{"GET /services/{svc}/{group}", "one service", (*gateway).serveService},
	{"GET /services/{svc}/{group}/config", "its merged configuration (JSON, or TOML with Accept: application/toml)", (*gateway).serveConfig},
	{"GET /services/{svc}/{group}/health", "its last health check and the hook's output", (*gateway).serveHealth},
	{"GET /services/{svc}/{group}/usage", "CPU and memory its processes use (null without a cgroup)", (*gateway).serveUsage},
	{"GET /services/{svc}/{group}/{org}", "one service of an organization", (*gateway).serveService},
	{"GET /services/{svc}/{group}/{org}/config", "its merged configuration", (*gateway).serveConfig},
	{"GET /services/{svc}/{group}/{org}/health", "its last health check", (*gateway).serveHealth},
	{"GET /services/{svc}/{group}/{org}/usage", "CPU and memory its processes use", (*gateway).serveUsage},
	{"GET /census", "every service group on the ring", (*gateway).serveCensus},
	{"GET /butterfly", "the gossip layer's members and rumors", (*gateway).serveButterfly},
}

// New returns the gateway's ServeMux. The caller adds auth and
// instrumentation around it (httpx.Instrument(observe, httpx.Auth(tokens, mux))).
func New(o Options) *http.ServeMux {
	g := &gateway{
		snapshot: o.Snapshot,
		redact:   o.Redact,
		log:      o.Log,
		logs:     o.Logs,
		mux:      http.NewServeMux(),
		memoKey:  memoKey,
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.redact {
		g.memoKey = memoKeyRedacted
	}
	for _, rt := range routes {
		g.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) { rt.serve(g, w, r) })
	}
	extra := make([]string, 0, len(o.Extra)+3)
	for p, h := range o.Extra {
		extra = append(extra, p)
		g.mux.Handle(p, h)
	}
	if o.Events != nil {
		extra = append(extra, "GET /events")
		g.mux.Handle("GET /events", Events(o.Events))
	}
	if o.Logs != nil {
		for _, p := range []string{"GET /services/{svc}/{group}/logs", "GET /services/{svc}/{group}/{org}/logs"} {
			extra = append(extra, p)
			g.mux.HandleFunc(p, g.serveLogs)
		}
	}
	slices.Sort(extra)
	g.index = indexPage(extra)
	g.mux.HandleFunc("GET /{$}", g.serveIndex)
	// Everything else lands here, so that unknown routes and wrong methods
	// get Habitat's empty error bodies instead of ServeMux's text ones.
	g.mux.HandleFunc("/", g.serveFallback)
	return g.mux
}

// probeMethods are tried to tell "wrong method" (405) from "no such route" (404).
var probeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

func (g *gateway) serveFallback(w http.ResponseWriter, r *http.Request) {
	// The catch-all is not a route: clear the pattern ServeMux set so that
	// httpx.Instrument labels the request "unmatched", as it would be without
	// this handler.
	r.Pattern = ""
	if allow := g.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNotFound)
}

// allowed lists the methods some other pattern would accept for r's path.
func (g *gateway) allowed(r *http.Request) []string {
	var allow []string
	probe := *r
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe.Method = m
		if _, p := g.mux.Handler(&probe); p != "/" && p != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// current returns the snapshot to serve, or nil (after answering 503) when
// the supervisor has not finished starting.
func (g *gateway) current(w http.ResponseWriter) *api.Snapshot {
	s := g.snapshot()
	if s == nil || !s.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		return nil
	}
	return s
}

func (g *gateway) serveServices(w http.ResponseWriter, r *http.Request) {
	if s := g.current(w); s != nil {
		g.cache(s).servicesResponse().write(w, r)
	}
}

func (g *gateway) serveService(w http.ResponseWriter, r *http.Request) {
	if sc := g.lookup(w, r); sc != nil {
		sc.objectResponse().write(w, r)
	}
}

func (g *gateway) serveConfig(w http.ResponseWriter, r *http.Request) {
	if sc := g.lookup(w, r); sc != nil {
		sc.configResponse(wantsTOML(r)).write(w, r)
	}
}

func (g *gateway) serveCensus(w http.ResponseWriter, r *http.Request) {
	if g.redact {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if s := g.current(w); s != nil {
		g.cache(s).censusResponse().write(w, r)
	}
}

func (g *gateway) serveButterfly(w http.ResponseWriter, r *http.Request) {
	if g.redact {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if s := g.current(w); s != nil {
		g.cache(s).butterflyResponse().write(w, r)
	}
}

// lookup finds the service a /services/{svc}/{group}[/{org}] request names,
// answering 503, 400 or 404 itself when it cannot.
func (g *gateway) lookup(w http.ResponseWriter, r *http.Request) *svcCache {
	s := g.current(w)
	if s == nil {
		return nil
	}
	sg, err := spec.FormatServiceGroup(r.PathValue("svc"), r.PathValue("group"), r.PathValue("org"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return nil
	}
	sc := g.cache(s).service(sg)
	if sc == nil {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	return sc
}
