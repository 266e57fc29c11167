package httpx

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

func TestNewServerLimits(t *testing.T) {
	var buf bytes.Buffer
	srv := NewServer(okHandler(), slog.New(slog.NewTextHandler(&buf, nil)))
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 10*time.Second ||
		srv.WriteTimeout != 30*time.Second || srv.IdleTimeout != 60*time.Second ||
		srv.MaxHeaderBytes != 16<<10 {
		t.Errorf("limits: %+v", srv)
	}
	srv.ErrorLog.Print("http: TLS handshake error")
	if !bytes.Contains(buf.Bytes(), []byte("level=WARN")) || !bytes.Contains(buf.Bytes(), []byte("TLS handshake error")) {
		t.Errorf("ErrorLog did not reach slog: %q", buf.String())
	}
}
