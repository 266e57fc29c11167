package spec

import (
	"strings"
	"testing"
)

// The log limits are tend's own keys: absent from a spec that does not
// set them (a Habitat spec file reads and writes as before), kept when set.
func TestLogLimitsRoundTrip(t *testing.T) {
	s := New("core/redis")
	if b := string(s.Encode()); strings.Contains(b, "log_") {
		t.Errorf("a spec without log limits encodes them:\n%s", b)
	}
	n, k := uint64(1<<20), 0
	s.LogMaxBytes, s.LogBackups = &n, &k
	got, err := Parse("redis.spec", s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.LogMaxBytes == nil || *got.LogMaxBytes != n || got.LogBackups == nil || *got.LogBackups != 0 {
		t.Errorf("parsed back as %v %v", got.LogMaxBytes, got.LogBackups)
	}
}

func TestLogLimitsValidated(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"ident = 'a/b'\nlog_backups = -1\n", "log_backups -1 must be from 0 to 1000"},
		{"ident = 'a/b'\nlog_backups = 1001\n", "log_backups 1001 must be from 0 to 1000"},
		{"ident = 'a/b'\nlog_max_bytes = 2199023255552\n", "over the limit"},
	} {
		if _, err := Parse("x.spec", []byte(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want %q", c.file, err, c.want)
		}
	}
}
