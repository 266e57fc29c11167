package e2e

// Bad input found by an outside test (issue 11): each is refused with one
// clear line (or the HTTP status that says it) and changes nothing.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ctl"
)

// oneLine fails the test unless r exited non-zero with exactly one line on
// stderr containing each of want.
func oneLine(t *testing.T, what string, r result, want ...string) {
	t.Helper()
	line := strings.TrimSpace(r.stderr)
	if r.code == 0 || line == "" || strings.Contains(line, "\n") {
		t.Errorf("%s: exit %d, stderr %q; want a non-zero exit and one line", what, r.code, r.stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("%s: stderr %q does not say %q", what, line, w)
		}
	}
}

// supRunOnce runs `tend sup run` that is expected to refuse its input and
// exit; a supervisor that starts instead is stopped after a few seconds
// and the test fails.
func supRunOnce(t *testing.T, root string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"sup", "run", "--root", root,
		"--listen-ctl", "127.0.0.1:0", "--listen-http", "127.0.0.1:0", "--listen-gossip", "127.0.0.1:0"}, args...)
	cmd := exec.CommandContext(ctx, tendBin(), full...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("sup run %v started instead of refusing its input:\n%s", args, e.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: o.String(), stderr: e.String(), code: code}
}

// A start-up file that lists a missing package, or two packages of one
// service, stops `sup run` before anything is created or started.
func TestBadStartupFileFailsSupRun(t *testing.T) {
	dir := t.TempDir()
	tag := uniqueTag()
	a := sleeper(t, "twin", tag)
	b := sleeper(t, "twin", tag) // another directory, the same service
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"missing directory", "services:\n  - pkg: " + filepath.Join(dir, "nosuch") + "\n", []string{"nosuch", "not found"}},
		{"missing ident", "services:\n  - pkg: " + a + "\n  - pkg: test/nosuchpkg\n", []string{"test/nosuchpkg", "not found"}},
		{"duplicate service", "services:\n  - pkg: " + a + "\n  - pkg: " + b + "\n", []string{a, b, "twin"}},
		{"duplicate service, path and ident", "services:\n  - pkg: test/twin\n  - pkg: " + a + "\n", []string{"twin"}},
		{"overflowing shutdown_timeout", "services:\n  - pkg: " + a + "\n    shutdown_timeout: 10000000000\n", []string{"limit of", "9223372036s"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(dir, "root"+strconv.Itoa(i))
			if strings.Contains(tc.yaml, "test/twin") {
				// The ident must be installed for the duplicate to be one.
				if r := runTend(t, root, "pkg", "install", b); r.code != 0 {
					t.Fatalf("pkg install: %+v", r)
				}
			}
			before := listTree(t, root)
			cfg := filepath.Join(dir, fmt.Sprintf("tend%d.yaml", i))
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			oneLine(t, tc.name, supRunOnce(t, root, "--config", cfg), tc.want...)
			if after := listTree(t, root); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("refused start-up changed the root: %v -> %v", before, after)
			}
			if pids := procsWith("sleep 1000" + tag); len(pids) != 0 {
				t.Errorf("a service of the refused file runs: %v", pids)
			}
		})
	}
}

// A package whose SVC_USER does not exist cannot start: svc load says so
// and loads nothing.
func TestBadLoadUnknownServiceUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SVC_USER is used only by a root supervisor")
	}
	const nobody = "tend-no-such-user"
	if _, err := user.Lookup(nobody); err == nil {
		t.Skipf("user %s exists here", nobody)
	}
	root := t.TempDir()
	s := startSup(t, root)
	pkgsBefore := listTree(t, filepath.Join(root, "pkgs"))
	p := pkgDir(t, map[string]string{
		"IDENT":     "test/nouser/1.0.0/20260101000000",
		"SVC_USER":  nobody + "\n",
		"hooks/run": "#!/bin/sh\nexec sleep 1000\n",
	})
	oneLine(t, "unknown SVC_USER", s.tend("svc", "load", p), nobody)
	if _, err := os.Stat(s.specPath("nouser")); !os.IsNotExist(err) {
		t.Errorf("a spec was written for a service that cannot start: %v", err)
	}
	if st := s.status(); len(st) != 0 {
		t.Errorf("services: %+v", st)
	}
	if after := listTree(t, filepath.Join(root, "pkgs")); strings.Join(after, ",") != strings.Join(pkgsBefore, ",") {
		t.Errorf("the refused package was installed: %v -> %v", pkgsBefore, after)
	}
}

// Numbers that overflow are refused with a message that states the limit,
// by `svc load` and by `sup run`.
func TestBadNumbersOverflow(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	p := sleeper(t, "big", uniqueTag())
	for _, args := range [][]string{
		{"--shutdown-timeout", "10000000000"},
		{"--health-check-interval", "27670116111"},
		{"--shutdown-timeout", "99999999999999999999"},
		{"--health-check-interval", "9223372037"},
	} {
		oneLine(t, strings.Join(args, " "), s.tend(append([]string{"svc", "load", p}, args...)...), "limit of 9223372036 seconds")
	}
	if _, err := os.Stat(s.specPath("big")); !os.IsNotExist(err) {
		t.Errorf("a refused load wrote a spec: %v", err)
	}
	// Any client, not only the CLI: the gateway refuses it too.
	secret, err := ctl.ReadSecret(filepath.Join(root, "sup", "default"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	n := 10000000000
	err = ctl.NewClient(s.ctl, secret).Load(context.Background(), api.LoadRequest{Pkg: p, ShutdownTimeout: &n}, io.Discard)
	if api.KindOf(err) != api.BadRequest || !strings.Contains(fmt.Sprint(err), "limit of 9223372036 seconds") {
		t.Errorf("load request with shutdown_timeout %d: %v; want a bad request stating the limit", n, err)
	}
	// The largest that fits is taken.
	s.mustTend("svc", "load", p, "--shutdown-timeout", "9223372036", "--health-check-interval", "9223372036")

	for _, args := range [][]string{
		{"--service-max-backoff-period", "27670116111"},
		{"--service-restart-cooldown-period", "3000000h"},
		{"--monitor-healthy-diskfreeinodes-lower", "99999999999999999999"},
		{"--monitor-healthy-diskfreebytes-lower", "99999999999TiB"},
	} {
		oneLine(t, strings.Join(args, " "), supRunOnce(t, t.TempDir(), args...), "limit of")
	}
}

// `file upload` refuses a name with a newline, a NUL or over 255 bytes as a
// bad request; nothing is gossiped.
func TestBadUploadFileNames(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	dir := t.TempDir()
	nl := filepath.Join(dir, "two\nlines")
	if err := os.WriteFile(nl, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	oneLine(t, "newline in the name", s.tend("file", "upload", "web.default", "1", nl, "--remote-sup", s.ctl), "control character")

	secret, err := ctl.ReadSecret(filepath.Join(root, "sup", "default"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c := ctl.NewClient(s.ctl, secret)
	for _, name := range []string{"nul\x00byte", "two\nlines", strings.Repeat("n", 256)} {
		err := c.FileUpload(context.Background(), api.FileUpload{ServiceGroup: "web.default", Version: 1, Filename: name, Body: []byte("x")}, io.Discard)
		if api.KindOf(err) != api.BadRequest {
			t.Errorf("file name %q: %v (%s); want a bad request", name, err, api.KindOf(err))
		}
	}
	// A good name still goes through, at the same version: nothing was
	// taken before.
	good := filepath.Join(dir, "app.conf")
	if err := os.WriteFile(good, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := s.tend("file", "upload", "web.default", "1", good, "--remote-sup", s.ctl); r.code != 0 {
		t.Errorf("good upload: %+v", r)
	}
}

// --redact hides the values of the package's RUNTIME_ENVIRONMENT.
func TestRedactHidesRuntimeEnvironment(t *testing.T) {
	s := startSup(t, t.TempDir(), "--redact")
	p := pkgDir(t, map[string]string{
		"IDENT":               "test/envsvc/1.0.0/20260101000000",
		"RUNTIME_ENVIRONMENT": "DB_PASSWORD=hunter2-" + strings.TrimPrefix(uniqueTag(), ".") + "\n",
		"hooks/run":           "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
	s.mustTend("svc", "load", p)
	secret := strings.TrimSpace(strings.TrimPrefix(readFile(filepath.Join(p, "RUNTIME_ENVIRONMENT")), "DB_PASSWORD="))
	for _, path := range []string{"/services", "/services/envsvc/default"} {
		body := httpGet(t, "http://"+s.http+path)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s shows the RUNTIME_ENVIRONMENT value", path)
		}
		if !strings.Contains(body, `"DB_PASSWORD"`) {
			t.Errorf("GET %s lost the variable's name: %s", path, body)
		}
	}
}

// Headers over the documented 16 KiB get 431 on every listener; under it
// they are read.
func TestHeaderOver16KiBGets431(t *testing.T) {
	s := gwLaunch(t, t.TempDir(), nil, "--listen-monitor", "127.0.0.1:0")
	mon := field(listenRe.FindString(s.errOut.String()), "monitor")
	if mon == "" {
		t.Fatalf("no monitor listener logged:\n%s", s.errOut.String())
	}
	gwHTTP(t, &sup{http: mon}).waitReady()
	for name, addr := range map[string]string{"http": s.http, "monitor": mon, "ctl": s.ctl} {
		for _, tc := range []struct {
			size int
			big  bool
		}{{15 << 10, false}, {16<<10 + 1, true}, {19 << 10, true}} {
			code := headerRequest(t, addr, tc.size)
			if tc.big && code != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%s: %d bytes of headers: %d, want 431", name, tc.size, code)
			}
			if !tc.big && code == http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%s: %d bytes of headers refused", name, tc.size)
			}
		}
	}
}

// headerRequest sends GET /ready whose request line and headers are size
// bytes and returns the status.
func headerRequest(t *testing.T, addr string, size int) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	head := "GET /ready HTTP/1.1\r\nHost: tend\r\nX-Pad: "
	req := head + strings.Repeat("p", size-len(head)-4) + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// With both TEND_GATEWAY_AUTH_TOKEN and Habitat's HAB_SUP_GATEWAY_AUTH_TOKEN
// set, both tokens are valid (a host moving from one to the other).
func TestGatewayLiveAuthBothEnvTokens(t *testing.T) {
	s := gwLaunch(t, t.TempDir(), []string{"TEND_GATEWAY_AUTH_TOKEN=tend-token-a", "HAB_SUP_GATEWAY_AUTH_TOKEN=hab-token-b"})
	gwCheckAuth(t, s, "tend-token-a", "hab-token-b")
}

// A client hammering the control gateway with a wrong secret gets at most
// a log line a second, and the next line says how many were left out.
func TestAuthRefusalsLoggedAtBoundedRate(t *testing.T) {
	s := startSup(t, t.TempDir())
	c := ctl.NewClient(s.ctl, []byte("not-the-secret"))
	start := time.Now()
	const n = 300
	for range n {
		if _, err := c.Status(context.Background(), ""); api.KindOf(err) != api.Unauthorized {
			t.Fatalf("wrong secret: %v", err)
		}
	}
	elapsed := time.Since(start)
	lines := strings.Count(s.errOut.String(), "request refused")
	if max := int(elapsed/time.Second) + 2; lines > max {
		t.Errorf("%d refusals in %s logged %d lines; want at most %d", n, elapsed.Round(time.Millisecond), lines, max)
	}
	// Once the second is over, the next refusal's line counts the others:
	// refused again until the lines account for every refusal (the loop may
	// have crossed a second, leaving its last few counted by a later line).
	accounted := func() int {
		total := 0
		for _, m := range regexp.MustCompile(`request refused.*suppressed=([0-9]+)`).FindAllStringSubmatch(s.errOut.String(), -1) {
			k, _ := strconv.Atoi(m[1])
			total += k + 1
		}
		return total
	}
	suppressed := regexp.MustCompile(`request refused.*suppressed=([1-9][0-9]*)`)
	waitUntil(t, 10*time.Second, "refusal lines counting the suppressed ones", func() (bool, string) {
		if suppressed.MatchString(s.errOut.String()) && accounted() >= n {
			return true, ""
		}
		c.Status(context.Background(), "")
		return false, fmt.Sprintf("%d refusals accounted for, want at least %d:\n%s", accounted(), n, s.errOut.String())
	})
}

// An authenticated control request whose body never arrives is answered
// (408) once the body's time is up, instead of holding its connection.
func TestAuthBodyNeverSentTimesOut(t *testing.T) {
	root := t.TempDir()
	s := startSup(t, root)
	secret, err := ctl.ReadSecret(filepath.Join(root, "sup", "default"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.ctl)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /v1/svc/load HTTP/1.1\r\nHost: tend\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", secret)
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a request whose body never came (after %s): %v", time.Since(start).Round(time.Second), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
