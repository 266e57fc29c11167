package spec

import (
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := New("core/redis")
	s.Group = "prod"
	s.Binds = []string{"db:postgres.default@acme"}
	to := 5
	s.ShutdownTimeout = &to
	s.HealthCheckInterval = FromD(10 * time.Second)
	got, err := Parse("redis.spec", s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Group != "prod" || *got.ShutdownTimeout != 5 || got.HealthCheckInterval.D() != 10*time.Second || got.Binds[0] != s.Binds[0] {
		t.Fatalf("round trip: %+v", got)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(s.Encode())), "nanos = 0") {
		t.Fatalf("health_check_interval must be the last table:\n%s", s.Encode())
	}
}

func TestDefaultsForMissingKeys(t *testing.T) {
	got, err := Parse("x.spec", []byte(`ident = "core/x"`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Group != "default" || !got.Up() || got.HealthCheckInterval.D() != 30*time.Second || got.Name() != "x" {
		t.Fatalf("defaults: %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ident = \"core/x\"\ngroup = \"a.b\"", "group"},
		{"ident = \"core\"", "ident"},
		{"ident = \"core/x\"\ntopology = \"mesh\"", "topology"},
		{"ident = \"core/x\"\nbinds = [\"db\"]", "bind"},
		{"ident = \"core/x\"\n\nbogus = ", "x.spec:3"},
		{"ident = \"core/x\"\n[health_check_interval]\nsecs = 1\nmins = 2", "health_check_interval: unknown key mins"},
		{"ident = \"core/x\"\nhealth_check_interval = \"30s\"", "health_check_interval must be"},
		{"ident = \"core/x\"\ndesired_state = 1", "x.spec:2"},
		{"ident = \"core/x\"\ngroup = ", "x.spec:2"},
		{"ident = \"core/x\"\ndesired_state = \"sideways\"", "desired_state"},
		// Values a time.Duration cannot hold are refused, not wrapped.
		{"ident = \"core/x\"\nshutdown_timeout = 10000000000", "limit of 9223372036 seconds"},
		{"ident = \"core/x\"\n[health_check_interval]\nsecs = 27670116111\nnanos = 0", "limit of 9223372036 seconds"},
		{"ident = \"core/x\"\n[health_check_interval]\nsecs = 9223372036\nnanos = 900000000", "limit of"},
		{"ident = \"core/x\"\n[health_check_interval]\nsecs = 1\nnanos = -1", "nanos"},
	} {
		_, err := Parse("x.spec", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) = %v; want one line containing %q", tc.in, err, tc.want)
		}
	}
}

func TestLargestIntervalAccepted(t *testing.T) {
	in := "ident = \"core/x\"\nshutdown_timeout = 9223372036\n[health_check_interval]\nsecs = 9223372036\nnanos = 854775807"
	if _, err := Parse("x.spec", []byte(in)); err != nil {
		t.Error(err)
	}
}

func TestParseBind(t *testing.T) {
	name, sg, err := ParseBind("db:postgres.prod@acme")
	if err != nil || name != "db" || sg != "postgres.prod@acme" {
		t.Fatalf("got %q %q %v", name, sg, err)
	}
	for _, bad := range []string{"db", "db:postgres", ":a.b", "db:a.b.c"} {
		if _, _, err := ParseBind(bad); err == nil {
			t.Errorf("ParseBind(%q) accepted", bad)
		}
	}
}
