package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type observation struct {
	pattern, method string
	code            int
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/{svc}/{group}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	return mux
}

func TestInstrument(t *testing.T) {
	var got []observation
	observe := func(pattern, method string, code int, d time.Duration) {
		if d < 0 {
			t.Errorf("negative duration %v", d)
		}
		got = append(got, observation{pattern, method, code})
	}
	h := Instrument(observe, Auth([][]byte{[]byte("tok")}, LimitBody(8, testMux())))
	cases := []struct {
		method, path, body string
		auth               bool
		want               observation
	}{
		{"GET", "/services/redis/default", "", true, observation{"GET /services/{svc}/{group}", "GET", 418}},
		{"HEAD", "/ok", "", true, observation{"GET /ok", "HEAD", 200}},
		{"GET", "/ok", "", true, observation{"GET /ok", "GET", 200}},
		{"GET", "/nope/123", "", true, observation{Unmatched, "GET", 404}},
		{"DELETE", "/ok", "", true, observation{Unmatched, "DELETE", 405}},
		{"BREW", "/ok", "", true, observation{Unmatched, "OTHER", 405}},
		{"GET", "/ok", "", false, observation{Unmatched, "GET", 401}},
		{"POST", "/echo", "0123456789", true, observation{"POST /echo", "POST", 413}},
		{"POST", "/echo", "01234567", true, observation{"POST /echo", "POST", 200}},
	}
	for _, c := range cases {
		got = nil
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.auth {
			r.Header.Set("X-API-Key", "tok")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s %s: observed %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
}

func TestInstrumentPanic(t *testing.T) {
	var got []observation
	h := Instrument(func(p, m string, code int, _ time.Duration) {
		got = append(got, observation{p, m, code})
	}, testMux())
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/panic", nil))
	}()
	want := observation{"GET /panic", "GET", 500}
	if len(got) != 1 || got[0] != want {
		t.Errorf("observed %+v, want %+v", got, want)
	}
}

func TestInstrumentNil(t *testing.T) {
	mux := testMux()
	if h := Instrument(nil, mux); h != http.Handler(mux) {
		t.Error("nil observe should return next unchanged")
	}
}

func TestInstrumentFlush(t *testing.T) {
	var code int
	h := Instrument(func(_, _ string, c int, _ time.Duration) { code = c },
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the recorder: %v", err)
			}
		}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed || code != 200 {
		t.Errorf("flushed %v, code %d", rec.Flushed, code)
	}
}

func TestLimitBody(t *testing.T) {
	h := LimitBody(4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		_, _ = w.Write(b)
	}))
	for body, want := range map[string]int{"": 200, "1234": 200, "12345": 413} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if rec.Code != want {
			t.Errorf("body %q: code %d, want %d", body, rec.Code, want)
		}
	}
	// A request built by hand may have no body at all.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, &http.Request{Method: "GET", Header: http.Header{}})
	if rec.Code != 200 {
		t.Errorf("nil body: code %d", rec.Code)
	}
}
