package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/tend-sh/tend/internal/api"
)

// op is one operation of the gateway. Adding one takes an entry in
// operations, a Client method and a Controller method.
type op struct {
	method string
	// maxBody overrides the default body limit (1 MiB), e.g. for a file
	// upload whose content limit plus JSON overhead differs.
	maxBody int64
	// run performs the operation. Its result is encoded as the final line's
	// "result"; nil encodes as null.
	run func(ctx context.Context, c Controller, in input, progress func(string)) (any, error)
}

// maxReason bounds the reason of `tend health set`: it is shown on
// /healthy and in /status, not a place for a file.
const maxReason = 1 << 10

// checkedOp is an operation on a package whose request checks itself
// (svc load, svc update): pkg is required, and what Check refuses is a bad
// request.
func checkedOp[R interface{ Check() error }](pkgOf func(R) string, f func(Controller, context.Context, R, func(string)) error) op {
	return op{method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
		req, err := decode[R](in.body)
		if err != nil {
			return nil, err
		}
		if pkgOf(req) == "" {
			return nil, api.Errorf(api.BadRequest, "pkg is required")
		}
		if err := req.Check(); err != nil {
			return nil, api.Errorf(api.BadRequest, "%v", err)
		}
		return nil, f(c, ctx, req, progress)
	}}
}

func operations() map[string]op {
	pkgOp := func(f func(Controller, context.Context, string, func(string)) error) op {
		return op{method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[pkgRequest](in.body)
			if err != nil {
				return nil, err
			}
			if req.Pkg == "" {
				return nil, api.Errorf(api.BadRequest, "pkg is required")
			}
			return nil, f(c, ctx, req.Pkg, progress)
		}}
	}
	ops := map[string]op{
		pathLoad:    checkedOp(func(r api.LoadRequest) string { return r.Pkg }, Controller.Load),
		pathUpdate:  checkedOp(func(r api.UpdateRequest) string { return r.Pkg }, Controller.Update),
		pathUnload:  pkgOp(Controller.Unload),
		pathStart:   pkgOp(Controller.Start),
		pathStop:    pkgOp(Controller.Stop),
		pathRestart: pkgOp(Controller.Restart),
		pathSignal: {method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[signalRequest](in.body)
			if err != nil {
				return nil, err
			}
			if req.Pkg == "" || req.Signal == "" {
				return nil, api.Errorf(api.BadRequest, "pkg and signal are required")
			}
			return nil, c.Signal(ctx, req.Pkg, req.Signal, progress)
		}},
		pathStatus: {method: http.MethodGet, run: func(ctx context.Context, c Controller, in input, _ func(string)) (any, error) {
			st, err := c.Status(ctx, in.query.Get("pkg"))
			if st == nil {
				st = []api.ServiceStatus{} // "no services" is [], not null
			}
			return st, err
		}},
		pathHealth: {method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, _ func(string)) (any, error) {
			req, err := decode[healthRequest](in.body)
			if err != nil {
				return nil, err
			}
			if len(req.Reason) > maxReason {
				return nil, api.Errorf(api.BadRequest, "reason longer than %d bytes", maxReason)
			}
			return nil, c.SetHealth(ctx, req.Unhealthy, req.Reason)
		}},
		pathStats: {method: http.MethodGet, run: func(ctx context.Context, c Controller, _ input, _ func(string)) (any, error) {
			st, err := c.Stats(ctx)
			return st, err
		}},
		pathHandover: {method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[handoverRequest](in.body)
			if err != nil {
				return nil, err
			}
			return nil, c.Handover(ctx, req.Binary, progress)
		}},
		pathTerm: {method: http.MethodPost, run: func(ctx context.Context, c Controller, _ input, _ func(string)) (any, error) {
			return nil, c.Term(ctx)
		}},
	}
	for path, o := range ringOps() {
		ops[path] = o
	}
	return ops
}

// decode reads a request body strictly: unknown fields are refused, so a
// newer CLI asking for something this supervisor does not know gets an
// error instead of having the request silently narrowed. An empty body is
// the zero value.
func decode[T any](body []byte) (T, error) {
	var v T
	if len(bytes.TrimSpace(body)) == 0 {
		return v, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, api.Errorf(api.BadRequest, "request body: %v", err)
	}
	if dec.More() {
		return v, api.Errorf(api.BadRequest, "request body: more than one JSON value")
	}
	return v, nil
}
