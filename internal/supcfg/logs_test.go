package supcfg

import (
	"strings"
	"testing"
)

func TestServiceLogLimits(t *testing.T) {
	c, err := loadLayers(t, layers{})
	if err != nil {
		t.Fatal(err)
	}
	if c.LogMaxBytes != 10<<20 || c.LogBackups != 5 {
		t.Errorf("defaults %d/%d; want supervisord's 10 MiB and 5", c.LogMaxBytes, c.LogBackups)
	}
	c, err = loadLayers(t, layers{
		args: []string{"--service-log-max-bytes", "64KiB"},
		env:  map[string]string{"TEND_SERVICE_LOG_BACKUPS": "2"},
		file: `
services:
  - pkg: core/redis
    log_max_bytes: 1MB
    log_backups: 0
  - pkg: core/web
`})
	if err != nil {
		t.Fatal(err)
	}
	if c.LogMaxBytes != 64<<10 || c.LogBackups != 2 {
		t.Errorf("got %d/%d; want 64 KiB and 2", c.LogMaxBytes, c.LogBackups)
	}
	r, w := c.Services[0], c.Services[1]
	if r.LogMaxBytes == nil || *r.LogMaxBytes != 1e6 || r.LogBackups == nil || *r.LogBackups != 0 {
		t.Errorf("redis: %v %v", r.LogMaxBytes, r.LogBackups)
	}
	if w.LogMaxBytes != nil || w.LogBackups != nil {
		t.Errorf("web: limits given where none were")
	}
}

func TestServiceLogLimitsRefused(t *testing.T) {
	for _, c := range []struct {
		l    layers
		want string
	}{
		{layers{args: []string{"--service-log-max-bytes", "2TiB"}}, "--service-log-max-bytes: 2TiB is over the limit of 1TiB"},
		{layers{args: []string{"--service-log-backups", "1001"}}, "--service-log-backups: 1001 is over the limit of 1000"},
		{layers{env: map[string]string{"TEND_SERVICE_LOG_MAX_BYTES": "ten"}}, "not a size"},
		{layers{file: "services:\n  - pkg: core/redis\n    log_backups: -1\n"}, "log_backups"},
		{layers{file: "services:\n  - pkg: core/redis\n    log_backups: 5000\n"}, "over the limit of 1000"},
		{layers{file: "services:\n  - pkg: core/redis\n    log_max_bytes: 5PB\n"}, "log_max_bytes"},
	} {
		_, err := loadLayers(t, c.l)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want an error with %q", c.l, err, c.want)
		}
	}
}
