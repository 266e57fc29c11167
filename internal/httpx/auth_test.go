package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
}

func TestAuthNoTokensIsPassThrough(t *testing.T) {
	next := okHandler()
	for _, tokens := range [][][]byte{nil, {}, {[]byte("")}} {
		h := Auth(tokens, next)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("tokens %q: code %d, want 200", tokens, rec.Code)
		}
	}
}

func TestAuth(t *testing.T) {
	h := Auth([][]byte{[]byte("s3cret"), []byte("other-token"), []byte("")}, okHandler())
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"missing header", nil, 401},
		{"wrong scheme", map[string]string{"Authorization": "Basic s3cret"}, 401},
		{"lowercase bearer", map[string]string{"Authorization": "bearer s3cret"}, 401},
		{"uppercase bearer", map[string]string{"Authorization": "BEARER s3cret"}, 401},
		{"extra parts", map[string]string{"Authorization": "Bearer s3cret extra"}, 401},
		{"scheme only", map[string]string{"Authorization": "Bearer"}, 401},
		{"scheme and space", map[string]string{"Authorization": "Bearer "}, 401},
		{"token only", map[string]string{"Authorization": "s3cret"}, 401},
		{"wrong token", map[string]string{"Authorization": "Bearer s3cre"}, 401},
		{"longer token", map[string]string{"Authorization": "Bearer s3cret0"}, 401},
		{"wrong api key", map[string]string{"X-API-Key": "nope"}, 401},
		{"empty api key", map[string]string{"X-API-Key": ""}, 401},
		{"bearer as api key", map[string]string{"X-API-Key": "Bearer s3cret"}, 401},
		{"right bearer", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"right bearer, extra spaces", map[string]string{"Authorization": "Bearer   s3cret"}, 200},
		{"right bearer, tab", map[string]string{"Authorization": "Bearer\ts3cret"}, 200},
		{"second token", map[string]string{"Authorization": "Bearer other-token"}, 200},
		{"right api key", map[string]string{"X-API-Key": "s3cret"}, 200},
		{"second token as api key", map[string]string{"X-API-Key": "other-token"}, 200},
		{"wrong bearer, right key", map[string]string{"Authorization": "Bearer x", "X-API-Key": "s3cret"}, 200},
		{"right bearer, wrong key", map[string]string{"Authorization": "Bearer s3cret", "X-API-Key": "x"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/services", nil)
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != c.want {
				t.Fatalf("code %d, want %d", rec.Code, c.want)
			}
			if c.want == 401 {
				if rec.Body.Len() != 0 {
					t.Errorf("401 body %q, want empty", rec.Body.String())
				}
				if v := rec.Header().Get("WWW-Authenticate"); v != "" {
					t.Errorf("WWW-Authenticate %q, want none (as Habitat)", v)
				}
			}
		})
	}
}

func BenchmarkAuth(b *testing.B) {
	h := Auth([][]byte{[]byte("a"), []byte("b"), []byte("s3cret")}, okHandler())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer s3cret")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
