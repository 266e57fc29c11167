package supcfg

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite docs/CONFIG.md from Options()")

// TestConfigDoc keeps docs/CONFIG.md equal to what the option table says.
// After changing an option: go test ./internal/supcfg -run TestConfigDoc -update
func TestConfigDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "CONFIG.md")
	want := configDoc()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with Options(); regenerate with: go test ./internal/supcfg -run TestConfigDoc -update", path)
	}
}

// TestOptionTable checks the rules the table promises: names are unique,
// variables follow TEND_<YAML PATH> unless Habitat's name is kept, every
// flag is registered and documented.
func TestOptionTable(t *testing.T) {
	// Variables whose name is not derived from the YAML key, and why.
	exceptions := map[string]string{
		"http.auth_tokens": "TEND_GATEWAY_AUTH_TOKEN", // SPEC §7, after Habitat's HAB_SUP_GATEWAY_AUTH_TOKEN
	}
	seen := map[string]string{}
	unique := func(kind, name, yaml string) {
		if name == "" {
			return
		}
		if other, dup := seen[kind+name]; dup {
			t.Errorf("%s %q used by %q and %q", kind, name, other, yaml)
		}
		seen[kind+name] = yaml
	}
	fs := pflag.NewFlagSet("sup run", pflag.ContinueOnError)
	Bind(fs)
	for _, o := range Options() {
		unique("flag", o.Flag, o.YAML)
		unique("env", o.Env, o.YAML)
		unique("yaml", o.YAML, o.YAML)
		if o.Meaning == "" || o.Default == "" {
			t.Errorf("%q: Meaning or Default is empty", o.YAML)
		}
		if o.YAML != "" && o.Env != "" {
			want := envName(o.YAML)
			if e, ok := exceptions[o.YAML]; ok {
				want = e
			}
			if o.Env != want {
				t.Errorf("%q: Env = %q; want %q", o.YAML, o.Env, want)
			}
		}
		if o.Flag != "" && fs.Lookup(o.Flag) == nil {
			t.Errorf("flag --%s not registered by Bind", o.Flag)
		}
	}
	registered, flags := 0, 0
	fs.VisitAll(func(*pflag.Flag) { registered++ })
	for _, o := range Options() {
		if o.Flag != "" {
			flags++
		}
	}
	if registered != flags {
		t.Errorf("Bind registered %d flags; the table has %d", registered, flags)
	}

	// Only secrets lack a flag (the command line is public), and only the
	// file list of services lacks both.
	for _, o := range Options() {
		if o.Flag == "" && o.YAML != "http.auth_tokens" && o.YAML != "monitor.api_keys" && o.YAML != "services" {
			t.Errorf("%q has no flag", o.YAML)
		}
	}
}

func TestFlagHelp(t *testing.T) {
	fs := pflag.NewFlagSet("sup run", pflag.ContinueOnError)
	Bind(fs)
	help := fs.FlagUsages()
	for _, want := range []string{
		`--listen-http string`,
		`(env TEND_LISTEN_HTTP) (default "0.0.0.0:9631")`,
		`--service-min-backoff-period duration`,
		`(default 1s)`,
		`--peer strings`,
		`--http-disable `,
		`--monitor-healthy-diskfreebytes-lower size`,
		`(default 100MiB)`,
	} {
		if !strings.Contains(help, want) {
			t.Errorf("flag help lacks %q:\n%s", want, help)
		}
	}
	// A bool flag alone means true.
	fs = pflag.NewFlagSet("sup run", pflag.ContinueOnError)
	f := Bind(fs)
	if err := fs.Parse([]string{"--http-disable", "--permanent-peer"}); err != nil {
		t.Fatal(err)
	}
	c, err := load(fs, f, func(string) string { return "" }, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HTTP.Disable || !c.PermanentPeer {
		t.Errorf("bare bool flags: Disable=%v PermanentPeer=%v; want true", c.HTTP.Disable, c.PermanentPeer)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", time.Second: "1s", time.Minute: "1m",
		90 * time.Second: "1m30s", time.Hour: "1h", 61 * time.Minute: "1h1m", 500 * time.Millisecond: "500ms"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q; want %q", d, got, want)
		}
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"0", 0}, {"1024", 1024}, {"1KiB", 1024}, {"1kb", 1000}, {"500MB", 500e6},
		{"1GiB", 1 << 30}, {"1.5GiB", 3 << 29}, {"2 TiB", 2 << 40}, {"7B", 7},
	}
	for _, tt := range tests {
		if got, err := parseBytes(tt.in); err != nil || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for n, want := range map[uint64]string{0: "0", 1000: "1000", 1 << 20: "1MiB", 100 << 20: "100MiB", 3 << 29: "1536MiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q; want %q", n, got, want)
		}
	}
}
