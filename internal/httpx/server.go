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
	maxHeaderBytes    = 16 << 10
)

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
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
