package e2e

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nginxPlan is core/nginx on Debian's nginx. The plan runs it as root.
func nginxPlan(t *testing.T) habitatPlan {
	return habitatPlan{name: "nginx", bins: map[string]string{"nginx": debianTool(t, "nginx", "/usr/sbin/nginx")}}
}

// startNginx loads the nginx plan on s with its page at port.
func startNginx(t *testing.T, s *sup, port int, page string) {
	t.Helper()
	userTOML(t, s.root, "nginx", fmt.Sprintf("worker_processes = 1\n[http.listen]\nport = %d\n", port))
	data := filepath.Join(s.root, "svc", "nginx", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	logsOnFailure(t, s.root, "nginx")
	s.mustTend("svc", "load", planPackage(t, s.root, nginxPlan(t)))
}

// The nginx plan serves the service's data directory on the port from
// user.toml.
func TestHabitatPlanNginxServesAPage(t *testing.T) {
	t.Parallel()
	rootOnly(t) // pkg_svc_user=root; nginx writes /run/nginx.pid
	s := startSup(t, servedRoot(t))
	port := freePort(t)
	startNginx(t, s, port, "hello from the nginx plan\n")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitUntil(t, 30*time.Second, "nginx to serve the page", func() (bool, string) {
		code, body := httpBody(url)
		return code == 200 && body == "hello from the nginx plan\n", fmt.Sprint(code, " ", body)
	})
}

// The haproxy plan, bound to the nginx plan on two supervisors of a ring,
// balances across both, and drops the one that stops.
func TestHabitatPlanHAProxyBalancesAndDropsABackendThatStops(t *testing.T) {
	t.Parallel()
	rootOnly(t) // as for nginx above
	haproxy := debianTool(t, "haproxy", "/usr/sbin/haproxy")
	// The plan names each server by its member's sys.ip, so each backend
	// announces its own loopback address.
	a := startSup(t, servedRoot(t), "--sys-ip-address", "127.0.0.2")
	b := startSup(t, servedRoot(t), "--sys-ip-address", "127.0.0.3", "--peer", a.gossip)
	startNginx(t, a, freePort(t), "backend a\n")
	startNginx(t, b, freePort(t), "backend b\n")

	front := freePort(t)
	userTOML(t, a.root, "haproxy", fmt.Sprintf("[front-end]\nlisten = \"127.0.0.1\"\nport = %d\n", front))
	logsOnFailure(t, a.root, "haproxy")
	a.mustTend("svc", "load", planPackage(t, a.root, habitatPlan{name: "haproxy", bins: map[string]string{"haproxy": haproxy}}),
		"--bind", "backend:nginx.default")

	url := fmt.Sprintf("http://127.0.0.1:%d/", front)
	seen := map[string]int{}
	waitUntil(t, 60*time.Second, "HAProxy to answer from both backends", func() (bool, string) {
		code, body := httpBody(url)
		if code == 200 {
			seen[body]++
		}
		return seen["backend a\n"] > 0 && seen["backend b\n"] > 0, fmt.Sprintf("%d %q; so far %v", code, body, seen)
	})

	// b's supervisor stops, its nginx with it, and it leaves the ring: its
	// member is no longer alive, so eachAlive leaves it out. (A service
	// stopped with svc stop keeps its place in the census, as in Habitat,
	// whose Supervisor never withdraws a service rumor.)
	b.term()
	conf := filepath.Join(a.root, "svc", "haproxy", "config", "haproxy.conf")
	waitUntil(t, 30*time.Second, "haproxy.conf without the backend that stopped", func() (bool, string) {
		c := readFile(conf)
		return strings.Contains(c, "server 127.0.0.2 ") && !strings.Contains(c, "127.0.0.3"), c
	})
	// Once HAProxy restarted on the new config, every answer is a's.
	run := 0
	waitUntil(t, 30*time.Second, "20 answers in a row from backend a", func() (bool, string) {
		code, body := httpBody(url)
		if code == 200 && body == "backend a\n" {
			run++
		} else {
			run = 0
		}
		return run >= 20, fmt.Sprint(code, " ", body)
	})
}

// The prometheus plan, its optional targets bind given a group whose
// members export tend's HTTP gateway port, scrapes tend's /metrics.
func TestHabitatPlanPrometheusScrapesTend(t *testing.T) {
	t.Parallel()
	prom := debianTool(t, "prometheus", "/usr/bin/prometheus")
	s := startSup(t, servedRoot(t), "--sys-ip-address", "127.0.0.1")
	_, gwPort, _ := strings.Cut(s.http, ":")
	// The group Prometheus binds to: each member says where its
	// supervisor's metrics are.
	userTOML(t, s.root, "gateway", "port = "+gwPort+"\n")
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":        "test/gateway/1.0.0/20260101000000",
		"default.toml": "port = 9631\n",
		"EXPORTS":      "metric-http-port=port\n",
		"hooks/run":    "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	}))

	port := freePort(t)
	userTOML(t, s.root, "prometheus", fmt.Sprintf("listening_port = %d\n", port))
	logsOnFailure(t, s.root, "prometheus")
	s.mustTend("svc", "load", planPackage(t, s.root, habitatPlan{
		name: "prometheus", bins: map[string]string{"prometheus": prom},
		user: "prometheus", group: "prometheus", // Debian's, for Habitat's hab
	}), "--bind", "targets:gateway.default")

	// The plan scrapes every 15s: the first scrape of tend lands within one
	// interval of Prometheus starting.
	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/targets", port)
	want := `"scrapeUrl":"http://127.0.0.1:` + gwPort + `/metrics"`
	waitUntil(t, 60*time.Second, "Prometheus to have scraped tend", func() (bool, string) {
		code, body := httpBody(api)
		if code != 200 {
			return false, fmt.Sprint(code, " ", body)
		}
		for _, target := range strings.Split(body, `{"discoveredLabels"`) {
			if strings.Contains(target, want) && strings.Contains(target, `"health":"up"`) {
				return true, ""
			}
		}
		return false, body
	})
	if os.Geteuid() == 0 {
		// Run as Debian's prometheus user, standing in for Habitat's hab.
		u, err := user.Lookup("prometheus")
		if err != nil {
			t.Fatal(err)
		}
		pid, _, _ := strings.Cut(readFile(filepath.Join(s.root, "svc", "prometheus", "PID")), "\n") // then its start time
		if uid := procUID(t, pid); uid != u.Uid {
			t.Fatalf("prometheus (pid %s) runs as uid %s, want the prometheus user's %s", pid, uid, u.Uid)
		}
	}
}

// procUID is the real uid of a live process.
func procUID(t *testing.T, pid string) string {
	t.Helper()
	for _, l := range strings.Split(readFile("/proc/"+pid+"/status"), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	t.Fatalf("no Uid in /proc/%s/status", pid)
	return ""
}

// The etcd plan, as it ships (auto TLS on client and peer URLs), runs a
// one-member cluster from svc.members that a client can write to and read
// back on the client port from user.toml; its health-check hook, curl
// against /health, reports it healthy.
func TestHabitatPlanEtcdServesItsClientPort(t *testing.T) {
	t.Parallel()
	etcd := debianTool(t, "etcd-server", "/usr/bin/etcd")
	curl := debianTool(t, "curl", "/usr/bin/curl")
	s := startSup(t, servedRoot(t), "--sys-ip-address", "127.0.0.1")
	client := freePort(t)
	userTOML(t, s.root, "etcd", fmt.Sprintf("etcd-client-end = %d\netcd-server-end = %d\n", client, freePort(t)))
	logsOnFailure(t, s.root, "etcd")
	s.mustTend("svc", "load", planPackage(t, s.root, habitatPlan{
		name: "etcd", bins: map[string]string{"etcd": etcd},
		deps: map[string]map[string]string{"core/curl": {"curl": curl}},
	}), "--health-check-interval", "1")

	// etcd's v3 JSON gateway: keys and values are base64.
	tlsClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the plan's auto TLS is self-signed
	}}
	call := func(op, body string) (string, error) {
		resp, err := tlsClient.Post(fmt.Sprintf("https://127.0.0.1:%d/v3/kv/%s", client, op), "application/json", strings.NewReader(body))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("%s: %s", resp.Status, b)
		}
		return string(b), nil
	}
	key, val := base64.StdEncoding.EncodeToString([]byte("plan")), base64.StdEncoding.EncodeToString([]byte("etcd"))
	waitUntil(t, 60*time.Second, "etcd to take a write", func() (bool, string) {
		_, err := call("put", `{"key":"`+key+`","value":"`+val+`"}`)
		return err == nil, fmt.Sprint(err)
	})
	got, err := call("range", `{"key":"`+key+`"}`)
	if err != nil || !strings.Contains(got, `"value":"`+val+`"`) {
		t.Fatalf("read back %q, %v; want the value written", got, err)
	}
	waitUntil(t, 30*time.Second, "the plan's health check to say OK", func() (bool, string) {
		st := s.status()["etcd.default"]
		return st.Health == "OK", fmt.Sprintf("%+v", st)
	})
}
