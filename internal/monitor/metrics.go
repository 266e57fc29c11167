package monitor

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/tend-sh/tend/internal/api"
)

// maxScrapesInFlight bounds concurrent /metrics requests: each holds a frame
// of per-service metrics (about 3 KiB per service), so a burst of scrapers
// must not multiply that without limit. Extra ones get 503.
const maxScrapesInFlight = 4

// httpBuckets suit the monitor and gateway routes, which answer in tens of
// microseconds to a few milliseconds; the default buckets start at 5 ms and
// would put every request in the first one.
func httpBuckets() []float64 {
	return []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// metrics is the /metrics side of a Monitor.
type metrics struct {
	handler http.Handler

	httpDur *prometheus.HistogramVec
	// observers caches one Observer per label set, copy-on-write: the hot
	// path (every request) is a lock-free map read with no allocation.
	obsMu     sync.Mutex
	observers atomic.Pointer[map[httpKey]prometheus.Observer]

	svc *serviceFamilies
}

type httpKey struct {
	pattern, method string
	code            int
}

func newMetrics(m *Monitor) (*metrics, error) {
	x := &metrics{
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tend_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by ServeMux route pattern, method and status code.",
			Buckets: httpBuckets(),
		}, []string{"pattern", "method", "code"}),
		svc: newServiceFamilies(),
	}
	for _, c := range []prometheus.Collector{x.httpDur, newSupCollector(m)} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering monitor metrics: %w", err)
		}
	}
	// The registry may already hold the runtime collectors (the caller's
	// choice); one copy of each is all that matters.
	for _, c := range []prometheus.Collector{
		without(collectors.NewGoCollector(), clashingGoMetric),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		var are prometheus.AlreadyRegisteredError
		if err := m.reg.Register(c); err != nil && !errors.As(err, &are) {
			return nil, fmt.Errorf("registering runtime metrics: %w", err)
		}
	}
	x.handler = promhttp.HandlerForTransactional(gatherer{m}, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// A collector that fails (say /proc unreadable) must not blank
		// the whole scrape: serve what was gathered.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapesInFlight,
	})
	return x, nil
}

// ObserveHTTP records one HTTP request in tend_http_request_duration_seconds.
// pattern is the ServeMux pattern that served the request (never the raw
// path, whose values are unbounded); it is the observe function given to
// httpx.Instrument.
func (m *Monitor) ObserveHTTP(pattern, method string, code int, d time.Duration) {
	m.metrics.observe(pattern, method, code, d)
}

func (x *metrics) observe(pattern, method string, code int, d time.Duration) {
	k := httpKey{pattern: pattern, method: method, code: code}
	if mp := x.observers.Load(); mp != nil {
		if o, ok := (*mp)[k]; ok {
			o.Observe(d.Seconds())
			return
		}
	}
	x.observerFor(k).Observe(d.Seconds())
}

// observerFor is the slow path: a label set seen for the first time.
func (x *metrics) observerFor(k httpKey) prometheus.Observer {
	x.obsMu.Lock()
	defer x.obsMu.Unlock()
	old := x.observers.Load()
	if old != nil {
		if o, ok := (*old)[k]; ok {
			return o
		}
	}
	o := x.httpDur.WithLabelValues(httpLabels(k))
	next := make(map[httpKey]prometheus.Observer, 1)
	if old != nil {
		next = make(map[httpKey]prometheus.Observer, len(*old)+1)
		for kk, v := range *old {
			next[kk] = v
		}
	}
	next[k] = o
	x.observers.Store(&next)
	return o
}

// httpLabels bounds the label values: httpx.Instrument already reports
// "unmatched" and "OTHER", this guards other callers.
func httpLabels(k httpKey) (pattern, method, code string) {
	pattern, method = k.pattern, k.method
	if pattern == "" {
		pattern = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions,
		http.MethodConnect, http.MethodTrace:
	default:
		method = "OTHER"
	}
	code = "other"
	if k.code >= 100 && k.code <= 599 {
		code = strconv.Itoa(k.code)
	}
	return pattern, method, code
}

// clashingGoMetric is the one Go collector metric dropped from /metrics. In
// OpenMetrics a counter family is named without its _total suffix, so the
// counter go_memstats_alloc_bytes_total and the gauge go_memstats_alloc_bytes
// become two families of the same name: invalid OpenMetrics, and
// `promtool check metrics` rejects it ("second HELP line"). The gauge (bytes
// in use) is the one dashboards chart; the running total of bytes ever
// allocated is the one a supervisor's operators can do without.
const clashingGoMetric = "go_memstats_alloc_bytes_total"

// filtered is a collector minus one metric, known by its Desc.
type filtered struct {
	prometheus.Collector
	drop *prometheus.Desc
}

// without wraps c so that it never reports the metric named fqName. A Desc
// exposes its name only through String, so it is looked up once here and
// compared by identity afterwards.
func without(c prometheus.Collector, fqName string) prometheus.Collector {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	f := &filtered{Collector: c}
	for d := range ch {
		if strings.Contains(d.String(), `fqName: "`+fqName+`"`) {
			f.drop = d
		}
	}
	if f.drop == nil {
		return c // nothing to drop (a newer client_golang)
	}
	return f
}

func (f *filtered) Describe(ch chan<- *prometheus.Desc) {
	inner := make(chan *prometheus.Desc, 64)
	go func() {
		f.Collector.Describe(inner)
		close(inner)
	}()
	for d := range inner {
		if d != f.drop {
			ch <- d
		}
	}
}

func (f *filtered) Collect(ch chan<- prometheus.Metric) {
	inner := make(chan prometheus.Metric, 64)
	go func() {
		f.Collector.Collect(inner)
		close(inner)
	}()
	for m := range inner {
		if m.Desc() != f.drop {
			ch <- m
		}
	}
}

// supCollector reports the supervisor-wide gauges (Halon's
// halon_monitor_ready, halon_monitor_healthy, halon_process_pid), the root
// filesystem and the ring. They are few, so plain const metrics built at
// scrape time are cheap and leave nothing to clean up.
type supCollector struct {
	m                                          *Monitor
	ready, healthy, pid, freeBytes, freeInodes *prometheus.Desc
	ringMembers, ringMessages, ringBytes       *prometheus.Desc
	electionTerm, electionDuration             *prometheus.Desc
}

func newSupCollector(m *Monitor) *supCollector {
	return &supCollector{
		m:       m,
		ready:   prometheus.NewDesc("tend_monitor_ready", "Whether the supervisor has finished starting (ready=1, notready=0); never goes back to 0.", nil, nil),
		healthy: prometheus.NewDesc("tend_monitor_healthy", "The current /healthy verdict (healthy=1, unhealthy=0).", nil, nil),
		pid:     prometheus.NewDesc("tend_process_pid", "Process id of the supervisor.", nil, nil),
		freeBytes: prometheus.NewDesc("tend_root_free_bytes",
			"Free bytes (for unprivileged users) on the filesystem of the supervisor's root.", nil, nil),
		freeInodes: prometheus.NewDesc("tend_root_free_inodes",
			"Free inodes on the filesystem of the supervisor's root.", nil, nil),
		ringMembers: prometheus.NewDesc("tend_ring_members",
			"Members of the gossip ring known to this supervisor, by health.", []string{"health"}, nil),
		ringMessages: prometheus.NewDesc("tend_ring_messages_total",
			"Gossip messages sent and received, by kind.", []string{"direction", "kind"}, nil),
		ringBytes: prometheus.NewDesc("tend_ring_bytes_total",
			"Gossip bytes sent and received, by message kind.", []string{"direction", "kind"}, nil),
		electionTerm: prometheus.NewDesc("tend_election_term",
			"Term of the leader election of each group this member runs a leader-topology service of.", []string{"service_group"}, nil),
		electionDuration: prometheus.NewDesc("tend_election_duration_seconds",
			"Time from this member first seeing an election unfinished to seeing it finished, by service group (Habitat's hab_butterfly_election_duration_seconds).", []string{"service_group"}, nil),
	}
}

func (c *supCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ready, c.healthy, c.pid, c.freeBytes, c.freeInodes, c.ringMembers, c.ringMessages, c.ringBytes, c.electionTerm, c.electionDuration} {
		ch <- d
	}
}

func (c *supCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	s := m.snap()
	v := m.check(s)
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, boolFloat(!v.notReady))
	ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, boolFloat(v.ok()))
	pid := s.Sup.PID
	if pid == 0 {
		pid = os.Getpid() // before the first snapshot: it is this process
	}
	ch <- prometheus.MustNewConstMetric(c.pid, prometheus.GaugeValue, float64(pid))
	if m.disk != nil {
		if d := m.disk.sample(m.now()); d.err == nil {
			ch <- prometheus.MustNewConstMetric(c.freeBytes, prometheus.GaugeValue, float64(d.bytes))
			ch <- prometheus.MustNewConstMetric(c.freeInodes, prometheus.GaugeValue, float64(d.inodes))
		}
	}
	if s.Ring != nil {
		c.collectRing(ch, s.Ring)
	}
}

// ringHealths are always reported, zero or not, so a query for "suspect"
// members finds a 0 rather than nothing.
func ringHealths() []string { return []string{"alive", "suspect", "confirmed", "departed"} }

// collectRing reports members by health and gossip traffic by kind. The
// registry sorts the series, so map order does not matter.
func (c *supCollector) collectRing(ch chan<- prometheus.Metric, r *api.Ring) {
	counts := make(map[string]int, 4)
	for _, h := range ringHealths() {
		counts[h] = 0
	}
	for _, mb := range r.Members {
		h := mb.Health
		if h == "" {
			h = "unknown"
		}
		counts[h]++
	}
	for h, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.ringMembers, prometheus.GaugeValue, float64(n), h)
	}
	traffic := []struct {
		desc      *prometheus.Desc
		direction string
		byKind    map[string]uint64
	}{
		{c.ringMessages, "sent", r.MsgsSent},
		{c.ringMessages, "received", r.MsgsRecv},
		{c.ringBytes, "sent", r.BytesSent},
		{c.ringBytes, "received", r.BytesRecv},
	}
	for _, t := range traffic {
		for kind, n := range t.byKind {
			ch <- prometheus.MustNewConstMetric(t.desc, prometheus.CounterValue, float64(n), t.direction, kind)
		}
	}
	for _, e := range r.Elections {
		ch <- prometheus.MustNewConstMetric(c.electionTerm, prometheus.GaugeValue, float64(e.Term), e.Group)
		ch <- prometheus.MustNewConstHistogram(c.electionDuration, e.Count, e.Sum, e.Buckets, e.Group)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// gatherer merges the registry (runtime, HTTP and supervisor metrics) with the
// per-service families built into a reusable frame (see servicemetrics.go).
type gatherer struct{ m *Monitor }

func (g gatherer) Gather() ([]*dto.MetricFamily, func(), error) {
	mfs, err := g.m.reg.Gather()
	f := g.m.getFrame()
	g.m.fillFrame(f, g.m.snap())
	f.merge(mfs)
	if err != nil {
		err = fmt.Errorf("gathering metrics: %w", err)
	}
	return f.out, f.done, err
}
