// Package webui serves tend's web page, GET /ui: one self-contained HTML
// file (style and script inline, nothing fetched from elsewhere) that shows
// the supervisor, its services and the ring, read from the JSON endpoints of
// the listener that serves it and kept current by /events.
//
// The page holds no data of its own, so it is served without auth: every
// request it makes carries the token the operator typed in, which it keeps
// in sessionStorage (for the tab) and sends in the Authorization header,
// never in a URL.
package webui
