package httpx

import (
	"net/http"
	"time"
)

// Unmatched is the pattern Instrument reports for requests no ServeMux
// pattern matched (unknown routes, wrong methods, rejected before routing).
const Unmatched = "unmatched"

// Instrument calls observe once after each request with the ServeMux pattern
// that served it, the method, the status code sent and the time taken. It
// never reports the raw path, whose values are unbounded (metrics labels).
//
// The pattern is the one the innermost ServeMux under next stored in the
// request (http.Request.Pattern). ServeMux writes it into the *Request it is
// given, so middleware between Instrument and the mux must pass the request
// on as it is, or hand the pattern back as LimitBody does. Methods outside
// the standard set are reported as "OTHER" for the same cardinality reason.
// A nil observe returns next unchanged.
func Instrument(observe func(pattern, method string, code int, d time.Duration), next http.Handler) http.Handler {
	if observe == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// A panicking handler is still counted; net/http answers 500 if
			// nothing was written, so that is what the client sees.
			p := recover()
			code := rec.code
			if code == 0 {
				code = http.StatusOK
				if p != nil {
					code = http.StatusInternalServerError
				}
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = Unmatched
			}
			observe(pattern, methodLabel(r.Method), code, time.Since(start))
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// notePattern hands a pattern matched on a copy of r back to r, for
// middleware that has to copy the request.
func notePattern(r *http.Request, pattern string) {
	if pattern != "" {
		r.Pattern = pattern
	}
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions,
		http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the final status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	// 1xx responses are informational; the final code comes later.
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush keeps streaming responses working through the wrapper.
func (s *statusRecorder) Flush() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	// Best effort, like http.Flusher, which has no error to return either.
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
