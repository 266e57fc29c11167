package e2e

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// monHAProxyStatus asks HAProxy's stats socket for the status of backend/server.
func monHAProxyStatus(sock, backend, server string) string {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return ""
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		if len(row) > col["status"] && row[col["pxname"]] == backend && row[col["svname"]] == server {
			return row[col["status"]]
		}
	}
	return ""
}

// TestMonitorHAProxy: a real HAProxy health-checks /healthy and takes the
// member out of rotation when it is set unhealthy.
func TestMonitorHAProxy(t *testing.T) {
	monRequire(t, "haproxy")
	s := startSup(t, t.TempDir())
	dir := t.TempDir()
	sock := filepath.Join(dir, "haproxy.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend app
    option httpchk GET /healthy
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2
    server tend1 %s check
`, sock, s.http)), 0o644); err != nil {
		t.Fatal(err)
	}
	monStartTool(t, "haproxy", "-f", cfg, "-db")
	state := func(want string) {
		t.Helper()
		var got string
		waitFor(t, 20*time.Second, "HAProxy server tend1 "+want, func() bool {
			got = monHAProxyStatus(sock, "app", "tend1")
			return strings.HasPrefix(got, want) && !strings.Contains(got, "going")
		})
	}
	state("UP")
	s.mustTend("health", "set", "--unhealthy", "--reason", "drain")
	state("DOWN")
	s.mustTend("health", "set", "--healthy")
	state("UP")
}
