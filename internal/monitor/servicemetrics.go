package monitor

import (
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/tend-sh/tend/internal/api"
)

// Per-service metrics are written straight into client_model structures that
// are reused from one scrape to the next (a "frame"), and handed to promhttp
// through a TransactionalGatherer, whose done callback says when the encoder
// is finished with them.
//
// Why not a prometheus.Collector with const metrics: with 500 services that
// path allocated about 7 MB and took about 15 ms per scrape (measured), since
// every series costs a Metric object, its label pairs, and the registry's own
// copies and hash checks. The budget is 1 MiB and 20 ms. A frame costs about
// 3 KiB per service once and is then rewritten in place; values that repeat
// (0/1 gauges, health codes, state label pairs, bucket bounds) are shared
// immutable structures.

// Families, in name order (the exposition lists families sorted).
const (
	famCPU = iota
	famDesiredUp
	famHealthDuration
	famHealthStatus
	famLastExitCode
	famMemory
	famReady
	famRestarts
	famState
	famStateEntered
	famUp
	numFams
)

// Service states of tend_service_state, one series each (an enum as a set of
// 0/1 gauges, so a query for a state finds a 0 rather than nothing).
const (
	stateUp         = iota // running, as desired
	stateDown              // should run but does not, no restart scheduled (or spec error)
	stateRestarting        // should run, waiting for its restart backoff
	stateStopping          // stopped on purpose, process still exiting
	stateStopped           // stopped on purpose
	numStates
)

// serviceState derives the state from the snapshot's flags.
func serviceState(svc *api.Service) int {
	switch {
	case svc.DesiredUp && svc.Running && svc.SpecError == "":
		return stateUp
	case svc.DesiredUp && svc.SpecError == "" && !svc.NextRestart.IsZero():
		return stateRestarting
	case svc.DesiredUp || svc.SpecError != "":
		return stateDown
	case svc.Running:
		return stateStopping
	}
	return stateStopped
}

// healthCode is tend_service_health_status: Habitat's health levels in their
// order of badness, UNKNOWN (or no check yet) last.
func healthCode(h api.Health) int {
	switch h {
	case api.HealthOK:
		return 0
	case api.HealthWarning:
		return 1
	case api.HealthCritical:
		return 2
	}
	return 3
}

// Series per service at most: up, desired_up, ready, one per state, health status,
// restarts, last exit code, state entered, health-check histogram, CPU,
// memory.
const (
	metricsPerService = numStates + 10
	labelsPerService  = 3 + numStates*4 // 3 base pointers + 4 per state series
)

// serviceFamilies holds the immutable parts shared by every frame of one
// Monitor.
type serviceFamilies struct {
	name, help [numFams]string
	typ        [numFams]dto.MetricType

	labelGroup, labelService, labelServiceGroup, labelState string
	stateValues                                             [numStates]string
	stateLabel                                              [numStates]dto.LabelPair

	// gauge[i] is a gauge of value i, for 0/1 flags and health codes.
	gaugeValue [4]float64
	gauge      [4]dto.Gauge

	bounds [numHealthBuckets]float64
}

func newServiceFamilies() *serviceFamilies {
	x := &serviceFamilies{
		labelGroup:        "group",
		labelService:      "service",
		labelServiceGroup: "service_group",
		labelState:        "state",
		stateValues:       [numStates]string{"up", "down", "restarting", "stopping", "stopped"},
		bounds:            healthBounds(),
	}
	fam := func(i int, name, help string, typ dto.MetricType) {
		x.name[i], x.help[i], x.typ[i] = name, help, typ
	}
	fam(famCPU, "tend_service_cpu_seconds_total", "CPU time used by all of the service's processes (its cgroup's), hooks included; only where each service has a cgroup.", dto.MetricType_COUNTER)
	fam(famMemory, "tend_service_memory_bytes", "Memory used by all of the service's processes now: the cgroup's memory.current, or the sum of their RssAnon without the memory controller; only where each service has a cgroup.", dto.MetricType_GAUGE)
	fam(famDesiredUp, "tend_service_desired_up", "Whether the service should run (1) or is stopped on purpose (0).", dto.MetricType_GAUGE)
	fam(famHealthDuration, "tend_service_health_check_duration_seconds", "Time taken by the service's health-check hook.", dto.MetricType_HISTOGRAM)
	fam(famHealthStatus, "tend_service_health_status", "Latest health-check result: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN or not checked yet.", dto.MetricType_GAUGE)
	fam(famLastExitCode, "tend_service_last_exit_code", "Exit code of the service's last run-hook process; -1 when killed by a signal.", dto.MetricType_GAUGE)
	fam(famRestarts, "tend_service_restarts_total", "Times the supervisor restarted the service.", dto.MetricType_COUNTER)
	fam(famState, "tend_service_state", "Service state: 1 for the current state, 0 for the others.", dto.MetricType_GAUGE)
	fam(famStateEntered, "tend_service_state_entered_timestamp_seconds", "Unix time at which the service entered its current state.", dto.MetricType_GAUGE)
	fam(famReady, "tend_service_ready", "Whether the service's run process is up and has said it is ready (with NOTIFICATION_FD or NOTIFY; else whether it is up).", dto.MetricType_GAUGE)
	fam(famUp, "tend_service_up", "Whether the service's run hook process is running.", dto.MetricType_GAUGE)
	for i := range x.stateLabel {
		x.stateLabel[i].Name, x.stateLabel[i].Value = &x.labelState, &x.stateValues[i]
	}
	for i := range x.gauge {
		x.gaugeValue[i] = float64(i)
		x.gauge[i].Value = &x.gaugeValue[i]
	}
	return x
}

// frame is one scrape's worth of per-service metrics. Its slices are sized
// for the largest snapshot seen and rewritten in place by each scrape.
type frame struct {
	fams    [numFams]dto.MetricFamily
	members [numFams][]*dto.Metric

	metrics  []dto.Metric
	strs     []string // label values, 3 per service
	labels   []dto.LabelPair
	lptrs    []*dto.LabelPair
	counters []dto.Counter
	gauges   []dto.Gauge
	values   []float64
	hists    []dto.Histogram
	hsum     []float64
	hcount   []uint64
	buckets  []dto.Bucket
	bptrs    []*dto.Bucket
	bcum     []uint64

	out  []*dto.MetricFamily
	done func()
}

func (m *Monitor) newFrame() *frame {
	x := m.metrics.svc
	f := &frame{}
	for i := range f.fams {
		f.fams[i].Name, f.fams[i].Help, f.fams[i].Type = &x.name[i], &x.help[i], &x.typ[i]
	}
	f.done = func() { m.putFrame(f) }
	return f
}

// getFrame takes the spare frame, or makes one when a scrape is already
// using it.
func (m *Monitor) getFrame() *frame {
	select {
	case f := <-m.frames:
		return f
	default:
		return m.newFrame()
	}
}

// putFrame keeps one frame for the next scrape. It drops the references to
// the last scrape's registry families so that they can be collected.
func (m *Monitor) putFrame(f *frame) {
	clear(f.out)
	f.out = f.out[:0]
	select {
	case m.frames <- f:
	default:
	}
}

// grow makes room for n services. Everything is rewritten by fill, so old
// contents need not be kept.
func (f *frame) grow(n int) {
	if cap(f.strs) >= 3*n {
		return
	}
	n += n / 4 // room for a few more services before the next growth
	f.metrics = make([]dto.Metric, n*metricsPerService)
	f.strs = make([]string, 3*n)
	f.labels = make([]dto.LabelPair, 3*n)
	f.lptrs = make([]*dto.LabelPair, labelsPerService*n)
	f.counters = make([]dto.Counter, 2*n)
	f.gauges = make([]dto.Gauge, 3*n)
	f.values = make([]float64, 5*n)
	f.hists = make([]dto.Histogram, n)
	f.hsum = make([]float64, n)
	f.hcount = make([]uint64, n)
	f.buckets = make([]dto.Bucket, numHealthBuckets*n)
	f.bptrs = make([]*dto.Bucket, numHealthBuckets*n)
	f.bcum = make([]uint64, numHealthBuckets*n)
}

// fillFrame writes the per-service families of s into f and folds new
// health-check results into the running histograms.
func (m *Monitor) fillFrame(f *frame, s *api.Snapshot) {
	x := m.metrics.svc
	f.grow(len(s.Services))
	for i := range f.members {
		f.members[i] = f.members[i][:0]
	}
	next := 0 // index into f.metrics
	metric := func(fam int, labels []*dto.LabelPair) *dto.Metric {
		mt := &f.metrics[next]
		next++
		mt.Label, mt.Gauge, mt.Counter, mt.Summary, mt.Untyped, mt.Histogram, mt.TimestampMs =
			labels, nil, nil, nil, nil, nil, nil
		f.members[fam] = append(f.members[fam], mt)
		return mt
	}

	m.histMu.Lock()
	defer m.histMu.Unlock()
	m.histGen++
	gen := m.histGen

	k := 0 // services emitted; duplicates of a service group are skipped
	for i := range s.Services {
		svc := s.Services[i]
		if k > 0 && f.strs[3*(k-1)+2] == labelValue(svc.ServiceGroup) {
			continue
		}
		// Label pairs, in label-name order: group, service, service_group.
		strs, lp := f.strs[3*k:3*k+3], f.labels[3*k:3*k+3]
		strs[0], strs[1], strs[2] = labelValue(svc.Group), labelValue(svc.Name), labelValue(svc.ServiceGroup)
		lp[0].Name, lp[0].Value = &x.labelGroup, &strs[0]
		lp[1].Name, lp[1].Value = &x.labelService, &strs[1]
		lp[2].Name, lp[2].Value = &x.labelServiceGroup, &strs[2]
		lps := f.lptrs[labelsPerService*k : labelsPerService*(k+1)]
		base := lps[0:3:3]
		base[0], base[1], base[2] = &lp[0], &lp[1], &lp[2]

		metric(famUp, base).Gauge = &x.gauge[b2i(svc.Running)]
		metric(famDesiredUp, base).Gauge = &x.gauge[b2i(svc.DesiredUp)]
		metric(famReady, base).Gauge = &x.gauge[b2i(svc.Ready)]
		state := serviceState(svc)
		for st := 0; st < numStates; st++ {
			sl := lps[3+4*st : 3+4*st+4 : 3+4*st+4]
			sl[0], sl[1], sl[2], sl[3] = base[0], base[1], base[2], &x.stateLabel[st]
			metric(famState, sl).Gauge = &x.gauge[b2i(st == state)]
		}
		metric(famHealthStatus, base).Gauge = &x.gauge[healthCode(svc.Health)]

		vals := f.values[5*k : 5*k+5]
		vals[0] = float64(svc.RestartCount)
		c := &f.counters[2*k]
		c.Value = &vals[0]
		metric(famRestarts, base).Counter = c
		if svc.LastExit != nil {
			vals[1] = float64(svc.LastExit.Code)
			g := &f.gauges[3*k]
			g.Value = &vals[1]
			metric(famLastExitCode, base).Gauge = g
		}
		if !svc.StateEntered.IsZero() {
			vals[2] = float64(svc.StateEntered.UnixNano()) / 1e9
			g := &f.gauges[3*k+1]
			g.Value = &vals[2]
			metric(famStateEntered, base).Gauge = g
		}
		if svc.Usage != nil {
			// Read at scrape time: a cgroup's figures change without a
			// new snapshot.
			if u, ok := svc.Usage(); ok {
				vals[3], vals[4] = u.CPUSeconds, float64(u.MemoryBytes)
				c := &f.counters[2*k+1]
				c.Value = &vals[3]
				metric(famCPU, base).Counter = c
				g := &f.gauges[3*k+2]
				g.Value = &vals[4]
				metric(famMemory, base).Gauge = g
			}
		}
		m.fillHistogram(f, k, svc, gen)
		metric(famHealthDuration, base).Histogram = &f.hists[k]
		k++
	}
	// Forget services that are gone, so an unloaded service's histogram does
	// not linger (and a reloaded one starts again from zero).
	for sg, h := range m.hist {
		if h.seen != gen {
			delete(m.hist, sg)
		}
	}
	for i := range f.fams {
		f.fams[i].Metric = f.members[i]
	}
}

// fillHistogram folds svc's new results into its running histogram and copies
// the totals into the frame. Called with m.histMu held.
func (m *Monitor) fillHistogram(f *frame, k int, svc *api.Service, gen uint64) {
	x := m.metrics.svc
	h := m.hist[svc.ServiceGroup]
	if h == nil {
		h = &healthHist{}
		m.hist[svc.ServiceGroup] = h
	}
	h.seen = gen
	h.fold(svc.HealthHistory, &x.bounds)

	f.hcount[k], f.hsum[k] = h.count, h.sum
	hd := &f.hists[k]
	hd.SampleCount, hd.SampleSum = &f.hcount[k], &f.hsum[k]
	lo := numHealthBuckets * k
	bp := f.bptrs[lo : lo+numHealthBuckets : lo+numHealthBuckets]
	for j := range bp {
		f.bcum[lo+j] = h.cum[j]
		b := &f.buckets[lo+j]
		b.CumulativeCount, b.UpperBound = &f.bcum[lo+j], &x.bounds[j]
		bp[j] = b
	}
	hd.Bucket = bp
}

// merge lists the registry's families and the frame's non-empty ones, all in
// name order, into f.out.
func (f *frame) merge(reg []*dto.MetricFamily) {
	out := f.out[:0]
	i := 0
	for j := range f.fams {
		mine := &f.fams[j]
		if len(mine.Metric) == 0 {
			continue // the text formats reject a family without samples
		}
		for i < len(reg) && reg[i].GetName() < mine.GetName() {
			out = append(out, reg[i])
			i++
		}
		out = append(out, mine)
	}
	f.out = append(out, reg[i:]...)
}

// labelValue keeps the exposition valid: label values must be UTF-8. Names
// come from package names, so this almost never copies.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
