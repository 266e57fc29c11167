package ctl

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// Controller is what the gateway needs from the supervisor. Methods may be
// called concurrently, one call per request.
//
// progress sends a line to the waiting CLI. It never blocks (lines are
// queued and written by the gateway), may be called from any goroutine, and
// does nothing once the method has returned.
//
// Errors should be *api.Error (api.Errorf) to tell the CLI what went wrong;
// anything else reaches it as an internal error. ctx ends when the
// operation's time is up (5 minutes), not when the CLI goes away: an
// operation that started runs to its end, as it would in Habitat.
type Controller interface {
	Load(ctx context.Context, req api.LoadRequest, progress func(string)) error
	Unload(ctx context.Context, pkg string, progress func(string)) error
	Start(ctx context.Context, pkg string, progress func(string)) error
	Stop(ctx context.Context, pkg string, progress func(string)) error
	// Restart stops a running service and starts it again.
	Restart(ctx context.Context, pkg string, progress func(string)) error
	// Update changes a loaded service's options (svc update).
	Update(ctx context.Context, req api.UpdateRequest, progress func(string)) error
	// Signal sends the named signal (HUP, SIGUSR1, 10) to the service's
	// run process.
	Signal(ctx context.Context, pkg, signal string, progress func(string)) error
	// Status of the service pkg names, or of all services when pkg is "".
	Status(ctx context.Context, pkg string) ([]api.ServiceStatus, error)
	SetHealth(ctx context.Context, unhealthy bool, reason string) error
	Stats(ctx context.Context) (api.Stats, error)
	// Handover re-executes the supervisor as binary ("": the tend binary
	// it was started as), keeping its pid, services and listeners. It
	// returns once the binary passed its check and the hand-over has
	// begun (the gateway answers, then closes), or with why not.
	Handover(ctx context.Context, binary string, progress func(string)) error
	// Term begins the supervisor's shutdown and returns; it must not wait for
	// the shutdown, which would close this gateway before it could answer.
	Term(ctx context.Context) error
	// ConfigApply, FileUpload and Depart act through the gossip ring,
	// which every supervisor has.
	ConfigApply(ctx context.Context, req api.ConfigApply, progress func(string)) error
	FileUpload(ctx context.Context, req api.FileUpload, progress func(string)) error
	Depart(ctx context.Context, memberID string, progress func(string)) error
}

const (
	// maxBody bounds a request body unless the operation says otherwise.
	maxBody = 1 << 20
	// opTimeout bounds one operation. The server has no write timeout (a
	// load streams progress for as long as it takes), so this is what stops
	// a stuck operation from holding its connection forever.
	opTimeout = 5 * time.Minute
	// bodyTimeout bounds reading the body once the headers (and secret)
	// are in: the server has no ReadTimeout (see server.go), so without it
	// a client that never sends the body it announced would hold its
	// connection and goroutine for good.
	bodyTimeout = 10 * time.Second
)

// handler serves the control gateway.
type handler struct {
	c      Controller
	digest [sha256.Size]byte // of the secret; see authorized
	noKey  bool              // no secret configured: refuse everything
	log    *slog.Logger
	ops    map[string]op
	// refused rate-limits the log line of a refused request, so a client
	// hammering with a wrong secret cannot fill the log.
	refused     rateLimiter
	bodyTimeout time.Duration
}

// NewHandler returns the control gateway's handler. Every request must carry
// secret as `Authorization: Bearer SECRET`; with an empty secret every
// request is refused. log may be nil.
func NewHandler(c Controller, secret []byte, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{c: c, digest: sha256.Sum256(secret), noKey: len(secret) == 0, log: log, ops: operations(),
		refused: rateLimiter{every: time.Second, now: time.Now}, bodyTimeout: bodyTimeout}
	if h.noKey {
		log.Error("control gateway has no secret: every request will be refused")
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The secret comes first: an unauthenticated request learns nothing,
	// not even which paths exist, and its body is never read.
	if !h.authorized(r) {
		if ok, suppressed := h.refused.allow(); ok {
			h.log.Warn("control gateway: request refused, wrong or missing secret", "remote", r.RemoteAddr, "suppressed", suppressed)
		}
		// Closing the connection spares the server draining a body it
		// would otherwise read to reuse the connection.
		w.Header().Set("Connection", "close")
		writeFinal(w, http.StatusUnauthorized, errorLine{&api.Error{Kind: api.Unauthorized, Msg: "wrong or missing control-gateway secret"}})
		return
	}

	if h.serveStream(w, r) {
		return
	}
	o, ok := h.ops[r.URL.Path]
	if !ok {
		writeFinal(w, http.StatusNotFound, errorLine{&api.Error{Kind: api.NotFound, Msg: fmt.Sprintf("no operation %s on this supervisor", r.URL.Path)}})
		return
	}
	if r.Method != o.method {
		w.Header().Set("Allow", o.method)
		writeFinal(w, http.StatusMethodNotAllowed, errorLine{&api.Error{Kind: api.BadRequest, Msg: fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, o.method)}})
		return
	}

	limit := o.maxBody
	if limit == 0 {
		limit = maxBody
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(h.bodyTimeout)) // fails only where there is no deadline to set
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeFinal(w, http.StatusRequestEntityTooLarge, errorLine{&api.Error{Kind: api.TooLarge, Msg: fmt.Sprintf("request body larger than %d bytes", limit)}})
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			writeFinal(w, http.StatusRequestTimeout, errorLine{&api.Error{Kind: api.BadRequest, Msg: fmt.Sprintf("request body not received within %s", h.bodyTimeout)}})
			return
		}
		writeFinal(w, http.StatusBadRequest, errorLine{&api.Error{Kind: api.BadRequest, Msg: fmt.Sprintf("reading request body: %v", err)}})
		return
	}

	// The operation outlives the request's context on purpose (see
	// Controller), bounded by opTimeout instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	s := newStream(w)
	start := time.Now()
	result, err := h.run(ctx, o, input{body: body, query: r.URL.Query()}, s.progress)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = api.Errorf(api.Internal, "%s did not finish within %s: %v", r.URL.Path, opTimeout, err)
	}
	s.finish(result, err)
	h.logDone(r, body, time.Since(start), err)
}

// authorized reports whether r carries the secret. The comparison is of
// SHA-256 digests, so its time depends neither on where a wrong secret
// differs nor on its length.
func (h *handler) authorized(r *http.Request) bool {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return false
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], h.digest[:]) == 1 && !h.noKey
}

// run calls the operation, turning a panic into an internal error: a bug
// behind one request must not take the supervisor down.
func (h *handler) run(ctx context.Context, o op, in input, progress func(string)) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("control gateway: operation panicked", "panic", p, "stack", string(debug.Stack()))
			result, err = nil, api.Errorf(api.Internal, "internal error: %v", p)
		}
	}()
	return o.run(ctx, h.c, in, progress)
}

// logDone logs every operation once, as it ends: what was asked (the
// operation and the service or member it names), by whom (the client's
// address: the CLI on this host connects from loopback), and how it ended.
// The secret and pushed config or file contents are never logged.
func (h *handler) logDone(r *http.Request, body []byte, d time.Duration, err error) {
	attrs := []any{"op", strings.TrimPrefix(r.URL.Path, "/v1/"), "remote", r.RemoteAddr}
	var target struct {
		Pkg          string `json:"pkg"`
		Signal       string `json:"signal"`
		ServiceGroup string `json:"service_group"`
		MemberID     string `json:"member_id"`
	}
	_ = json.Unmarshal(body, &target) // what a request names, when it is JSON
	if target.Pkg == "" {
		target.Pkg = r.URL.Query().Get("pkg")
	}
	for _, kv := range [][2]string{{"pkg", target.Pkg}, {"signal", target.Signal}, {"service_group", target.ServiceGroup}, {"member", target.MemberID}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	attrs = append(attrs, "duration", d.Round(time.Microsecond))
	switch k := api.KindOf(err); {
	case err == nil:
		h.log.Info("control operation done", attrs...)
	case k == api.Internal:
		h.log.Error("control operation failed", append(attrs, "err", err)...)
	default:
		h.log.Info("control operation refused", append(attrs, "kind", string(k), "err", err)...)
	}
}

// input is what an operation gets from its request.
type input struct {
	body  []byte
	query url.Values
}
