package monitor

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tend-sh/tend/internal/api"
)

const acceptOpenMetrics = "application/openmetrics-text; version=1.0.0"

func scrape(t testing.TB, m *Monitor, accept string) (body, contentType string) {
	t.Helper()
	var hdr []string
	if accept != "" {
		hdr = []string{"Accept", accept}
	}
	r := get(t, m, http.MethodGet, "/metrics", hdr...)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", r.StatusCode)
	}
	b := new(bytes.Buffer)
	if _, err := b.ReadFrom(r.Body); err != nil {
		t.Fatal(err)
	}
	return b.String(), r.Header.Get("Content-Type")
}

func parse(t testing.TB, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, text)
	}
	return mfs
}

// series finds the one metric of family name whose labels include want
// (name=value pairs); nil when there is none.
func series(mfs map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := series(mfs, name, labels...)
	switch {
	case m == nil:
		t.Fatalf("no series %s%v", name, labels)
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	t.Fatalf("%s%v is neither gauge nor counter", name, labels)
	return 0
}

// metricsSnapshot covers every kind of per-service series and the ring.
func metricsSnapshot() *api.Snapshot {
	redis := running("redis")
	redis.RestartCount = 2
	redis.LastExit = &api.Exit{Code: 1, At: t0.Add(-2 * time.Hour)}
	redis.HealthHistory = []api.HealthResult{
		{At: t0.Add(-time.Minute), Status: api.HealthOK, Duration: 3 * time.Millisecond},
		{At: t0, Status: api.HealthOK, Duration: 300 * time.Millisecond},
	}
	web := running("web")
	web.Running, web.Health, web.NextRestart = false, api.HealthCritical, t0.Add(time.Minute)
	web.LastExit = &api.Exit{Code: -1, Signal: "SIGKILL"}
	batch := running("batch")
	batch.Running, batch.DesiredUp, batch.Health, batch.StateEntered = false, false, "", time.Time{}
	s := readySnap(batch, redis, web)
	s.Ring = &api.Ring{
		Members:  []api.Member{{ID: "a", Health: "alive"}, {ID: "b", Health: "alive"}, {ID: "c", Health: "suspect"}},
		MsgsSent: map[string]uint64{"ping": 10, "rumor": 4}, MsgsRecv: map[string]uint64{"ack": 9},
		BytesSent: map[string]uint64{"ping": 1000}, BytesRecv: map[string]uint64{"ack": 900},
		Elections: []api.Election{{Group: "redis.default", Term: 3, Status: "Finished", Leader: "a", Count: 2, Sum: 1.5, Buckets: map[float64]uint64{1: 1, 5: 2}}},
	}
	return s
}

func TestMetricsValues(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.Root = "/srv/tend"
	f.setDisk(12345, 678, nil)
	f.set(metricsSnapshot())
	m := mustNew(t, o)
	m.ObserveHTTP("GET /healthy", http.MethodGet, 200, time.Millisecond)
	m.ObserveHTTP("GET /healthy", http.MethodGet, 200, 2*time.Millisecond)
	m.ObserveHTTP("GET /healthy", http.MethodGet, 503, time.Millisecond)
	m.ObserveHTTP("", "BREW", 0, time.Millisecond)

	text, ct := scrape(t, m, "")
	if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	mfs := parse(t, text)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"tend_monitor_ready", nil, 1},
		{"tend_monitor_healthy", nil, 1},
		{"tend_process_pid", nil, 4242},
		{"tend_root_free_bytes", nil, 12345},
		{"tend_root_free_inodes", nil, 678},

		{"tend_service_up", []string{"service_group", "redis.default", "service", "redis", "group", "default"}, 1},
		{"tend_service_up", []string{"service_group", "web.default"}, 0},
		{"tend_service_desired_up", []string{"service_group", "web.default"}, 1},
		{"tend_service_desired_up", []string{"service_group", "batch.default"}, 0},
		{"tend_service_state", []string{"service_group", "redis.default", "state", "up"}, 1},
		{"tend_service_state", []string{"service_group", "redis.default", "state", "down"}, 0},
		{"tend_service_state", []string{"service_group", "web.default", "state", "restarting"}, 1},
		{"tend_service_state", []string{"service_group", "web.default", "state", "up"}, 0},
		{"tend_service_state", []string{"service_group", "batch.default", "state", "stopped"}, 1},
		{"tend_service_health_status", []string{"service_group", "redis.default"}, 0},
		{"tend_service_health_status", []string{"service_group", "web.default"}, 2},
		{"tend_service_health_status", []string{"service_group", "batch.default"}, 3},
		{"tend_service_restarts_total", []string{"service_group", "redis.default"}, 2},
		{"tend_service_last_exit_code", []string{"service_group", "redis.default"}, 1},
		{"tend_service_last_exit_code", []string{"service_group", "web.default"}, -1},
		{"tend_service_state_entered_timestamp_seconds", []string{"service_group", "redis.default"}, float64(t0.Add(-time.Hour).Unix())},

		{"tend_election_term", []string{"service_group", "redis.default"}, 3},
		{"tend_ring_members", []string{"health", "alive"}, 2},
		{"tend_ring_members", []string{"health", "suspect"}, 1},
		{"tend_ring_members", []string{"health", "departed"}, 0},
		{"tend_ring_messages_total", []string{"direction", "sent", "kind", "ping"}, 10},
		{"tend_ring_messages_total", []string{"direction", "received", "kind", "ack"}, 9},
		{"tend_ring_bytes_total", []string{"direction", "sent", "kind", "ping"}, 1000},
	} {
		if got := value(t, mfs, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %g, want %g", tc.name, tc.labels, got, tc.want)
		}
	}
	for name, typ := range map[string]dto.MetricType{
		"tend_service_restarts_total":                dto.MetricType_COUNTER,
		"tend_ring_messages_total":                   dto.MetricType_COUNTER,
		"tend_service_health_check_duration_seconds": dto.MetricType_HISTOGRAM,
		"tend_http_request_duration_seconds":         dto.MetricType_HISTOGRAM,
		"tend_service_state":                         dto.MetricType_GAUGE,
	} {
		if got := mfs[name].GetType(); got != typ {
			t.Errorf("%s is %v, want %v", name, got, typ)
		}
	}
	if series(mfs, "tend_service_last_exit_code", "service_group", "batch.default") != nil ||
		series(mfs, "tend_service_state_entered_timestamp_seconds", "service_group", "batch.default") != nil {
		t.Error("batch never ran: no exit code and no state time expected")
	}

	if eh := series(mfs, "tend_election_duration_seconds", "service_group", "redis.default").GetHistogram(); eh.GetSampleCount() != 2 || eh.GetSampleSum() != 1.5 {
		t.Errorf("election duration histogram: count %d sum %g", eh.GetSampleCount(), eh.GetSampleSum())
	}

	h := series(mfs, "tend_service_health_check_duration_seconds", "service_group", "redis.default").GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 0.303 {
		t.Errorf("redis health histogram: count %d sum %g", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		want := uint64(0)
		switch {
		case b.GetUpperBound() >= 0.3:
			want = 2
		case b.GetUpperBound() >= 0.003:
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%g: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if h := series(mfs, "tend_service_health_check_duration_seconds", "service_group", "batch.default").GetHistogram(); h.GetSampleCount() != 0 {
		t.Errorf("batch health histogram count %d", h.GetSampleCount())
	}

	hh := series(mfs, "tend_http_request_duration_seconds", "pattern", "GET /healthy", "method", "GET", "code", "200").GetHistogram()
	if hh.GetSampleCount() != 2 {
		t.Errorf("http 200 count %d", hh.GetSampleCount())
	}
	if series(mfs, "tend_http_request_duration_seconds", "pattern", "GET /healthy", "code", "503") == nil ||
		series(mfs, "tend_http_request_duration_seconds", "pattern", "unmatched", "method", "OTHER", "code", "other") == nil {
		t.Error("missing http series")
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if mfs[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

func TestMetricsOpenMetrics(t *testing.T) {
	f := newFixture()
	f.set(metricsSnapshot())
	m := mustNew(t, f.options())
	text, ct := scrape(t, m, acceptOpenMetrics)
	if !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
		t.Fatalf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"# TYPE tend_service_restarts counter\n",
		`tend_service_restarts_total{group="default",service="redis",service_group="redis.default"} 2.0` + "\n",
		"# TYPE tend_monitor_ready gauge\ntend_monitor_ready 1.0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("OpenMetrics output lacks %q", want)
		}
	}
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("OpenMetrics output must end with # EOF")
	}
}

// TestPromtool runs `promtool check metrics` on both formats. promtool comes
// from the prometheus package; with TEND_REQUIRE_TOOLS=1 (the Makefile) its
// absence fails the test instead of skipping it.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
			t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
		}
		t.Skip("promtool not installed; set TEND_REQUIRE_TOOLS=1 to require it")
	}
	f := newFixture()
	o := f.options()
	o.Root = "/srv/tend"
	f.set(metricsSnapshot())
	m := mustNew(t, o)
	m.ObserveHTTP("GET /ready", http.MethodGet, 200, time.Millisecond)
	for _, accept := range []string{"", acceptOpenMetrics} {
		text, _ := scrape(t, m, accept)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			continue
		}
		var ee *exec.ExitError
		if accept == "" || !errors.As(err, &ee) || ee.ExitCode() != promtoolLintExit {
			t.Errorf("promtool check metrics (Accept %q): %v\n%s", accept, err, out)
			continue
		}
		if bad := promtoolOpenMetricsFindings(text, string(out)); len(bad) > 0 {
			t.Errorf("promtool check metrics (OpenMetrics):\n%s", strings.Join(bad, "\n"))
		}
	}
}

// promtoolLintExit is promtool's exit status for lint findings (as opposed to
// 1 for input it cannot parse).
const promtoolLintExit = 3

// promtoolOpenMetricsFindings drops the findings that only come from promtool
// reading OpenMetrics with its Prometheus-text parser: an OpenMetrics counter
// family is named without "_total" ("# HELP x ..." then "x_total 1.0"), so
// the text parser sees samples of a family "x_total" that has no HELP. Any
// other finding is returned.
func promtoolOpenMetricsFindings(text, out string) []string {
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, ok := strings.CutSuffix(line, " no help text")
		if ok {
			if family, ok := strings.CutSuffix(name, "_total"); ok &&
				strings.Contains(text, "# HELP "+family+" ") &&
				strings.Contains(text, "# TYPE "+family+" counter\n") {
				continue
			}
		}
		bad = append(bad, line)
	}
	return bad
}

// TestHealthHistogramMonotonic: results that fall out of the bounded history
// never make the histogram go down, and a result is counted once.
func TestHealthHistogramMonotonic(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	res := func(sec int) api.HealthResult {
		return api.HealthResult{At: t0.Add(time.Duration(sec) * time.Second), Status: api.HealthOK, Duration: time.Millisecond}
	}
	count := func() uint64 {
		t.Helper()
		text, _ := scrape(t, m, "")
		mt := series(parse(t, text), "tend_service_health_check_duration_seconds", "service_group", "redis.default")
		if mt == nil {
			return 0
		}
		return mt.GetHistogram().GetSampleCount()
	}
	svc := running("redis")
	for i, step := range []struct {
		history []int
		want    uint64
	}{
		{nil, 0},
		{[]int{1, 2}, 2},
		{[]int{1, 2}, 2},    // same results again: not counted twice
		{[]int{2, 3}, 3},    // 1 fell out of the window: count does not drop
		{[]int{3, 4, 5}, 5}, // two new
		{[]int{2, 3}, 5},    // an older snapshot scraped late: nothing new
	} {
		svc.HealthHistory = nil
		for _, s := range step.history {
			svc.HealthHistory = append(svc.HealthHistory, res(s))
		}
		f.set(readySnap(svc))
		if got := count(); got != step.want {
			t.Fatalf("step %d: count %d, want %d", i, got, step.want)
		}
	}
	// Unloaded: the series goes and its state is dropped; loaded again, it
	// starts from what its history holds.
	f.set(readySnap())
	if got := count(); got != 0 {
		t.Fatalf("unloaded: count %d", got)
	}
	svc.HealthHistory = []api.HealthResult{res(5)}
	f.set(readySnap(svc))
	if got := count(); got != 1 {
		t.Fatalf("reloaded: count %d, want 1", got)
	}
}

// TestMetricsFrameReuse: a reused frame never leaks series of an earlier,
// larger snapshot.
func TestMetricsFrameReuse(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	f.set(metricsSnapshot())
	scrape(t, m, "")
	f.set(readySnap(running("only")))
	mfs := parse(t, first(scrape(t, m, "")))
	if n := len(mfs["tend_service_up"].Metric); n != 1 {
		t.Fatalf("%d tend_service_up series, want 1", n)
	}
	if n := len(mfs["tend_service_state"].Metric); n != numStates {
		t.Fatalf("%d tend_service_state series, want %d", n, numStates)
	}
	for _, name := range []string{"tend_service_last_exit_code", "tend_ring_members", "tend_ring_messages_total"} {
		if mfs[name] != nil {
			t.Errorf("%s present, want absent", name)
		}
	}
	f.set(readySnap())
	mfs = parse(t, first(scrape(t, m, "")))
	if mfs["tend_service_up"] != nil || mfs["tend_monitor_ready"] == nil {
		t.Fatal("no services: per-service families absent, supervisor ones present")
	}
}

func first(a, _ string) string { return a }

// TestMetricsConcurrentScrapes exercises frames, histograms and the HTTP
// observer cache from several goroutines (run with -race).
func TestMetricsConcurrentScrapes(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	snaps := []*api.Snapshot{metricsSnapshot(), readySnap(manyServices(20)...), readySnap()}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 15 {
				f.set(snaps[(g+i)%len(snaps)])
				text, _ := scrape(t, m, []string{"", acceptOpenMetrics}[i%2])
				if i%2 == 0 {
					parse(t, text)
				}
				m.ObserveHTTP("GET /metrics", http.MethodGet, 200+g, time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// TestScrapeAllocBudget keeps BenchmarkScrape500's allocation budget in the
// ordinary test run.
func TestScrapeAllocBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	f := newFixture()
	s := readySnap(manyServices(500)...)
	f.set(s)
	m := mustNew(t, f.options())
	h := m.Routes()["GET /metrics"]
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	const scrapes = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range scrapes {
		for j := range s.Services {
			hh := s.Services[j].HealthHistory
			hh[len(hh)-1].At = t0.Add(time.Duration(i+1) * time.Minute)
		}
		w.reset()
		h.ServeHTTP(w, req)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / scrapes; per > 1<<20 {
		t.Fatalf("a scrape of 500 services allocates %d bytes, budget 1 MiB", per)
	}
}
