package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMonitorOwnListener: --listen-monitor moves the endpoints off the
// gateway, behind their own API keys; a disabled endpoint is 404.
func TestMonitorOwnListener(t *testing.T) {
	mon := monFreePort(t)
	cfg := filepath.Join(t.TempDir(), "sup.yaml")
	if err := os.WriteFile(cfg, []byte("monitor:\n  api_keys: [file-key-0123456789]\n  metrics:\n    enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The variable replaces the file's list (lists are not merged).
	s := monStartEnv(t, t.TempDir(), []string{"TEND_MONITOR_API_KEYS=env-key-aaaa1111,env-key-bbbb2222"},
		"--config", cfg, "--listen-monitor", mon)
	base := "http://" + mon
	waitFor(t, 30*time.Second, "/ready on the monitoring listener", func() bool {
		c, _ := monGet(t, "GET", base+"/ready", "X-API-Key", "env-key-aaaa1111")
		return c == 200
	})
	for _, p := range []string{"/ready", "/healthy", "/status"} {
		if c, b := monGet(t, "GET", base+p); c != 401 || b != "" {
			t.Errorf("GET %s without a key: %d %q, want 401 and no body", p, c, b)
		}
		if c, _ := monGet(t, "GET", base+p, "X-API-Key", "wrong-key"); c != 401 {
			t.Errorf("GET %s with a wrong key: %d, want 401", p, c)
		}
		if c, _ := monGet(t, "GET", base+p, "X-API-Key", "file-key-0123456789"); c != 401 {
			t.Errorf("GET %s with the file's key, replaced by the variable: %d, want 401", p, c)
		}
		if c, b := monGet(t, "GET", base+p, "X-API-Key", "env-key-aaaa1111"); c != 200 {
			t.Errorf("GET %s with X-API-Key: %d %q", p, c, b)
		}
		if c, _ := monGet(t, "GET", base+p, "Authorization", "Bearer env-key-bbbb2222"); c != 200 {
			t.Errorf("GET %s with Bearer: %d", p, c)
		}
	}
	if c, _ := monGet(t, "GET", base+"/metrics", "X-API-Key", "env-key-aaaa1111"); c != 404 {
		t.Errorf("disabled /metrics: %d, want 404", c)
	}
	for _, p := range []string{"/ready", "/healthy", "/status", "/metrics"} {
		if c, _ := monGet(t, "GET", "http://"+s.http+p); c != 404 {
			t.Errorf("gateway GET %s with a monitoring listener: %d, want 404", p, c)
		}
	}
}

// TestMonitorListenPrecedence: one live check of flag > env > file, on the
// monitoring listener's address.
func TestMonitorListenPrecedence(t *testing.T) {
	fileAddr, envAddr, flagAddr := monFreePort(t), monFreePort(t), monFreePort(t)
	cfg := filepath.Join(t.TempDir(), "sup.yaml")
	if err := os.WriteFile(cfg, []byte("monitor:\n  listen: "+fileAddr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		env   string
		flags []string
		want  string
	}{
		{"flag over env over file", envAddr, []string{"--listen-monitor", flagAddr}, flagAddr},
		{"env over file", envAddr, nil, envAddr},
		{"file", "", nil, fileAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			s := monStartEnv(t, root, []string{"TEND_MONITOR_LISTEN=" + tc.env}, append([]string{"--config", cfg}, tc.flags...)...)
			waitFor(t, 30*time.Second, "/ready on "+tc.want, func() bool {
				c, _ := monGet(t, "GET", "http://"+tc.want+"/ready")
				return c == 200
			})
			for _, a := range []string{fileAddr, envAddr, flagAddr} {
				if a == tc.want {
					continue
				}
				if c, _ := monGet(t, "GET", "http://"+a+"/ready"); c != 0 {
					t.Errorf("%s answered %d; only %s should listen", a, c, tc.want)
				}
			}
			s.term()
		})
	}
}
