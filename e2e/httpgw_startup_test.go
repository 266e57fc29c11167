package e2e

// The gateway before start-up has finished, and while hooks run.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// gwSlowInit is a package whose init hook touches started, then blocks
// until release exists.
func gwSlowInit(t *testing.T, name string) (pkg, started, release string) {
	dir := t.TempDir()
	started, release = filepath.Join(dir, "started"), filepath.Join(dir, "release")
	pkg = pkgDir(t, map[string]string{
		"IDENT":      "test/" + name + "/1.0.0/20260101000000",
		"hooks/init": "#!/bin/sh\ntouch " + started + "\nwhile [ ! -e " + release + " ]; do sleep 0.05; done\n",
		"hooks/run":  "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	// Released at the end whatever happens, before the supervisor is
	// stopped (cleanups run last-registered first).
	t.Cleanup(func() { os.WriteFile(release, nil, 0o644) })
	return pkg, started, release
}

func gwExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A start-up service whose init hook runs for long does not hold the
// supervisor's start-up: once every start-up service has been tried,
// /ready, /services*, /census and /butterfly answer 200 while that init
// still runs. (The 503 those routes answer before start-up is over is
// tested in internal/httpgw: no hook can hold start-up open any more.)
func TestGatewayReadyWhileStartupInitRuns(t *testing.T) {
	t.Parallel()
	pkg, started, release := gwSlowInit(t, "slow")
	cfg := filepath.Join(t.TempDir(), "tend.yaml")
	if err := os.WriteFile(cfg, []byte("services:\n  - pkg: "+pkg+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := gwLaunch(t, t.TempDir(), nil, "--config", cfg)
	c := gwHTTP(t, s)
	waitFor(t, 20*time.Second, "init hook started", func() bool { return gwExists(started) })
	c.waitReady()
	for _, p := range []string{"/services", "/services/slow/default", "/services/slow/default/config",
		"/census", "/butterfly"} {
		c.get(p, 200)
	}
	if gwExists(release) {
		t.Fatal("released too early")
	}
	c.get("/", 200)
	if r := c.do("POST", "/services"); r.code != 405 {
		t.Errorf("POST /services: %d, want 405", r.code)
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "slow up", func() bool {
		var o struct {
			Process struct {
				State string `json:"state"`
			} `json:"process"`
		}
		r, err := c.try("GET", "/services/slow/default")
		return err == nil && r.code == 200 && json.Unmarshal(r.body, &o) == nil && o.Process.State == "up"
	})
	c.get("/services/slow/default/health", 200)
	c.get("/services/nope/default", 404)
	c.get("/services/sl.ow/default", 400)
}

// A service whose init hook runs for long does not hold the gateway up:
// every route answers within the client's deadline meanwhile.
func TestGatewayLiveAnswersWhileHookRuns(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "alpha", uniqueTag()))
	pkg, started, release := gwSlowInit(t, "slowinit")

	// svc load waits for the first start attempt, so it runs until release.
	load := exec.Command(tendBin(), "svc", "load", pkg, "--remote-sup", s.ctl)
	load.Env = append(os.Environ(), "TEND_ROOT="+s.root)
	var out bytes.Buffer
	load.Stdout, load.Stderr = &out, &out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	loaded := make(chan error, 1)
	go func() { loaded <- load.Wait() }()
	t.Cleanup(func() {
		load.Process.Kill()
		<-loaded
	})
	waitFor(t, 20*time.Second, "init hook started", func() bool { return gwExists(started) })

	// The snapshot the gateway serves follows the manager by up to its
	// coalescing period (10 ms), so the hook may start before the service
	// is listed: wait for the listing, not for a moment.
	var list []struct {
		ServiceGroup string `json:"service_group"`
		Initialized  bool   `json:"initialized"`
	}
	found := false
	waitFor(t, 5*time.Second, "slowinit listed in /services", func() bool {
		if err := json.Unmarshal(c.get("/services", 200), &list); err != nil {
			t.Fatal(err)
		}
		for _, o := range list {
			if o.ServiceGroup == "slowinit.default" {
				found = true
				if o.Initialized {
					t.Errorf("slowinit initialized while its init hook runs")
				}
			}
		}
		return found
	})
	if len(list) != 2 {
		t.Errorf("/services while init runs: %+v", list)
	}
	for _, p := range []string{"/services/slowinit/default", "/services/slowinit/default/config",
		"/services/alpha/default", "/census", "/butterfly", "/ready", "/metrics"} {
		c.get(p, 200)
	}
	if r := c.do("GET", "/services/slowinit/default/health"); r.code == 200 {
		t.Errorf("health of a service still in init: %d %s", r.code, r.body)
	}
	if gwExists(release) {
		t.Fatal("released too early")
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-loaded:
		if err != nil {
			t.Fatalf("svc load: %v\n%s", err, out.String())
		}
		loaded <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatalf("svc load did not return after the init hook was released:\n%s", out.String())
	}
	waitFor(t, 10*time.Second, "slowinit up", func() bool {
		var o struct {
			Process struct {
				State string `json:"state"`
			} `json:"process"`
		}
		r, err := c.try("GET", "/services/slowinit/default")
		return err == nil && r.code == 200 && json.Unmarshal(r.body, &o) == nil && o.Process.State == "up"
	})
}
