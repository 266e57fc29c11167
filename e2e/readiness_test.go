package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A package that says how its service tells it is ready (NOTIFICATION_FD,
// or NOTIFY: sd_notify) is up but not ready until then: /readyz waits,
// /services says initialized false, /status says why, and a strict bind
// to it waits; once the service has said so, all of them move on.
func TestServiceReadiness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, content, signal, waiting string
	}{
		{"fd", "NOTIFICATION_FD", "3\n", "echo >&3", "waiting for a newline on its notification fd"},
		{"notify", "NOTIFY", "sd_notify\n",
			// perl is in every Debian (perl-base); its Socket module
			// sends one datagram.
			`perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die $!; send($s, "STATUS=warm\nREADY=1", 0, pack_sockaddr_un($ENV{NOTIFY_SOCKET})) or die $!'`,
			"waiting for READY=1 on its NOTIFY_SOCKET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSup(t, t.TempDir())
			base := "http://" + s.http
			trigger := filepath.Join(t.TempDir(), "go")
			db := pkgDir(t, map[string]string{
				"IDENT":        "test/db/1.0.0/20260101000000",
				"default.toml": "port = 5432\n",
				"EXPORTS":      "port=port\n",
				tc.file:        tc.content,
				// Ready only once the test says so: it waits for a file.
				"hooks/run": "#!/bin/sh\nwhile [ ! -e " + trigger + " ]; do sleep 0.05; done\n" + tc.signal + "\nexec sleep 1000" + uniqueTag() + "\n",
			})
			app := pkgDir(t, map[string]string{
				"IDENT":     "test/app/1.0.0/20260101000000",
				"BINDS":     "db=port\n",
				"hooks/run": "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
			})
			s.mustTend("svc", "load", db)
			waitFor(t, 20*time.Second, "db up", func() bool { return s.status()["db.default"].State == "up" })

			code, body := monGet(t, "GET", base+"/readyz?verbose")
			if want := "[-]db.default failed: up but not ready: " + tc.waiting + "\n"; code != 500 || !strings.Contains(body, want) {
				t.Fatalf("/readyz while db is not ready: %d\n%s\nwant a line %q", code, body, want)
			}
			if init := initialized(t, base, "db"); init {
				t.Fatal("/services says db is initialized before it is ready")
			}
			var st struct {
				Components map[string]struct{ Status, Reason string }
			}
			_, body = monGet(t, "GET", base+"/status")
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
			if c := st.Components["db.default"]; c.Status != "degraded" || c.Reason != "up but not ready: "+tc.waiting {
				t.Errorf("/status db.default: %+v", c)
			}

			// The census has db, with the export app needs: only
			// readiness holds the strict bind.
			s.mustTend("svc", "load", app, "--bind", "db:db.default")
			waitFor(t, 20*time.Second, "db in the butterfly, not initialized", func() bool {
				_, body := monGet(t, "GET", base+"/butterfly")
				return strings.Contains(body, `"service_group":"db.default"`)
			})
			if a := s.status()["app.default"]; a.State != "down" || !strings.Contains(a.Error, "waiting for binds: db") {
				t.Fatalf("app started while db was not ready: %+v", a)
			}

			if err := os.WriteFile(trigger, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			monWaitCode(t, base+"/readyz", 200, "/readyz once db is ready")
			waitFor(t, 20*time.Second, "app up once db is ready", func() bool { return s.status()["app.default"].State == "up" })
			if !initialized(t, base, "db") {
				t.Error("/services says db is not initialized once ready")
			}
			if code, body := monGet(t, "GET", base+"/readyz?verbose"); code != 200 || !strings.Contains(body, "[+]db.default ok\n[+]app.default ok\n") && !strings.Contains(body, "[+]app.default ok\n[+]db.default ok\n") {
				t.Errorf("/readyz once ready: %d\n%s", code, body)
			}
		})
	}
}

// initialized reads /services/NAME/default's initialized.
func initialized(t *testing.T, base, name string) bool {
	t.Helper()
	resp, err := monClient.Get(base + "/services/" + name + "/default")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/services/%s/default: %s", name, resp.Status)
	}
	var svc struct {
		Initialized *bool `json:"initialized"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&svc); err != nil {
		t.Fatal(err)
	}
	if svc.Initialized == nil {
		t.Fatalf("/services/%s/default has no initialized", name)
	}
	return *svc.Initialized
}
