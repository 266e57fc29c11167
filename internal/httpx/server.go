package httpx

import (
	"context"
	"log/slog"
	"net"
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

// LimitHeaders answers 431, with an empty body, to a request whose line and
// headers come to more than HeaderLimit bytes, and passes the others to
// next. http.Server's MaxHeaderBytes alone is not exact: HTTP/1 reads 4 KiB
// past it (its read buffer's slack) and HTTP/2 counts a header list its
// own way; set to HeaderLimit it stops only what is far over, before it is
// all read, and this handler the rest, the same way on both.
func LimitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerSize(r) > HeaderLimit {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerSize is the size of r's request line and headers as HTTP/1.1
// sends them.
func headerSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2 // net/http moves Host out of Header
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// NewServer returns an http.Server for h with tend's timeouts and header
// limit, whose internal errors (TLS handshakes, panics in handlers, accept
// errors) go to log at warning level. A nil log means slog.Default().
// Its long-lived responses (Stream) share one low-priority writer.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	fan := newFanOut()
	return &http.Server{
		// A Stream over plain TCP writes to the connection itself (see
		// Stream): it finds it, and the server's writer, here.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connInfo{conn: c, fan: fan})
		},
		Handler:           LimitHeaders(h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    HeaderLimit,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// connKey is the key of a connection's connInfo in its requests'
// contexts.
type connKey struct{}

// connInfo is the connection a request came on, and its server's writer
// of streams.
type connInfo struct {
	conn net.Conn
	fan  *fanOut
}
