package httpx

import (
	"log/slog"
	"net/http"
	"time"
)

// Limits of every tend listener. They cut off slow or oversized requests so a
// misbehaving client holds a connection for a bounded time only.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
)

// HeaderLimit is the documented limit of a request's line and headers;
// a request over it gets 431.
const HeaderLimit = 16 << 10

// MaxHeaderBytes is the http.Server setting that enforces HeaderLimit:
// net/http reads up to 4 KiB past MaxHeaderBytes (its read buffer's slack)
// before answering 431, and HTTP/2 allows as much more in a header list.
const MaxHeaderBytes = HeaderLimit - 4<<10

// NewServer returns an http.Server for h with tend's timeouts and header
// limit, whose internal errors (TLS handshakes, panics in handlers, accept
// errors) go to log at warning level. A nil log means slog.Default().
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
