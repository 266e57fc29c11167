package supcfg

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/api"
)

func intp(n int) *int { return &n }

func TestServices(t *testing.T) {
	c, err := loadLayers(t, layers{file: `
services:
  - pkg: core/redis        # an ident
    group: prod
    topology: standalone
    strategy: none
    update_condition: latest
    binds: ["db:postgres.default", "cache:redis.prod@acme"]
    binding_mode: strict
    health_check_interval: 10
    shutdown_timeout: 5
  - pkg: ./pkgs/web        # a path, relative to this file
    topology: leader
    strategy: rolling
    binds: db:postgres.default
    health_check_interval: 1m
    shutdown_timeout: 0
  - pkg: /opt/pkgs/worker
    group:                 # null: not given
`})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd() // loadLayers runs in the file's directory
	want := []api.LoadRequest{
		{Pkg: "core/redis", Group: "prod", Topology: "standalone", Strategy: "none",
			UpdateCondition: "latest", Binds: []string{"db:postgres.default", "cache:redis.prod@acme"},
			BindingMode: "strict", HealthCheckInterval: intp(10), ShutdownTimeout: intp(5), Force: true},
		{Pkg: filepath.Join(wd, "pkgs/web"), Topology: "leader", Strategy: "rolling",
			Binds: []string{"db:postgres.default"}, HealthCheckInterval: intp(60), ShutdownTimeout: intp(0), Force: true},
		{Pkg: "/opt/pkgs/worker", Force: true},
	}
	if diff := cmp.Diff(want, c.Services); diff != "" {
		t.Errorf("Services (-want +got):\n%s", diff)
	}
}

func TestServicesEmpty(t *testing.T) {
	for _, file := range []string{"services:\n", "services: []\n", "org: a\n"} {
		c, err := loadLayers(t, layers{file: file})
		if err != nil || len(c.Services) != 0 {
			t.Errorf("%q: Services = %v, err %v; want none", file, c.Services, err)
		}
	}
}

func TestServicesErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"not a list", "services:\n  pkg: core/redis\n",
			"config.yaml: line 2: services: want a list"},
		{"item not a mapping", "services:\n  - core/redis\n",
			"config.yaml: line 2: services[0]: want a mapping with at least pkg"},
		{"pkg missing", "services:\n  - group: prod\n",
			"config.yaml: line 2: services[0]: pkg is missing"},
		{"unknown key", "services:\n  - pkg: core/redis\n    grup: prod\n",
			"config.yaml: line 3: field services[0].grup not found (did you mean group?)"},
		{"unknown key far from any", "services:\n  - pkg: core/redis\n    colour: blue\n",
			"config.yaml: line 3: field services[0].colour not found"},
		{"duplicate key", "services:\n  - pkg: core/redis\n    pkg: core/nginx\n",
			"config.yaml: line 3: services[0].pkg: given twice (first at line 2)"},
		{"bad ident", "services:\n  - pkg: redis\n",
			`config.yaml: line 2: services[0].pkg: "redis" is not origin/name[/version[/release]] or a path (/..., ./...)`},
		{"too long ident", "services:\n  - pkg: a/b/c/d/e\n",
			`config.yaml: line 2: services[0].pkg: "a/b/c/d/e" is not origin/name[/version[/release]] or a path (/..., ./...)`},
		{"bad group", "services:\n  - pkg: core/redis\n    group: a.b\n",
			`config.yaml: line 3: services[0].group: "a.b" is not a valid name (letters, digits, - and _, starting with a letter or digit)`},
		{"bad topology", "services:\n  - pkg: core/redis\n    topology: cluster\n",
			`config.yaml: line 3: services[0].topology: "cluster" is not one of standalone, leader`},
		{"bad strategy", "services:\n  - pkg: core/redis\n    strategy: yes\n",
			`config.yaml: line 3: services[0].strategy: "yes" is not one of none, at-once, rolling`},
		{"bad update condition", "services:\n  - pkg: core/redis\n    update_condition: stable\n",
			`config.yaml: line 3: services[0].update_condition: "stable" is not one of latest, track-channel`},
		{"bad binding mode", "services:\n  - pkg: core/redis\n    binding_mode: loose\n",
			`config.yaml: line 3: services[0].binding_mode: "loose" is not one of strict, relaxed`},
		{"bad bind", "services:\n  - pkg: core/redis\n    binds:\n      - db:postgres\n",
			`config.yaml: line 4: services[0].binds: "db:postgres" is not NAME:SVC.GROUP[@ORG]`},
		{"bind not a value", "services:\n  - pkg: core/redis\n    binds: [[a]]\n",
			`config.yaml: line 3: services[0].binds: each bind must be NAME:SVC.GROUP[@ORG]`},
		{"zero interval", "services:\n  - pkg: core/redis\n    health_check_interval: 0\n",
			`config.yaml: line 3: services[0].health_check_interval: "0": must be more than 0`},
		{"fractional timeout", "services:\n  - pkg: core/redis\n    shutdown_timeout: 1.5\n",
			`config.yaml: line 3: services[0].shutdown_timeout: "1.5": must be whole seconds`},
		{"timeout not a value", "services:\n  - pkg: core/redis\n    shutdown_timeout: [1]\n",
			`config.yaml: line 3: services[0].shutdown_timeout: want a single value`},
		{"same service twice", "services:\n  - pkg: core/redis\n  - pkg: core/redis/7.0\n",
			"config.yaml: line 3: services[1]: service redis is already listed at line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadLayers(t, layers{file: tt.file})
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestServicesFileOnly: services cannot come from a flag or a variable;
// TEND_SERVICES is not a known variable and changes nothing.
func TestServicesFileOnly(t *testing.T) {
	c, err := loadLayers(t, layers{env: map[string]string{"TEND_SERVICES": "core/redis"}})
	if err != nil || len(c.Services) != 0 {
		t.Errorf("Services = %v, err %v; want none", c.Services, err)
	}
	for _, o := range Options() {
		if o.YAML == "services" && (o.Flag != "" || o.Env != "") {
			t.Errorf("services has flag %q env %q; want file only", o.Flag, o.Env)
		}
	}
}
