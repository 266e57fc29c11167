package monitor

import (
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

// A service whose processes have a cgroup shows their CPU and memory on
// /metrics, read at scrape time; one without has no such series.
func TestServiceUsageMetrics(t *testing.T) {
	f := newFixture()
	redis := running("redis")
	cpu := 1.5
	redis.Usage = func() (api.Usage, bool) { return api.Usage{CPUSeconds: cpu, MemoryBytes: 4 << 20}, true }
	web := running("web")
	f.set(readySnap(redis, web))
	m := mustNew(t, f.options())

	mfs := parse(t, mustScrape(t, m))
	if got := value(t, mfs, "tend_service_cpu_seconds_total", "service_group", "redis.default"); got != 1.5 {
		t.Errorf("cpu = %v", got)
	}
	if got := value(t, mfs, "tend_service_memory_bytes", "service_group", "redis.default"); got != 4<<20 {
		t.Errorf("memory = %v", got)
	}
	if series(mfs, "tend_service_memory_bytes", "service_group", "web.default") != nil {
		t.Error("memory series for a service without a cgroup")
	}
	cpu = 2.5 // same snapshot, later scrape
	if got := value(t, parse(t, mustScrape(t, m)), "tend_service_cpu_seconds_total", "service_group", "redis.default"); got != 2.5 {
		t.Errorf("cpu at the second scrape = %v", got)
	}
}

func mustScrape(t *testing.T, m *Monitor) string {
	t.Helper()
	text, _ := scrape(t, m, "")
	return text
}

// /status names the mechanism that tracks the services' processes.
func TestStatusNamesProcessTracking(t *testing.T) {
	f := newFixture()
	s := readySnap(running("redis"))
	s.Sup.ProcessTracking = "cgroup v2 /sys/fs/cgroup/tend.x"
	f.set(s)
	m := mustNew(t, f.options())
	c, ok := getStatus(t, m).Components["processes"]
	if !ok || c.Status != statusHealthy || c.Reason != "cgroup v2 /sys/fs/cgroup/tend.x" {
		t.Fatalf("processes component %+v %v", c, ok)
	}
}
