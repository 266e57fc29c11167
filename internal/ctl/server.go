package ctl

import (
	"net/http"
	"time"
)

// Server limits. There is deliberately no ReadTimeout or WriteTimeout: both
// would cut a load that streams progress for minutes. Slow headers are cut
// by ReadHeaderTimeout before the secret is even checked; after that the
// client is authenticated, and each operation is bounded by opTimeout and
// each write by writeTimeout.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// NewServer returns an http.Server for the control gateway handler h. The
// caller sets ErrorLog if it wants the server's own errors in its log, and
// runs Serve and Shutdown.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}
