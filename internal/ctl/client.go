package ctl

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
)

// ErrUnreachable is wrapped in every error that means the supervisor could
// not be talked to: nothing listens, the connection timed out or was lost
// before the answer was complete. The CLI exits 3 on it.
var ErrUnreachable = errors.New("supervisor not reachable")

const (
	defaultCtlPort = "9632"
	// dialTimeout is short: the gateway is usually on loopback, and a CLI
	// that hangs on a dead address is worse than one that says so.
	dialTimeout = 5 * time.Second
	// maxResponse bounds what is read from a supervisor (status of many
	// services included).
	maxResponse = 64 << 20
)

// Client talks to one supervisor's control gateway. It is safe for
// concurrent use and holds no idle connection between calls, so it needs no
// Close.
type Client struct {
	base   string // http://host:port or https://host:port
	addr   string
	secret []byte
	tls    bool
	hc     *http.Client
}

// NewClient returns a client for the gateway at addr (host[:port], port
// 9632 when left off) that presents secret over plain TCP.
func NewClient(addr string, secret []byte) *Client { return NewClientTLS(addr, secret, nil) }

// NewClientTLS is NewClient over TLS with tlsCfg (see ClientTLS); a nil
// tlsCfg means plain TCP. The secret is still sent: TLS says who the two
// ends are, the secret what this client may do, as in Habitat.
func NewClientTLS(addr string, secret []byte, tlsCfg *tls.Config) *Client {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(trimBrackets(addr), defaultCtlPort)
	}
	d := &net.Dialer{Timeout: dialTimeout}
	tr := &http.Transport{
		// Never through a proxy from HTTP_PROXY: the request carries the
		// secret, and the gateway is local or on a trusted network.
		Proxy:       nil,
		DialContext: d.DialContext,
		// One CLI run makes one or two calls; keeping connections would
		// only leave goroutines behind.
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
		// Bounded like the dial: a peer that accepts and never finishes
		// the handshake must not hang the CLI.
		TLSHandshakeTimeout: dialTimeout,
		// The transport fills in ServerName from the address when empty.
		TLSClientConfig: tlsCfg,
	}
	scheme := "http://"
	if tlsCfg != nil {
		scheme = "https://"
	}
	return &Client{
		base:   scheme + addr,
		addr:   addr,
		secret: bytes.Clone(secret),
		tls:    tlsCfg != nil,
		hc: &http.Client{
			Transport: tr,
			// The gateway never redirects; following one would hand the
			// secret to whoever answered.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// Load asks the supervisor to load a service. Progress lines are written to
// progress (nil: discarded) as they arrive, each ending in a newline.
func (c *Client) Load(ctx context.Context, req api.LoadRequest, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathLoad, nil, req, progress, nil)
}

// Unload stops a service and forgets it.
func (c *Client) Unload(ctx context.Context, pkg string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathUnload, nil, pkgRequest{Pkg: pkg}, progress, nil)
}

// Start starts a stopped service.
func (c *Client) Start(ctx context.Context, pkg string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathStart, nil, pkgRequest{Pkg: pkg}, progress, nil)
}

// Stop stops a service and keeps its spec.
func (c *Client) Stop(ctx context.Context, pkg string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathStop, nil, pkgRequest{Pkg: pkg}, progress, nil)
}

// Restart stops a running service and starts it again.
func (c *Client) Restart(ctx context.Context, pkg string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathRestart, nil, pkgRequest{Pkg: pkg}, progress, nil)
}

// Update changes a loaded service's options.
func (c *Client) Update(ctx context.Context, req api.UpdateRequest, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathUpdate, nil, req, progress, nil)
}

// Signal sends a signal to a service's run process.
func (c *Client) Signal(ctx context.Context, pkg, signal string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathSignal, nil, signalRequest{Pkg: pkg, Signal: signal}, progress, nil)
}

// Status returns the status of the service pkg names, or of every service
// when pkg is "".
func (c *Client) Status(ctx context.Context, pkg string) ([]api.ServiceStatus, error) {
	var q url.Values
	if pkg != "" {
		q = url.Values{"pkg": {pkg}}
	}
	var out []api.ServiceStatus
	err := c.do(ctx, http.MethodGet, pathStatus, q, nil, nil, &out)
	return out, err
}

// SetHealth sets (unhealthy true) or clears the manual unhealthy flag.
func (c *Client) SetHealth(ctx context.Context, unhealthy bool, reason string) error {
	return c.do(ctx, http.MethodPost, pathHealth, nil, healthRequest{Unhealthy: unhealthy, Reason: reason}, nil, nil)
}

// Stats returns the supervisor's own state.
func (c *Client) Stats(ctx context.Context) (api.Stats, error) {
	var out api.Stats
	err := c.do(ctx, http.MethodGet, pathStats, nil, nil, nil, &out)
	return out, err
}

// Term asks the supervisor to shut down. It returns once the supervisor has
// accepted, not once it has stopped.
func (c *Client) Term(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, pathTerm, nil, nil, nil, nil)
}

// Handover asks the supervisor to re-execute itself as binary ("": the
// tend binary it was started as). It returns once the hand-over has
// begun; the supervisor answers again once the new binary serves.
func (c *Client) Handover(ctx context.Context, binary string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathHandover, nil, handoverRequest{Binary: binary}, progress, nil)
}

// do sends one request and reads its NDJSON answer: progress lines to
// progress, the final line's result into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in any, progress io.Writer, out any) error {
	return c.call(ctx, method, path, q, in, progress, out, nil)
}

// call is do for any operation: item, when set, takes a streaming
// operation's items (and the answer is not bounded by maxResponse, as a
// followed stream has no end).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in any, progress io.Writer, out any, item func(*line)) error {
	if !validSecret(c.secret) {
		return errors.New("control-gateway secret is empty or holds characters a header cannot carry")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("control gateway request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+string(c.secret))
	req.Header.Set("Accept", contentTypeNDJSON)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if tlsErr := c.tlsError(err); tlsErr != nil {
			return tlsErr
		}
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if err := c.plainToTLS(resp); err != nil {
		return err
	}
	return c.read(ctx, resp, progress, out, item)
}

// transportError classifies a failure to get an answer at all. The caller
// giving up (context canceled) is not the supervisor's fault; everything
// else (refused, timed out, reset, no route) means it cannot be reached.
func (c *Client) transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop `Post "http://...":`, the address is named below
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("control gateway at %s: %w", c.addr, ctx.Err())
	}
	return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.addr, err)
}

// read consumes the answer: progress lines, then one final line.
func (c *Client) read(ctx context.Context, resp *http.Response, progress io.Writer, out any, item func(*line)) error {
	var body io.Reader = io.LimitReader(resp.Body, maxResponse)
	if item != nil {
		body = resp.Body
	}
	dec := json.NewDecoder(body)
	for n := 0; ; n++ {
		var l line
		if err := dec.Decode(&l); err != nil {
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			switch {
			case n == 0 && resp.StatusCode != http.StatusOK:
				// Not our protocol: the HTTP server's own answer (431, 400)
				// or something else listening on the port.
				return &api.Error{Kind: kindOf(resp.StatusCode), Msg: fmt.Sprintf("control gateway at %s answered %s", c.addr, resp.Status)}
			case errors.As(err, &syntax), errors.As(err, &typ):
				return fmt.Errorf("control gateway at %s: malformed answer: %w", c.addr, err)
			case errors.Is(ctx.Err(), context.Canceled):
				return fmt.Errorf("control gateway at %s: %w", c.addr, ctx.Err())
			case errors.Is(err, io.EOF):
				err = io.ErrUnexpectedEOF // the final line never came
			}
			return fmt.Errorf("%w at %s: connection lost before the operation finished (its outcome is unknown): %w", ErrUnreachable, c.addr, err)
		}
		switch {
		case item != nil && (l.Log != nil || l.Event != nil):
			item(&l)
		case l.Progress != nil:
			if progress != nil {
				// A closed terminal must not fail the operation itself.
				_, _ = io.WriteString(progress, *l.Progress+"\n")
			}
		case l.Error != nil:
			if l.Error.Kind == "" {
				l.Error.Kind = api.Internal
			}
			return l.Error
		case l.OK:
			if out != nil && len(l.Result) > 0 {
				if err := json.Unmarshal(l.Result, out); err != nil {
					return fmt.Errorf("control gateway at %s: malformed result: %w", c.addr, err)
				}
			}
			return nil
		default:
			return fmt.Errorf("control gateway at %s: malformed answer: a line that is neither progress nor final", c.addr)
		}
	}
}

// validSecret: visible ASCII only, which every secret tend makes is (base64)
// and which a header value can carry unchanged.
func validSecret(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, b := range s {
		if b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
}

// LogsRequest is what `svc logs` asks for.
type LogsRequest struct {
	Pkg    string
	Tail   int
	Follow bool
	Stream string // stdout, stderr or hooks; "" = all
}

// Logs calls each with the last lines of the service's output and, with
// Follow, with every line as it comes until ctx ends or the service goes.
func (c *Client) Logs(ctx context.Context, req LogsRequest, each func(api.LogLine)) error {
	q := url.Values{"pkg": {req.Pkg}, "tail": {strconv.Itoa(req.Tail)}}
	if req.Follow {
		q.Set("follow", "1")
	}
	if req.Stream != "" {
		q.Set("stream", req.Stream)
	}
	return c.call(ctx, http.MethodGet, pathLogs, q, nil, nil, nil, func(l *line) {
		if l.Log != nil {
			each(*l.Log)
		}
	})
}

// Events calls each with the events the supervisor still keeps after id
// after (0: all of them) and, with follow, with every event as it comes
// until ctx ends or the supervisor stops.
func (c *Client) Events(ctx context.Context, after uint64, follow bool, each func(events.Event)) error {
	q := url.Values{}
	if after > 0 {
		q.Set("last_event_id", strconv.FormatUint(after, 10))
	}
	if follow {
		q.Set("follow", "1")
	}
	return c.call(ctx, http.MethodGet, pathEvents, q, nil, nil, nil, func(l *line) {
		if l.Event != nil {
			each(*l.Event)
		}
	})
}
