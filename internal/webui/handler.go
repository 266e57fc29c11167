package webui

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
)

// Pattern is the ServeMux pattern of the page (GET answers HEAD too).
const Pattern = "GET /ui"

//go:embed ui.html
var page []byte

// Handler answers GET and HEAD with the page and a Content-Security-Policy
// that lets it run only its own inline style and script and talk only to
// its own origin.
func Handler() http.Handler {
	csp, err := policy(page)
	if err != nil {
		// The page is embedded at build time; a test covers it.
		panic(err)
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Revalidated on each load, so an upgraded supervisor's page is
		// never mixed with an old cached one.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(page)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(page)
	})
}

// policy builds the CSP of a page whose inline <style> and <script>
// elements are allowed by their SHA-256 hashes, so the CSP needs no
// 'unsafe-inline'. It finds them by plain search: every supervisor builds
// the policy as it starts, and a regular expression over the 21 KB page
// took 1.1 ms of it (BenchmarkPolicy; docs/BENCHMARKS.md, session 12).
func policy(html []byte) (string, error) {
	hashes := map[string]string{}
	for _, kind := range []string{"style", "script"} {
		body, rest, ok := element(html, kind)
		if !ok {
			return "", fmt.Errorf("webui: the page needs one <style> and one <script> element")
		}
		if _, _, dup := element(rest, kind); dup {
			return "", fmt.Errorf("webui: more than one <%s> element", kind)
		}
		sum := sha256.Sum256(body)
		hashes[kind] = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	if bytes.Contains(html, []byte(" style=")) {
		return "", fmt.Errorf("webui: style attributes are blocked by the policy")
	}
	return "default-src 'none'; script-src " + hashes["script"] + "; style-src " + hashes["style"] +
		"; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", nil
}

// element finds the first <kind>...</kind> element of html and returns its
// contents and what follows it.
func element(html []byte, kind string) (body, rest []byte, ok bool) {
	open, end := "<"+kind+">", "</"+kind+">"
	_, after, found := bytes.Cut(html, []byte(open))
	if !found {
		return nil, nil, false
	}
	body, rest, found = bytes.Cut(after, []byte(end))
	return body, rest, found
}

// Public serves the page itself, before anything else, and hands every
// other request to next (the listener's auth and routes). The page carries
// no data: what it shows comes from requests that need the token, so a
// browser, which cannot add a header to a navigation, can load it and then
// ask for the token. A nil page (the page turned off) returns next.
func Public(page, next http.Handler) http.Handler {
	if page == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ui" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			// For httpx.Instrument, which labels requests by pattern.
			r.Pattern = Pattern
			page.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
