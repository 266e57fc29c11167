package httpgw

import (
	"html"
	"net/http"
	"strings"
)

// indexPage is the short HTML page of GET /, listing the routes (Habitat
// serves its API documentation there).
func indexPage(extra []string) response {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tend HTTP gateway</title></head>\n<body>\n")
	b.WriteString("<h1>tend HTTP gateway</h1>\n<p>Habitat-compatible read API; answers are JSON unless noted. Errors have empty bodies.</p>\n<ul>\n")
	for _, r := range routes {
		b.WriteString("<li><code>" + html.EscapeString(r.pattern) + "</code>: " + html.EscapeString(r.about) + "</li>\n")
	}
	for _, p := range extra {
		b.WriteString("<li><code>" + html.EscapeString(p) + "</code></li>\n")
	}
	b.WriteString("</ul>\n</body></html>\n")
	return newResponse(ctypeHTML, []byte(b.String()))
}

func (g *gateway) serveIndex(w http.ResponseWriter, r *http.Request) {
	g.index.write(w, r)
}
