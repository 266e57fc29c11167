package httpgw

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// The hook's logs are read at most 64 KiB each, from their end, and a new
// check's output is seen without a new snapshot.
func TestHealthLogTail(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "health-check.stdout.log")
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	big = append(big, "END\n"...)
	if err := os.WriteFile(out, big, 0o600); err != nil {
		t.Fatal(err)
	}
	s := fixtureSnapshot("")
	s.Services[1].Hooks = map[string]api.Hook{"health-check": {StdoutPath: out, StderrPath: dir}}
	h := serve(s, false)
	var got healthJSON
	if err := json.Unmarshal(do(t, h, "GET", "/services/redis/default/health").body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Stdout) != maxHookLog || !strings.HasSuffix(got.Stdout, "END\n") {
		t.Errorf("stdout: %d bytes ending %q", len(got.Stdout), got.Stdout[max(0, len(got.Stdout)-8):])
	}
	if got.Stderr != "" {
		t.Errorf("stderr from a directory: %q", got.Stderr)
	}
	if err := os.WriteFile(out, []byte("fresh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(do(t, h, "GET", "/services/redis/default/health").body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Stdout != "fresh\n" {
		t.Errorf("stdout after rewrite: %q", got.Stdout)
	}
}
