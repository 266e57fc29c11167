package e2e

// A real browser for the web page's tests: Debian's headless Chromium,
// driven over the Chrome DevTools Protocol (CDP) on its debugging port.
// Only the handful of CDP methods the tests need are used, each as one
// request and its answer over the page's WebSocket.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// browser is one headless Chromium with one page (tab).
type browser struct {
	t      *testing.T
	cmd    *exec.Cmd
	ws     *websocket.Conn
	nextID int
	stderr *syncBuf
	// problems are the page's uncaught exceptions and what the browser
	// blocked (Content-Security-Policy violations), seen among the events.
	problems []string
}

// startBrowser runs Chromium with a fresh profile and connects to its first
// page. Cleanup kills Chromium's whole process group (it forks renderers,
// a GPU process, zygotes) and removes the profile.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	gwRequireTool(t, "chromium")
	profile, err := os.MkdirTemp("", "tend-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-component-update", "--disable-default-apps", "--mute-audio",
		"--password-store=basic", "--use-mock-keychain",
		"--user-data-dir=" + profile,
		// Port 0: Chromium picks a free one and writes it to
		// DevToolsActivePort in the profile, so parallel tests never race
		// for a port.
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		// Chromium refuses WebSocket clients that send an Origin it was not
		// told about; this one listens on loopback only.
		"--remote-allow-origins=*",
		"--window-size=1280,900",
	}
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		args = append(args, "--no-sandbox")
	}
	b := &browser{t: t, stderr: &syncBuf{}}
	b.cmd = exec.Command("chromium", append(args, "about:blank")...)
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(profile)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.ws != nil {
			b.ws.Close()
		}
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		b.cmd.Wait()
		os.RemoveAll(profile)
		if t.Failed() {
			// Without a session bus Chromium complains about D-Bus at
			// every turn; those lines say nothing about the test.
			var keep []string
			for _, l := range strings.Split(b.stderr.String(), "\n") {
				if !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			t.Logf("chromium output:\n%s", strings.Join(keep, "\n"))
		}
	})

	var port string
	waitUntil(t, 30*time.Second, "chromium's DevToolsActivePort", func() (bool, string) {
		data, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if err != nil || !strings.Contains(string(data), "\n") {
			return false, b.stderr.String()
		}
		port = strings.SplitN(string(data), "\n", 2)[0]
		return true, ""
	})
	var targets []struct{ Type, WebSocketDebuggerURL string }
	waitUntil(t, 30*time.Second, "chromium's page target", func() (bool, string) {
		resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		targets = nil
		if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
			return false, err.Error()
		}
		for _, tg := range targets {
			if tg.Type == "page" {
				return true, ""
			}
		}
		return false, fmt.Sprint(targets)
	})
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := websocket.Dial(tg.WebSocketDebuggerURL, "", "http://127.0.0.1/")
			if err != nil {
				t.Fatalf("connect to chromium's page: %v", err)
			}
			b.ws = ws
			b.call("Runtime.enable", nil, nil)
			b.call("Log.enable", nil, nil)
			break
		}
	}
	return b
}

// call sends one CDP command and returns its result, skipping the events
// that arrive in between (none is enabled, but Chromium may send some).
func (b *browser) call(method string, params any, result any) {
	b.t.Helper()
	b.nextID++
	id := b.nextID
	if params == nil {
		params = struct{}{}
	}
	b.ws.SetDeadline(time.Now().Add(30 * time.Second))
	if err := websocket.JSON.Send(b.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		b.t.Fatalf("CDP %s: %v", method, err)
	}
	for {
		var msg struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(b.ws, &msg); err != nil {
			b.t.Fatalf("CDP %s: %v", method, err)
		}
		if msg.ID != id {
			b.note(msg.Method, msg.Params)
			continue
		}
		if msg.Error != nil {
			b.t.Fatalf("CDP %s: %s", method, msg.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(msg.Result, result); err != nil {
				b.t.Fatalf("CDP %s: %v", method, err)
			}
		}
		return
	}
}

// note keeps the events that tell of a problem in the page.
func (b *browser) note(method string, params json.RawMessage) {
	switch method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(params, &p)
		b.problems = append(b.problems, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Source, Level, Text string } `json:"entry"`
		}
		json.Unmarshal(params, &p)
		if p.Entry.Source == "security" || p.Entry.Source == "javascript" {
			b.problems = append(b.problems, p.Entry.Source+": "+p.Entry.Text)
		}
	}
}

// navigate loads url in the page and waits until its document has loaded.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	waitFor(b.t, 30*time.Second, "page "+url+" loaded", func() bool {
		return b.eval(`document.readyState === 'complete' && location.href`) == url
	})
}

// eval evaluates a JavaScript expression in the page (awaiting it if it
// is a promise) and returns its value as JSON would decode it.
func (b *browser) eval(expr string) any {
	b.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	return r.Result.Value
}

// evalString is eval of an expression whose value is a string ("" for null).
func (b *browser) evalString(expr string) string {
	b.t.Helper()
	s, _ := b.eval(expr).(string)
	return s
}

// screenshot saves a PNG of what the page shows into the test's artifact
// directory (kept with go test -artifacts) and logs where.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(b.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// viewport makes the page lay itself out as on a screen of that size; a
// mobile one as on a phone.
func (b *browser) viewport(width, height int, mobile bool) {
	b.t.Helper()
	scale := 1
	if mobile {
		scale = 2
	}
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile,
	}, nil)
}
