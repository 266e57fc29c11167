package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// monPromtool runs `promtool check metrics` on body; returns exit code and output.
func monPromtool(t *testing.T, body string) (int, string) {
	t.Helper()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestMonitorPromtool checks live /metrics in both formats with promtool.
func TestMonitorPromtool(t *testing.T) {
	monRequire(t, "promtool")
	s := startSup(t, t.TempDir())
	code := monCodeFile(t, "0")
	s.mustTend("svc", "load", "--health-check-interval", "1", monChecked(t, "prom", code))
	waitFor(t, 20*time.Second, "a health check recorded", func() bool {
		_, b := monGet(t, "GET", "http://"+s.http+"/metrics")
		return strings.Contains(b, `tend_service_health_check_duration_seconds_count{group="default",service="prom",service_group="prom.default"} `) &&
			!strings.Contains(b, `tend_service_health_check_duration_seconds_count{group="default",service="prom",service_group="prom.default"} 0`)
	})
	monGet(t, "GET", "http://"+s.http+"/no/such/path") // an unmatched route in the histogram

	c, text := monGet(t, "GET", "http://"+s.http+"/metrics")
	if c != 200 {
		t.Fatalf("/metrics: %d", c)
	}
	for _, want := range []string{"tend_monitor_ready 1", "tend_monitor_healthy 1", fmt.Sprintf("tend_process_pid %d", s.cmd.Process.Pid),
		`tend_service_up{group="default",service="prom",service_group="prom.default"} 1`, "go_goroutines", "process_open_fds", `pattern="unmatched"`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, "/no/such/path") {
		t.Error("/metrics holds a raw path")
	}
	if rc, out := monPromtool(t, text); rc != 0 {
		t.Fatalf("promtool check metrics (text): exit %d\n%s", rc, out)
	}

	c, om := monGet(t, "GET", "http://"+s.http+"/metrics", "Accept", "application/openmetrics-text; version=1.0.0")
	if c != 200 || !strings.HasSuffix(om, "# EOF\n") {
		t.Fatalf("OpenMetrics /metrics: %d, ends %q", c, om[max(0, len(om)-40):])
	}
	_, out := monPromtool(t, om)
	// promtool 2.x parses text format only: on OpenMetrics it reports each
	// counter's _total series as lacking HELP (docs/MONITORING.md). Accept
	// exactly those, and only for families OM declares as counters.
	counters := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) counter$`).FindAllStringSubmatch(om, -1) {
		counters[m[1]] = true
	}
	okLine := regexp.MustCompile(`^(\S+)_total no help text$`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		m := okLine.FindStringSubmatch(line)
		if m == nil || !counters[m[1]] {
			t.Errorf("promtool (OpenMetrics) finding not accepted: %q", line)
		}
	}
}

// TestMonitorPrometheusScrape runs a real Prometheus scraping tend every
// second and asks its API for tend_service_up.
func TestMonitorPrometheusScrape(t *testing.T) {
	monRequire(t, "prometheus")
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "x", uniqueTag()))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tend
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, s.http)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := monFreePort(t)
	monStartTool(t, "prometheus", "--config.file", cfg, "--storage.tsdb.path", filepath.Join(dir, "tsdb"),
		"--web.listen-address", addr, "--log.level", "warn")

	q := "http://" + addr + "/api/v1/query?query=" + url.QueryEscape(`tend_service_up{service_group="x.default"}`)
	var last string
	waitFor(t, 40*time.Second, "Prometheus to hold tend_service_up{service_group=\"x.default\"} = 1", func() bool {
		c, body := monGet(t, "GET", q)
		last = body
		if c != 200 {
			return false
		}
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		if json.Unmarshal([]byte(body), &r) != nil || r.Status != "success" {
			return false
		}
		for _, res := range r.Data.Result {
			if res.Metric["job"] == "tend" && len(res.Value) == 2 && res.Value[1] == "1" {
				return true
			}
		}
		return false
	})
	// The target itself is up (scrapes succeed, not just one lucky sample).
	_, body := monGet(t, "GET", "http://"+addr+"/api/v1/query?query="+url.QueryEscape(`up{job="tend"}`))
	if !bytes.Contains([]byte(body), []byte(`"1"]`)) {
		t.Fatalf("up{job=tend}: %s (last: %s)", body, last)
	}
}
