package httpgw

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The benchmarks' clients run in a process of their own, as a host's
// clients would: in the server's process their reads would compete with
// the server in the same Go scheduler, and what is measured would be
// theirs as much as the server's. The test binary re-executes itself
// with benchClientEnv naming the part to play (see TestMain).
const (
	benchClientEnv = "TEND_BENCH_CLIENT" // "followers" or "services"
	benchURLEnv    = "TEND_BENCH_URL"
	benchNEnv      = "TEND_BENCH_FOLLOWERS"
)

// benchClient plays the part role names against the server at url and
// returns the process's exit code.
//
//   - followers: opens n /events streams, n-1 that read everything and one
//     that sends its request and never reads a byte; prints "ready" once
//     every stream has its response, then holds them until stdin closes.
//   - services: for every line read on stdin, GETs /services and prints
//     how long it took, in nanoseconds.
func benchClient(role, url string, n int) int {
	var err error
	switch role {
	case "followers":
		err = benchFollowers(url, n)
	case "services":
		err = benchServices(url)
	default:
		err = fmt.Errorf("unknown part %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench client:", err)
		return 1
	}
	return 0
}

func benchFollowers(url string, n int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n - 1 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", url+"/events", nil)
			resp, err := hc.Do(req)
			errs <- err
			if err != nil {
				return
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
		})
	}
	for range n - 1 {
		if err := <-errs; err != nil {
			return err
		}
	}
	stuck, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		return err
	}
	defer stuck.Close()
	if _, err := fmt.Fprintf(stuck, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	wg.Wait()
	return nil
}

func benchServices(url string) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		t0 := time.Now()
		resp, err := hc.Get(url + "/services")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return errors.New("GET /services: " + resp.Status)
		}
		fmt.Fprintln(out, time.Since(t0).Nanoseconds())
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return in.Err()
}

// clientProc is a running benchmark client process.
type clientProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startClient starts the test binary as a client playing role against
// url (with n followers for "followers"), at nice 19 (through nice(1),
// so that every thread of it is) when niced.
func startClient(tb testing.TB, role, url string, n int, niced bool) *clientProc {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if niced {
		cmd = exec.Command("nice", "-n", "19", os.Args[0], "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), benchClientEnv+"="+role, benchURLEnv+"="+url, benchNEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &clientProc{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	tb.Cleanup(p.stop)
	return p
}

// line is the client's next line of output.
func (p *clientProc) line(tb testing.TB) string {
	if !p.out.Scan() {
		tb.Fatalf("bench client %s ended: %v", p.cmd.Args[0], p.out.Err())
	}
	return p.out.Text()
}

// stop closes the client's stdin, which ends it, and waits for it.
func (p *clientProc) stop() {
	if p.in == nil {
		return
	}
	p.in.Close()
	p.in = nil
	_ = p.cmd.Wait()
}

// request has the services client GET /services once and returns how
// long that took.
func (p *clientProc) request(tb testing.TB) time.Duration {
	if _, err := io.WriteString(p.in, "\n"); err != nil {
		tb.Fatal(err)
	}
	ns, err := strconv.ParseInt(p.line(tb), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ns)
}
