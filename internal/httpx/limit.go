package httpx

import "net/http"

// LimitBody caps how many bytes of a request body next may read; reading
// past n fails and the server answers 413 if nothing was written yet.
func LimitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Work on a shallow copy, as http.MaxBytesHandler does, so the caller's
		// request is left as it came...
		r2 := *r
		body := r.Body
		if body == nil {
			body = http.NoBody
		}
		r2.Body = http.MaxBytesReader(w, body, n)
		next.ServeHTTP(w, &r2)
		// ...but hand back the pattern an inner ServeMux matched on the copy,
		// so an outer Instrument still labels the request by its route.
		notePattern(r, r2.Pattern)
	})
}
