// Package monitor serves tend's monitoring endpoints (SPEC §8): /ready, which
// turns 200 once and stays there; /healthy, which may flip back and forth and
// says why (Halon's pair); /status, a per-component report with timestamped
// records (ConfigCat Proxy's diagnostics); and /metrics for Prometheus.
//
// Everything is read from the supervisor's latest immutable api.Snapshot, so
// a request never waits on the supervisor. The little state the package keeps
// (the ready latch, hysteresis verdicts, a cached statfs sample, cumulative
// health-check histograms) lives in the Monitor, never in globals.
package monitor

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tend-sh/tend/internal/api"
)

// Options configures a Monitor.
type Options struct {
	// Snapshot returns the latest published snapshot; it may return nil
	// before the first one, which reads as "not ready, nothing loaded".
	Snapshot func() *api.Snapshot

	// Root is the directory whose filesystem's free bytes and inodes are
	// checked. Required when a disk threshold is enabled; when set, /metrics
	// reports both as gauges too.
	Root string
	// DiskFreeBytes and DiskFreeInodes are "below" thresholds, on when
	// Lower > 0: unhealthy when free < Lower, healthy again only when
	// free > Upper.
	DiskFreeBytes, DiskFreeInodes Threshold
	// ServicesDown is an "above" threshold on the number of services that
	// should be up but are not running, have a spec error, or are CRITICAL.
	// On when Upper > 0: unhealthy once count >= Upper, healthy again only
	// when count <= Lower. {Lower: 0, Upper: 1}: any one down is unhealthy.
	ServicesDown Threshold

	// Which endpoints Routes returns. Ready brings /livez and /readyz
	// (Kubernetes' probes) with /ready.
	Ready, Healthy, Status, Metrics bool

	// Loops reports the supervisor's own loops for /livez; nil: /livez
	// checks only that it answers. LoopStale is how long a loop may go
	// without answering a heartbeat; 0 means 5 s.
	Loops     func() []Loop
	LoopStale time.Duration

	// Registry receives the monitor's collectors plus the Go and process
	// collectors; /metrics serves it. Nil means a private new registry.
	Registry *prometheus.Registry

	// Now is the clock; nil means time.Now. It paces the statfs cache.
	Now func() time.Time
	// Statfs returns the free bytes (for unprivileged users) and free inodes
	// of the filesystem holding path; nil means unix.Statfs.
	Statfs func(path string) (freeBytes, freeInodes uint64, err error)

	// StatusRecords is how many records each /status component shows, newest
	// last; 0 means 5, as ConfigCat Proxy.
	StatusRecords int
	// Secrets are strings that must never appear in /status or /healthy
	// (gateway tokens, API keys): they are masked like other token-looking
	// words.
	Secrets []string
}

// Monitor answers the monitoring endpoints. It is safe for concurrent use.
type Monitor struct {
	o        Options
	now      func() time.Time
	snapshot func() *api.Snapshot
	reg      *prometheus.Registry

	headers probeHeaders

	// ready latches the first ready snapshot: /ready never goes back.
	ready atomic.Bool

	disk *diskWatch // nil without a Root

	// down caches the services-down count of the last snapshot seen, and
	// downBad is the hysteresis verdict of the ServicesDown threshold.
	down    atomic.Pointer[downCount]
	downBad atomic.Bool

	// statusKey names this monitor's entry in Snapshot.Memo: two monitors
	// with different options may read the same snapshot.
	statusKey string

	metrics *metrics

	// frames are reused buffers for the per-service metric families.
	frames chan *frame
	// hist holds cumulative health-check duration histograms by service group.
	histMu  sync.Mutex
	hist    map[string]*healthHist
	histGen uint64

	// empty stands in for the snapshot until the first is published.
	empty api.Snapshot
}

// errOptions marks a configuration the Monitor refuses.
var errOptions = errors.New("monitor options")

// New checks the options, registers the collectors and takes a first statfs
// sample, so that a bad root fails at start-up rather than on the first probe.
func New(o Options) (*Monitor, error) {
	if o.Snapshot == nil {
		return nil, fmt.Errorf("snapshot source is required: %w", errOptions)
	}
	if err := o.DiskFreeBytes.validateBelow("disk free bytes"); err != nil {
		return nil, err
	}
	if err := o.DiskFreeInodes.validateBelow("disk free inodes"); err != nil {
		return nil, err
	}
	if err := o.ServicesDown.validateAbove("services down"); err != nil {
		return nil, err
	}
	if o.StatusRecords < 0 {
		return nil, fmt.Errorf("status records must not be negative (got %d): %w", o.StatusRecords, errOptions)
	}
	if o.StatusRecords == 0 {
		o.StatusRecords = defaultStatusRecords
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LoopStale <= 0 {
		o.LoopStale = defaultLoopStale
	}
	if o.Statfs == nil {
		o.Statfs = statfs
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	m := &Monitor{
		o:        o,
		now:      o.Now,
		snapshot: o.Snapshot,
		reg:      o.Registry,
		headers:  newProbeHeaders(),
		frames:   make(chan *frame, 1),
		hist:     map[string]*healthHist{},
	}
	m.statusKey = fmt.Sprintf("monitor/%p/status", m)
	if (o.DiskFreeBytes.onBelow() || o.DiskFreeInodes.onBelow()) && o.Root == "" {
		return nil, fmt.Errorf("root is required when a disk threshold is set: %w", errOptions)
	}
	if o.Root != "" {
		d, err := newDiskWatch(o.Root, o.Statfs, o.DiskFreeBytes, o.DiskFreeInodes, m.now())
		if err != nil {
			return nil, err
		}
		m.disk = d
	}
	mx, err := newMetrics(m)
	if err != nil {
		return nil, err
	}
	m.metrics = mx
	return m, nil
}

// Routes maps ServeMux patterns to the handlers of the enabled endpoints.
// A "GET" pattern also answers HEAD, as ServeMux does.
func (m *Monitor) Routes() map[string]http.Handler {
	r := map[string]http.Handler{}
	if m.o.Ready {
		r["GET /ready"] = http.HandlerFunc(m.serveReady)
		r["GET /livez"] = http.HandlerFunc(m.serveLivez)
		r["GET /readyz"] = http.HandlerFunc(m.serveReadyz)
		r["GET /livez/{check}"] = http.HandlerFunc(m.serveLivezCheck)
		r["GET /readyz/{check}"] = http.HandlerFunc(m.serveReadyzCheck)
	}
	if m.o.Healthy {
		r["GET /healthy"] = http.HandlerFunc(m.serveHealthy)
	}
	if m.o.Status {
		r["GET /status"] = http.HandlerFunc(m.serveStatus)
		r["OPTIONS /status"] = http.HandlerFunc(serveStatusOptions)
	}
	if m.o.Metrics {
		r["GET /metrics"] = m.metrics.handler
	}
	return r
}

// snap returns the latest snapshot, or the monitor's empty one before the
// first is published.
func (m *Monitor) snap() *api.Snapshot {
	if s := m.snapshot(); s != nil {
		return s
	}
	return &m.empty
}
