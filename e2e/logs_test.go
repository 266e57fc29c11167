package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// fifoService is a package whose run hook prints, on stdout, each line
// written to the FIFO the test holds open, and copies it to stderr
// prefixed "err:"; its health check prints "checked".
func fifoService(t *testing.T, name string) (pkg string, fifo *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.fifo")
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	// O_RDWR: opening does not wait for a reader, and the service never
	// sees end of file while the test holds it.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	pkg = pkgDir(t, map[string]string{
		"IDENT":              "test/" + name + "/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nwhile IFS= read -r l; do echo \"$l\"; echo \"err:$l\" >&2; done < " + path + "\n",
		"hooks/health-check": "#!/bin/sh\necho checked\nexit 0\n",
	})
	return pkg, f
}

// svcLogsFollow runs `tend svc logs PKG -f ...` and sends each line it
// prints, with when it was read.
type printed struct {
	line string
	at   time.Time
}

func svcLogsFollow(t *testing.T, s *sup, args ...string) <-chan printed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	full := append(append([]string{"svc", "logs"}, args...), "-f", "--remote-sup", s.ctl)
	cmd := exec.CommandContext(ctx, tendBin(), full...)
	cmd.Env = append(os.Environ(), "TEND_ROOT="+s.root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan printed, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- printed{sc.Text(), time.Now()}
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cmd.Wait()
	})
	return ch
}

func nextPrinted(t *testing.T, ch <-chan printed, want string) printed {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatalf("svc logs -f ended before printing %q", want)
			}
			if strings.HasSuffix(p.line, want) {
				return p
			}
		case <-deadline:
			t.Fatalf("svc logs -f did not print %q", want)
		}
	}
}

// svc logs -f prints a line the service writes within 200 ms, marked with
// its time and stream.
func TestSvcLogsFollowPrintsNewLinesAtOnce(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	pkg, fifo := fifoService(t, "logfollow")
	s.mustTend("svc", "load", pkg)
	fmt.Fprintln(fifo, "before")
	waitFor(t, 10*time.Second, "the first line in svc logs", func() bool {
		return strings.Contains(s.mustTend("svc", "logs", "logfollow"), "stdout: before")
	})
	ch := svcLogsFollow(t, s, "logfollow", "-n", "1", "--stream", "stdout")
	nextPrinted(t, ch, "stdout: before") // the tail: following from here on
	for i := range 5 {
		line := fmt.Sprintf("line-%d", i)
		wrote := time.Now()
		fmt.Fprintln(fifo, line)
		p := nextPrinted(t, ch, "stdout: "+line)
		d := p.at.Sub(wrote)
		t.Logf("%s printed %s after it was written", line, d)
		if d > 200*time.Millisecond {
			t.Errorf("%s printed %s after it was written; want within 200ms", line, d)
		}
		stamp, err := time.ParseInLocation("2006-01-02 15:04:05.000", p.line[:23], time.Local)
		if err != nil || stamp.Before(wrote.Add(-time.Second)) || stamp.After(p.at.Add(time.Second)) {
			t.Errorf("line %q: time %v (%v), written at %v", p.line, stamp, err, wrote)
		}
	}
}

// The gateway's /logs: the last N lines with time and stream, filtered by
// stream, hooks' output included; and 404 with --redact.
func TestGatewayLogsTailAndStreams(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	pkg, fifo := fifoService(t, "loggw")
	s.mustTend("svc", "load", pkg, "--health-check-interval", "1")
	for i := range 5 {
		fmt.Fprintf(fifo, "out-%d\n", i)
	}
	var lines []api.LogLine
	waitUntil(t, 10*time.Second, "stdout, stderr and the health check's output", func() (bool, string) {
		lines = decodeLines(t, c.get("/services/loggw/default/logs?tail=1000", 200))
		seen := map[string]bool{}
		for _, l := range lines {
			seen[l.Stream+":"+l.Text] = true
		}
		return seen["stdout:out-4"] && seen["stderr:err:out-4"] && seen["hooks:checked"], fmt.Sprint(lines)
	})
	for _, l := range lines {
		if l.At.IsZero() || (l.Stream == api.StreamHooks) != (l.Hook == "health-check") {
			t.Errorf("line %+v: want a time, and the hook named on hooks lines", l)
		}
	}
	got := decodeLines(t, c.get("/services/loggw/default/logs?tail=2&stream=stdout", 200))
	if len(got) != 2 || got[0].Text != "out-3" || got[1].Text != "out-4" {
		t.Errorf("tail=2 of stdout: %+v", got)
	}
	if r := c.do("GET", "/services/loggw/default/logs?stream=nope"); r.code != 400 {
		t.Errorf("stream=nope: %d", r.code)
	}
	if r := c.do("GET", "/services/nope/default/logs"); r.code != 404 {
		t.Errorf("an unknown service's logs: %d", r.code)
	}
}

func TestGatewayLogsHiddenWithRedact(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir(), "--redact")
	s.mustTend("svc", "load", sleeper(t, "logredact", uniqueTag()))
	if r := c.do("GET", "/services/logredact/default/logs"); r.code != 404 {
		t.Errorf("/logs with --redact: %d; want 404", r.code)
	}
}

func decodeLines(t *testing.T, body []byte) []api.LogLine {
	t.Helper()
	var out []api.LogLine
	dec := json.NewDecoder(strings.NewReader(string(body)))
	for dec.More() {
		var l api.LogLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%v in %q", err, body)
		}
		out = append(out, l)
	}
	return out
}
