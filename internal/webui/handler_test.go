package webui

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The policy allows exactly the page's inline style and script, by hash: a
// browser runs the page only if these hashes are those of what it received.
func TestHandlerPolicyMatchesThePage(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/ui", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /ui: %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	csp := rec.Header().Get("Content-Security-Policy")
	for _, kind := range []string{"style", "script"} {
		m := regexp.MustCompile(`(?s)<` + kind + `>(.*?)</` + kind + `>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no <%s> in the page", kind)
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := kind + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("policy allows unsafe sources: %q", csp)
	}
	// Self-contained: nothing is loaded from another origin.
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(body) {
		t.Error("the page refers to another origin")
	}
}

func TestHandlerHeadAndRevalidation(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/ui", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != strconv.Itoa(len(page)) {
		t.Errorf("HEAD /ui: %d, %d body bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/ui", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("GET /ui with its ETag: %d with %d bytes, want 304 and no body", rec.Code, rec.Body.Len())
	}
}

// The page is served without a token; everything else still goes through
// what Public wraps (auth).
func TestPublicServesOnlyThePage(t *testing.T) {
	denied := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	h := Public(Handler(), denied)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/ui", 200},
		{"HEAD", "/ui", 200},
		{"GET", "/ui?x=1", 200},
		{"POST", "/ui", 401},
		{"GET", "/ui/", 401},
		{"GET", "/services", 401},
		{"GET", "/", 401},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.want)
		}
		if c.want == 200 && req.Pattern != Pattern {
			t.Errorf("%s %s: pattern %q, want %q (for the request metrics)", c.method, c.path, req.Pattern, Pattern)
		}
	}
}

func TestPolicyRefusesWhatItCannotHash(t *testing.T) {
	for name, html := range map[string]string{
		"no script":       `<style>a{}</style>`,
		"two scripts":     `<style>a{}</style><script>1</script><script>2</script>`,
		"style attribute": `<style>a{}</style><script>1</script><p style="color:red">`,
		"unclosed script": `<style>a{}</style><script>1`,
	} {
		if _, err := policy([]byte(html)); err == nil {
			t.Errorf("%s: policy accepted it", name)
		}
	}
}

func TestPublicWithoutThePage(t *testing.T) {
	denied := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	rec := httptest.NewRecorder()
	Public(nil, denied).ServeHTTP(rec, httptest.NewRequest("GET", "/ui", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /ui with the page turned off: %d, want what the listener answers (401)", rec.Code)
	}
}

// BenchmarkPolicy is what building the page's policy costs every
// supervisor's start.
func BenchmarkPolicy(b *testing.B) {
	for b.Loop() {
		if _, err := policy(page); err != nil {
			b.Fatal(err)
		}
	}
}
