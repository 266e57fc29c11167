package httpgw

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"

	"github.com/tend-sh/tend/internal/api"
)

// maxHookLog caps how much of each health-check log /health returns, so a
// chatty hook cannot make every request read a large file.
const maxHookLog = 64 << 10

// healthJSON is Habitat's HealthCheckBody.
type healthJSON struct {
	Status string `json:"status"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// serveHealth answers the last health check with the hook's output, read
// from its log files on each request: they are rewritten by every check,
// which is not always a new snapshot. Status: 200 OK and WARNING, 503
// CRITICAL, 500 UNKNOWN (also before the first check), as Habitat maps it.
func (g *gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	sc := g.lookup(w, r)
	if sc == nil {
		return
	}
	status := sc.svc.Health
	code := http.StatusOK
	switch status {
	case api.HealthOK, api.HealthWarning:
	case api.HealthCritical:
		code = http.StatusServiceUnavailable
	default:
		status, code = api.HealthUnknown, http.StatusInternalServerError
	}
	hook, _ := hookNamed(sc.svc.Hooks, "health-check")
	body := healthJSON{
		Status: string(status),
		Stdout: g.readHookLog(hook.StdoutPath),
		Stderr: g.readHookLog(hook.StderrPath),
	}
	b, err := marshal(body)
	if err != nil {
		g.log.Error("http gateway: encode health", "service_group", sc.svc.ServiceGroup, "err", err)
		failure.write(w, r)
		return
	}
	resp := newResponse(ctypeJSON, b)
	resp.code = code
	resp.write(w, r)
}

// readHookLog returns the last maxHookLog bytes of a hook's log file, or ""
// when there is no such file.
func (g *gateway) readHookLog(path string) string {
	if path == "" {
		return ""
	}
	s, err := tail(path, maxHookLog)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		g.log.Warn("http gateway: read health-check log", "path", path, "err", err)
	}
	return s
}

// tail reads at most the last n bytes of the file at path. The end is kept
// because hooks append: the latest output is there.
func tail(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open hook log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat hook log: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("hook log %s is not a regular file", path)
	}
	if off := info.Size() - n; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return "", fmt.Errorf("seek hook log: %w", err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return "", fmt.Errorf("read hook log: %w", err)
	}
	return string(b), nil
}
