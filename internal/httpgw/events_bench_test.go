package httpgw

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// sseClients opens n /events streams that read everything; seen counts
// the events each has read. One more, when stuck is set, sends its
// request and never reads a byte. stop closes them all.
func sseClients(tb testing.TB, srv *httptest.Server, n int, stuck bool) (seen []*atomic.Int64, stop func()) {
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
	var raw net.Conn
	if stuck {
		var err error
		if raw, err = net.Dial("tcp", srv.Listener.Addr().String()); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(raw, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	return seen, func() {
		cancel()
		if raw != nil {
			raw.Close()
		}
		wg.Wait()
		tr.CloseIdleConnections()
	}
}

// BenchmarkServicesBesideEventClients is GET /services (100 services)
// over loopback, each request timed: once alone, once while 1,000 clients
// follow /events (999 reading, one that never reads). In both an event
// is published every 100 ms (eventEvery), a busy supervisor's rate (a
// crash loop of several services), so 1,000 followers take 10,000
// deliveries a second on the same two cores as the server and the
// /services client. p50 and p99 are reported per case.
func BenchmarkServicesBesideEventClients(b *testing.B) {
	for _, clients := range []int{0, 1000} {
		b.Run(fmt.Sprintf("followers=%d", clients), func(b *testing.B) {
			srv, stream := eventServer(b)
			var stop func()
			if clients > 0 {
				_, stop = sseClients(b, srv, clients-1, true)
			}
			pubCtx, endPub := context.WithCancel(context.Background())
			var pub sync.WaitGroup
			pub.Go(func() {
				t := time.NewTicker(eventEvery)
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
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			lat := make([]time.Duration, 0, 4096)
			for b.Loop() {
				t0 := time.Now()
				resp, err := hc.Get(srv.URL + "/services")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET /services: %s", resp.Status)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			endPub()
			pub.Wait()
			if stop != nil {
				stop()
			}
			hc.CloseIdleConnections()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkEventsDelivered publishes b.N events to 100 /events clients
// over loopback and reports how many events reach a client per second
// (each event counted once per client). The publisher keeps within the
// ring's reach of the slowest client, so that none is dropped and every
// event is delivered 100 times.
func BenchmarkEventsDelivered(b *testing.B) {
	const clients = 100
	srv, stream := eventServer(b)
	seen, stop := sseClients(b, srv, clients, false)
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

// eventEvery is the publishing rate of BenchmarkServicesBesideEventClients.
var eventEvery = 100 * time.Millisecond
