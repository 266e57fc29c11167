package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// monRequire skips (or fails with TEND_REQUIRE_TOOLS=1) when a client is missing.
func monRequire(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s not installed (TEND_REQUIRE_TOOLS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// monClient never waits long: every monitoring answer is computed from a snapshot.
var monClient = &http.Client{Timeout: 5 * time.Second}

// monGet does a request with optional headers (pairs) and returns code and body;
// code is 0 when the request failed.
func monGet(t *testing.T, method, url string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := monClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// monWaitCode waits until GET url answers code.
func monWaitCode(t *testing.T, url string, code int, what string) string {
	t.Helper()
	var body string
	waitFor(t, 20*time.Second, what, func() bool {
		var c int
		c, body = monGet(t, "GET", url)
		return c == code
	})
	return body
}

// monFreePort returns a loopback address nobody listens on right now.
func monFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// monCodeFile makes a file holding an exit code, and returns its path.
func monCodeFile(t *testing.T, code string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "code")
	monSetCode(t, p, code)
	return p
}

func monSetCode(t *testing.T, path, code string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(code+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// monChecked is a sleeper whose health-check hook exits with the code held in codeFile.
func monChecked(t *testing.T, name, codeFile string) string {
	return pkgDir(t, map[string]string{
		"IDENT":              "test/" + name + "/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\nexit $(cat " + codeFile + ")\n",
	})
}

// monStartEnv starts a supervisor with extra environment variables and does
// not wait on the gateway's /ready (it may live elsewhere); it waits for the
// listeners line only.
func monStartEnv(t *testing.T, root string, env []string, extra ...string) *sup {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s := &sup{t: t, root: root, args: extra}
	s.start()
	t.Cleanup(s.cleanup)
	return s
}

// monStartTool starts a real client daemon (HAProxy, Prometheus) that dies
// with the test binary and is killed at cleanup; its output is shown if
// the test failed.
func monStartTool(t *testing.T, name string, args ...string) {
	t.Helper()
	var log syncBuf
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, log.String())
		}
	})
}
