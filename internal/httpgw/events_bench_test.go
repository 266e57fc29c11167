package httpgw

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// eventServer is a gateway with 100 services and an event stream, served
// over loopback by a server configured as tend's listeners are.
func eventServer(tb testing.TB) (*httptest.Server, *events.Stream) {
	snap := manyServices(100)
	stream := events.NewStream()
	mux := New(Options{Snapshot: func() *api.Snapshot { return snap }, Events: stream, Log: discardLog()})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = httpx.NewServer(mux, discardLog())
	srv.Start()
	tb.Cleanup(func() {
		stream.Close() // ends every /events response
		srv.Close()
	})
	return srv, stream
}

// sseClients opens n /events streams in this process (so that seen can
// count the events each has read) that read everything. stop closes them.
func sseClients(tb testing.TB, srv *httptest.Server, n int) (seen []*atomic.Int64, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var open sync.WaitGroup
	for range n {
		c := new(atomic.Int64)
		seen = append(seen, c)
		open.Add(1)
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
			resp, err := hc.Do(req)
			open.Done()
			if err != nil {
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if bytes.HasPrefix(sc.Bytes(), []byte("id: ")) {
					c.Add(1)
				}
			}
		})
	}
	open.Wait()
	return seen, func() {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
	}
}

// BenchmarkServicesBesideEventClients is GET /services (100 services)
// over loopback, each request timed: alone, beside 1,000 clients that
// follow /events (999 reading, one that never reads) while nothing
// happens, and beside them while an event is published every 100 ms (a
// busy supervisor: a crash loop of a few services), which makes 10,000
// deliveries a second on the same two cores as the server, the /services
// client and the followers themselves. The clients (followers, and the
// one timing /services) are processes of their own, as a host's are. In
// every case the publisher runs: only the followers differ. The last case
// runs the followers' process at nice 19: it stands for clients on other
// machines, whose reading costs this host nothing; the case before it
// keeps their CPU on the same two cores, at the same priority as the
// server and the /services client. Reported per
// case: /services p50, p99 and p99.9, and the server's scheduling latency,
// CPU, heap and garbage collections.
func BenchmarkServicesBesideEventClients(b *testing.B) {
	for _, c := range []struct {
		name           string
		followers      int
		every          time.Duration
		nicedFollowers bool
	}{
		{"followers=0", 0, 100 * time.Millisecond, false},
		{"followers=1000/idle", 1000, time.Hour, false},
		{"followers=1000/event-every-100ms", 1000, 100 * time.Millisecond, false},
		{"followers=1000/event-every-100ms/followers-at-nice-19", 1000, 100 * time.Millisecond, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv, stream := eventServer(b)
			if c.followers > 0 {
				f := startClient(b, "followers", srv.URL, c.followers, c.nicedFollowers)
				if got := f.line(b); got != "ready" {
					b.Fatalf("followers said %q", got)
				}
			}
			svc := startClient(b, "services", srv.URL, 0, false)
			svc.request(b) // its connection is open
			pubCtx, endPub := context.WithCancel(context.Background())
			var pub sync.WaitGroup
			pub.Go(func() {
				t := time.NewTicker(c.every)
				defer t.Stop()
				for {
					select {
					case <-pubCtx.Done():
						return
					case <-t.C:
						stream.Publish(events.Event{Type: events.ServiceState, Service: "svc-1.default", State: "up", Text: "svc-1.default is up"})
					}
				}
			})
			lat := make([]time.Duration, 0, 4096)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			gc0 := ms.NumGC
			sched0, cpu0, t0 := schedLatencies(), cpuTime(), time.Now()
			for b.Loop() {
				lat = append(lat, svc.request(b))
			}
			b.StopTimer()
			sched, cpu, el := schedLatencies(), cpuTime(), time.Since(t0)
			endPub()
			pub.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)*999/1000].Microseconds()), "p99.9-µs")
			b.ReportMetric(quantileSince(sched0, sched, 0.99).Seconds()*1e6, "sched-p99-µs")
			b.ReportMetric(quantileSince(sched0, sched, 0.999).Seconds()*1e6, "sched-p99.9-µs")
			b.ReportMetric(100*float64(cpu-cpu0)/float64(el), "server-cpu-%")
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "server-heap-MB")
			b.ReportMetric(float64(ms.NumGC-gc0), "server-GCs")
		})
	}
}

// schedLatencies is the server's (this process's) histogram of how long
// goroutines waited, runnable, for a CPU: a /services request queued
// behind a thousand followers' writes shows there first, apart from
// what the other processes on the machine do to the timings.
func schedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// cpuTime is the CPU time this process (the server) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// contextSwitches is how many times this process's threads left the
// CPU, waiting (a goroutine's thread parking for want of work) or
// preempted.
func contextSwitches() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw + ru.Nivcsw
}

// nicedCPU is the CPU time used so far by each of this process's
// threads that runs at nice 19 (the streams' writer), by thread id,
// from /proc/self/task/TID/schedstat (nanoseconds on the CPU first). A
// thread that ended is missing: its time counts as normal priority's.
func nicedCPU(tb testing.TB) map[int]time.Duration {
	tids, err := os.ReadDir("/proc/self/task")
	if err != nil {
		tb.Fatal(err)
	}
	m := map[int]time.Duration{}
	for _, d := range tids {
		tid, _ := strconv.Atoi(d.Name())
		if n, err := unix.Getpriority(unix.PRIO_PROCESS, tid); err != nil || 20-n != 19 {
			continue // Getpriority's raw syscall returns 20-nice
		}
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/schedstat")
		if err != nil {
			continue
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		m[tid] = time.Duration(ns)
	}
	return m
}

// quantileSince is the q quantile of what was added to the histogram
// between then and now: the upper bound of its bucket.
func quantileSince(then, now *metrics.Float64Histogram, q float64) time.Duration {
	var total uint64
	for i := range now.Counts {
		total += now.Counts[i] - then.Counts[i]
	}
	var seen uint64
	for i := range now.Counts {
		seen += now.Counts[i] - then.Counts[i]
		if total > 0 && float64(seen) >= q*float64(total) {
			return time.Duration(now.Buckets[i+1] * float64(time.Second))
		}
	}
	return 0
}

// BenchmarkEventsDelivered publishes b.N events to 100 /events clients
// over loopback and reports how many events reach a client per second
// (each event counted once per client). The publisher keeps within the
// ring's reach of the slowest client, so that none is dropped and every
// event is delivered 100 times.
func BenchmarkEventsDelivered(b *testing.B) {
	const clients = 100
	srv, stream := eventServer(b)
	seen, stop := sseClients(b, srv, clients)
	defer stop()
	slowest := func() int64 {
		m := seen[0].Load()
		for _, c := range seen[1:] {
			m = min(m, c.Load())
		}
		return m
	}
	e := events.Event{Type: events.ServiceState, Service: "svc-1.default", State: "up", From: "backing off", PID: 4242, Text: "svc-1.default is up (pid 4242)"}
	b.ResetTimer()
	start := time.Now()
	n := int64(0)
	for b.Loop() {
		for n-slowest() > events.Keep/2 {
			time.Sleep(50 * time.Microsecond) // pacing the publisher, not synchronisation
		}
		stream.Publish(e)
		n++
	}
	for slowest() < n {
		time.Sleep(50 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n*clients)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(n)/el.Seconds(), "events/s")
}

// BenchmarkEventToFollowers publishes events one at a time, 20 ms apart,
// to 1,000 /events followers in a process of their own (one never reads)
// and reports the server's CPU time per event: what delivering one
// event to a thousand followers costs the host; and the part of it that
// ran at normal priority (not on the nice-19 writer thread): what it
// takes from the gateway's requests; and the server's threads' context
// switches per event.
func BenchmarkEventToFollowers(b *testing.B) {
	srv, stream := eventServer(b)
	f := startClient(b, "followers", srv.URL, 1000, false)
	if got := f.line(b); got != "ready" {
		b.Fatalf("followers said %q", got)
	}
	e := events.Event{Type: events.ServiceState, Service: "svc-1.default", State: "up", Text: "svc-1.default is up"}
	cpu0, niced0, sw0 := cpuTime(), nicedCPU(b), contextSwitches()
	for b.Loop() {
		stream.Publish(e)
		time.Sleep(20 * time.Millisecond) // pacing: each event's deliveries end before the next
	}
	cpu, niced := cpuTime()-cpu0, time.Duration(0)
	for tid, d := range nicedCPU(b) {
		niced += d - niced0[tid]
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	b.ReportMetric(float64((cpu-niced).Microseconds())/float64(b.N), "normal-prio-cpu-µs/event")
	b.ReportMetric(float64(contextSwitches()-sw0)/float64(b.N), "ctx-switches/event")
	f.stop()
	b.ReportMetric(float64((f.cmd.ProcessState.UserTime()+f.cmd.ProcessState.SystemTime()).Microseconds())/float64(b.N), "followers-cpu-µs/event")
}
