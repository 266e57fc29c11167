package httpgw

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

func TestHealthBody(t *testing.T) {
	h := serve(fixtureSnapshot(""), false)
	cases := map[string]healthJSON{
		"redis":  {Status: "OK", Stdout: "PONG\n", Stderr: "Warning: AUTH not set\n"},
		"worker": {Status: "WARNING"},
		"web":    {Status: "CRITICAL"},
		"broken": {Status: "UNKNOWN"},
	}
	for name, want := range cases {
		r := do(t, h, "GET", "/services/"+name+"/default/health")
		var got healthJSON
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("%s: %v: %s", name, err, r.body)
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}

// /health answers from the snapshot alone: the hook's log files, rewritten
// by a check the snapshot does not show yet, are not read, and a status no
// check set (a stopped service's CRITICAL) comes with no output.
func TestHealthPairsStatusWithItsOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "health-check.stdout.log")
	if err := os.WriteFile(out, []byte("a newer check\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := fixtureSnapshot("")
	s.Services[1].Hooks = map[string]api.Hook{"health-check": {StdoutPath: out, StderrPath: out}}
	h := serve(s, false)
	var got healthJSON
	if err := json.Unmarshal(do(t, h, "GET", "/services/redis/default/health").body, &got); err != nil {
		t.Fatal(err)
	}
	if want := (healthJSON{Status: "OK", Stdout: "PONG\n", Stderr: "Warning: AUTH not set\n"}); got != want {
		t.Errorf("health %+v, want %+v (the check's own output)", got, want)
	}
	s = fixtureSnapshot("")
	s.Services[1].Running, s.Services[1].Health, s.Services[1].HealthOutput = false, api.HealthCritical, nil
	s.Services[1].Hooks = map[string]api.Hook{"health-check": {StdoutPath: out, StderrPath: out}}
	if err := json.Unmarshal(do(t, serve(s, false), "GET", "/services/redis/default/health").body, &got); err != nil {
		t.Fatal(err)
	}
	if want := (healthJSON{Status: "CRITICAL"}); got != want {
		t.Errorf("stopped: %+v, want %+v", got, want)
	}
}
