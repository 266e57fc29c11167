package ctl

import (
	"net/http"
	"time"

	"github.com/tend-sh/tend/internal/httpx"
)

// Server limits. There is deliberately no ReadTimeout or WriteTimeout: both
// would cut a load that streams progress for minutes. Slow headers are cut
// by ReadHeaderTimeout before the secret is even checked; after that the
// client is authenticated, its body is bounded by bodyTimeout, each
// operation by opTimeout and each write by writeTimeout.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 60 * time.Second
)

// NewServer returns an http.Server for the control gateway handler h. The
// caller sets ErrorLog if it wants the server's own errors in its log, and
// runs Serve and Shutdown. For TLS (ServerTLS) the caller sets TLSConfig
// and serves a tls.NewListener: the server then bounds each handshake by
// readHeaderTimeout too.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           httpx.LimitHeaders(h),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    httpx.HeaderLimit, // with LimitHeaders: 431 over 16 KiB, as every listener
	}
}
