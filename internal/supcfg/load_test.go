package supcfg

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

// layers is one configuration as the user gives it.
type layers struct {
	args []string
	env  map[string]string
	file string // YAML; written to a temp file and passed with --config
}

// loadLayers runs Load the way `tend sup run` does: flags parsed by pflag,
// a fake environment, a real file.
func loadLayers(t *testing.T, l layers) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("sup run", pflag.ContinueOnError)
	f := Bind(fs)
	args := l.args
	if l.file != "" {
		// A relative name keeps error messages as users see them:
		// "config.yaml: line 6: ...".
		t.Chdir(t.TempDir())
		if err := os.WriteFile("config.yaml", []byte(l.file), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", "config.yaml"}, args...)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	env := map[string]string{"HOME": "/home/u"}
	for k, v := range l.env {
		env[k] = v
	}
	return load(fs, f, func(k string) string { return env[k] }, 0)
}

func TestPrecedence(t *testing.T) {
	type layerVals struct {
		flag []string
		env  map[string]string
		file string
	}
	tests := []struct {
		name string
		get  func(Config) any
		in   layerVals
		// want after: defaults only, + file, + env, + flag.
		want [4]any
	}{
		{
			name: "string listen_http",
			get:  func(c Config) any { return c.ListenHTTP },
			in: layerVals{
				file: "listen_http: 127.0.0.1:1001\n",
				env:  map[string]string{"TEND_LISTEN_HTTP": "127.0.0.1:1002"},
				flag: []string{"--listen-http", "127.0.0.1:1003"},
			},
			want: [4]any{"0.0.0.0:9631", "127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"},
		},
		{
			name: "duration min backoff",
			get:  func(c Config) any { return c.MinBackoff },
			in: layerVals{
				file: "service_min_backoff_period: 5\n",
				env:  map[string]string{"TEND_SERVICE_MIN_BACKOFF_PERIOD": "500ms"},
				flag: []string{"--service-min-backoff-period=2.5"},
			},
			want: [4]any{time.Second, 5 * time.Second, 500 * time.Millisecond, 2500 * time.Millisecond},
		},
		{
			name: "bool json_logging",
			get:  func(c Config) any { return c.JSONLogging },
			in: layerVals{
				file: "json_logging: true\n",
				env:  map[string]string{"TEND_JSON_LOGGING": "false"},
				flag: []string{"--json-logging"},
			},
			want: [4]any{false, true, false, true},
		},
		{
			name: "bool default true, flag false",
			get:  func(c Config) any { return c.Monitor.MetricsEnabled },
			in: layerVals{
				file: "monitor:\n  metrics:\n    enabled: false\n",
				env:  map[string]string{"TEND_MONITOR_METRICS_ENABLED": "true"},
				flag: []string{"--monitor-metrics-enabled=false"},
			},
			want: [4]any{true, false, true, false},
		},
		{
			name: "list peers",
			get:  func(c Config) any { return c.Peers },
			in: layerVals{
				file: "peers:\n  - 10.0.0.1\n  - 10.0.0.2:7000\n",
				env:  map[string]string{"TEND_PEERS": "a.example, b.example:1"},
				flag: []string{"--peer", "[::1]", "--peer", "c.example d.example"},
			},
			want: [4]any{[]string(nil),
				[]string{"10.0.0.1:9638", "10.0.0.2:7000"},
				[]string{"a.example:9638", "b.example:1"},
				[]string{"[::1]:9638", "c.example:9638", "d.example:9638"}},
		},
		{
			name: "nested monitor size",
			get:  func(c Config) any { return c.Monitor.DiskFreeBytes.Lower },
			in: layerVals{
				file: "monitor:\n  healthy:\n    diskfreebytes:\n      lower: 500MB\n      upper: 1GiB\n",
				env:  map[string]string{"TEND_MONITOR_HEALTHY_DISKFREEBYTES_LOWER": "1MiB"},
				flag: []string{"--monitor-healthy-diskfreebytes-lower", "4096"},
			},
			want: [4]any{uint64(100 << 20), uint64(500e6), uint64(1 << 20), uint64(4096)},
		},
		{
			name: "Habitat alias for the monitor listener",
			get:  func(c Config) any { return c.Monitor.Listen },
			in: layerVals{
				file: "monitor:\n  listen: 127.0.0.1:7001\n",
				env:  map[string]string{"TEND_LISTEN_MONITOR": "127.0.0.1:7002"},
				flag: []string{"--listen-monitor", "127.0.0.1:7003"},
			},
			want: [4]any{"", "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []layers{
				{},
				{file: tt.in.file},
				{file: tt.in.file, env: tt.in.env},
				{file: tt.in.file, env: tt.in.env, args: tt.in.flag},
			}
			for i, l := range steps {
				c, err := loadLayers(t, l)
				if err != nil {
					t.Fatalf("layer %d: Load: %v", i, err)
				}
				if diff := cmp.Diff(tt.want[i], tt.get(c)); diff != "" {
					t.Errorf("layer %d (%+v): value (-want +got):\n%s", i, l, diff)
				}
			}
			// A flag alone beats a file and a variable it does not see.
			c, err := loadLayers(t, layers{args: tt.in.flag})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want[3], tt.get(c)); diff != "" {
				t.Errorf("flag only: (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sup.yaml")
	if err := os.WriteFile(p, []byte("org: fromfile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadLayers(t, layers{env: map[string]string{"TEND_CONFIG": p}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Org != "fromfile" || c.ConfigFile != p {
		t.Errorf("Org = %q, ConfigFile = %q; want fromfile, %q", c.Org, c.ConfigFile, p)
	}
}

func TestDefaults(t *testing.T) {
	c, err := loadLayers(t, layers{})
	if err != nil {
		t.Fatal(err)
	}
	want := defaults(func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }, 0)
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Load with nothing given differs from defaults (-want +got):\n%s", diff)
	}
	if c.StateDir() != "/var/lib/tend/sup/default" {
		t.Errorf("StateDir = %q", c.StateDir())
	}
	if c.MinBackoff == 0 || c.MaxBackoff < c.MinBackoff || c.Cooldown == 0 {
		t.Errorf("default backoff %v/%v/%v does not back off", c.MinBackoff, c.MaxBackoff, c.Cooldown)
	}
}

func TestDefaultRoot(t *testing.T) {
	tests := []struct {
		euid int
		env  map[string]string
		want string
	}{
		{0, map[string]string{"HOME": "/root", "XDG_DATA_HOME": "/x"}, "/var/lib/tend"},
		{1000, map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/data"}, "/data/tend"},
		{1000, map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "relative"}, "/home/u/.local/share/tend"},
		{1000, map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/tend"},
		{1000, nil, ""},
	}
	for _, tt := range tests {
		if got := defaultRoot(func(k string) string { return tt.env[k] }, tt.euid); got != tt.want {
			t.Errorf("defaultRoot(euid %d, %v) = %q; want %q", tt.euid, tt.env, got, tt.want)
		}
	}

	// TEND_ROOT overrides, and a relative root is made absolute.
	env := map[string]string{"TEND_ROOT": "rel/dir"}
	c, err := load(nil, nil, func(k string) string { return env[k] }, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "rel/dir"); c.Root != want {
		t.Errorf("Root = %q; want %q", c.Root, want)
	}
	if want := filepath.Join(wd, "rel/dir/sup/default"); c.StateDir() != want {
		t.Errorf("StateDir = %q; want %q", c.StateDir(), want)
	}
}

func TestEmptyEnvIsUnset(t *testing.T) {
	c, err := loadLayers(t, layers{
		file: "listen_http: 127.0.0.1:1\n",
		env:  map[string]string{"TEND_LISTEN_HTTP": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenHTTP != "127.0.0.1:1" {
		t.Errorf("ListenHTTP = %q; an empty variable must not override the file", c.ListenHTTP)
	}
}

func TestNilFlagSet(t *testing.T) {
	c, err := Load(nil, nil, func(k string) string {
		return map[string]string{"TEND_ROOT": "/srv/tend", "TEND_OVERRIDE_NAME": "blue"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir() != "/srv/tend/sup/blue" {
		t.Errorf("StateDir = %q", c.StateDir())
	}
}

func TestFileSetsEverything(t *testing.T) {
	// Every option with a YAML key can be given in the file: load the
	// example from the docs, which touches most sections, and check a few
	// values from each.
	c, err := loadLayers(t, layers{file: exampleFile})
	if err != nil {
		t.Fatalf("the docs' example does not load: %v", err)
	}
	if c.Org != "acme" || c.MaxBackoff != 2*time.Minute || !c.HTTP.Redact ||
		c.Monitor.Listen != "0.0.0.0:9700" || c.Monitor.ServicesDown.Upper != 2 ||
		len(c.HTTP.Tokens) != 1 || len(c.Monitor.APIKeys) != 1 || len(c.Services) != 2 {
		t.Errorf("example loaded as %+v", c)
	}
}
