package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/tend-written.spec")

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A spec file Habitat 1.6 wrote reads, and tend writes it back byte for
// byte: the two are interchangeable.
func TestHabitatSpecRoundTripsByteForByte(t *testing.T) {
	for _, name := range []string{"habitat-1.6-redis.spec", "habitat-1.6-web.spec"} {
		in := readTestdata(t, name)
		s, err := Parse(name, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out := s.Encode(); !bytes.Equal(out, in) {
			t.Errorf("%s written back differs:\n--- Habitat\n%s--- tend\n%s", name, in, out)
		}
	}
}

// The keys Habitat writes that tend does not use are read, and kept when
// tend rewrites the spec (svc stop, svc start): only desired_state changes.
func TestHabitatSpecKeysKeptWhenStateChanges(t *testing.T) {
	in := readTestdata(t, "habitat-1.6-web.spec")
	s, err := Parse("web.spec", in)
	if err != nil {
		t.Fatal(err)
	}
	if s.Up() || s.BldrURL != "https://bldr.acme.example/" || s.Channel != "unstable" ||
		s.ConfigFrom == nil || *s.ConfigFrom != "/src/web" || s.SvcEncryptedPassword == nil ||
		*s.ShutdownTimeout != 15 || s.HealthCheckInterval.D() != 10*time.Second ||
		!slices.Equal(s.Binds, []string{"db:postgresql.prod", "cache:redis.prod@acme"}) {
		t.Fatalf("read as %+v", s)
	}
	s.DesiredState = Up
	want := bytes.Replace(in, []byte(`desired_state = "down"`), []byte(`desired_state = "up"`), 1)
	if out := s.Encode(); !bytes.Equal(out, want) {
		t.Errorf("after start:\n%s\nwant:\n%s", out, want)
	}
}

// Keys and tables tend does not know (another writer's, a later
// Habitat's) are written back as they were, Habitat's keys first, tend's
// own after them, health_check_interval the first table.
func TestTendWrittenGolden(t *testing.T) {
	in := strings.Replace(string(readTestdata(t, "habitat-1.6-redis.spec")), "desired_state", "future_option = [ 'a',  \"b\" ] # odd spacing kept\nsome.dotted = 1\ndesired_state", 1)
	in += "\n[future_table]\nx = 1\n\n# a comment\n[[future_list]]\ny = \"z\"\n\n"
	s, err := Parse("redis.spec", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.KeptKeys(); !slices.Equal(got, []string{"future_option", "some", "future_table", "future_list"}) {
		t.Errorf("kept keys %q", got)
	}
	ht, mb := 90, uint64(1<<20)
	s.HookTimeout, s.LogMaxBytes = &ht, &mb
	s.DesiredState = Down
	out := s.Encode()
	golden := filepath.Join("testdata", "tend-written.spec")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readTestdata(t, "tend-written.spec"); !bytes.Equal(out, want) {
		t.Errorf("tend wrote:\n%s\nwant (%s):\n%s", out, golden, want)
	}
	// What tend wrote reads back the same, and writes the same again.
	back, err := Parse("redis.spec", out)
	if err != nil {
		t.Fatal(err)
	}
	if again := back.Encode(); !bytes.Equal(again, out) {
		t.Errorf("second write differs:\n%s", again)
	}
}

// Values Habitat reads are read: desired_state in any case (it writes lower
// case, as tend then does), health_check_interval as a table, an inline
// table or seconds.
func TestHabitatValuesAccepted(t *testing.T) {
	for _, c := range []struct {
		in       string
		up       bool
		interval time.Duration
	}{
		{"desired_state = \"Up\"", true, 30 * time.Second},
		{"desired_state = \"DOWN\"", false, 30 * time.Second},
		{"health_check_interval = 45", true, 45 * time.Second},
		{"health_check_interval = { secs = 2, nanos = 500000000 }", true, 2500 * time.Millisecond},
		{"[health_check_interval]\nsecs = 7", true, 7 * time.Second},
	} {
		s, err := Parse("x.spec", []byte("ident = \"core/x\"\ntopology = \"standalone\"\nupdate_strategy = \"none\"\nbinding_mode = \"strict\"\nshutdown_timeout = 0\n"+c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s.Up() != c.up || s.HealthCheckInterval.D() != c.interval {
			t.Errorf("%q: up %v interval %s", c.in, s.Up(), s.HealthCheckInterval.D())
		}
		if out := string(s.Encode()); !strings.Contains(out, "desired_state = \""+s.DesiredState+"\"\n") || s.DesiredState != strings.ToLower(s.DesiredState) {
			t.Errorf("%q: written as\n%s", c.in, out)
		}
	}
}

// Strings are written as Habitat's TOML writer writes them.
func TestTOMLStringStyle(t *testing.T) {
	for in, want := range map[string]string{
		"core/redis":        `"core/redis"`,
		"":                  `""`,
		`C:\hab\svc`:        `'C:\hab\svc'`,
		`say "hi"`:          `'say "hi"'`,
		`it's "x"`:          `'''it's "x"'''`,
		`ends "in" '`:       `"ends \"in\" '"`,
		"tab\there":         `"tab\there"`,
		"a\nb":              "\"\"\"\na\nb\"\"\"",
		"a\n\"b\"":          "'''\na\n\"b\"'''",
		"bell\a":            `"bell\u0007"`,
		"cr\r \"q\"":        `"cr\r \"q\""`,
		"three''' \"x\"":    `"three''' \"x\""`,
		"unicodé ✓":         `"unicodé ✓"`,
		"back\\slash\nline": "'''\nback\\slash\nline'''",
	} {
		got := tomlString(in)
		if got != want {
			t.Errorf("tomlString(%q) = %s; want %s", in, got, want)
			continue
		}
		// And it reads back as the same string.
		s, err := Parse("x.spec", []byte("ident = \"core/x\"\ngroup = \"g\"\nchannel = "+got+"\n"))
		if err != nil || s.Channel != in {
			t.Errorf("%s reads back as %q, %v", got, s.Channel, err)
		}
	}
}
