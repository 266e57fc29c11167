package supcfg

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestErrors checks every message Load can give, word for word: each is one
// line naming the flag, the variable or the file and line.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   layers
		want string
	}{
		// The file itself.
		{"missing file", layers{args: []string{"--config", "/nonexistent/sup.yaml"}},
			"--config: open /nonexistent/sup.yaml: no such file or directory"},
		{"missing file from env", layers{env: map[string]string{"TEND_CONFIG": "/nonexistent/sup.yaml"}},
			"TEND_CONFIG: open /nonexistent/sup.yaml: no such file or directory"},
		{"yaml syntax", layers{file: "peers: [a\n"},
			"config.yaml: line 1: did not find expected ',' or ']'"},
		{"not a mapping", layers{file: "- a\n- b\n"},
			"config.yaml: line 1: want a mapping of option keys"},
		{"unknown key", layers{file: "# sup\n\norg: a\nroot: /r\njson_logging: true\nkye: 1\n"},
			"config.yaml: line 6: field kye not found"},
		{"unknown key with a suggestion", layers{file: "listen_htp: 127.0.0.1:1\n"},
			"config.yaml: line 1: field listen_htp not found (did you mean listen_http?)"},
		{"unknown nested key", layers{file: "monitor:\n  healthy:\n    diskfreebyte:\n      lower: 1\n"},
			"config.yaml: line 3: field monitor.healthy.diskfreebyte not found (did you mean diskfreebytes?)"},
		{"duplicate key", layers{file: "org: a\nroot: /r\norg: b\n"},
			"config.yaml: line 3: org: given twice (first at line 1)"},
		{"section not a mapping", layers{file: "monitor: 5\n"},
			"config.yaml: line 1: monitor: want a mapping"},
		{"list wanted", layers{file: "peers:\n  a: 1\n"},
			"config.yaml: line 2: peers: want a list"},
		{"single value wanted", layers{file: "org: [a, b]\n"},
			"config.yaml: line 1: org: want a single value, not a list or mapping"},
		{"list item not a value", layers{file: "peers:\n  - [a]\n"},
			"config.yaml: line 2: peers: each item must be a single value"},

		// Values, from each layer.
		{"host:port in file", layers{file: "\nlisten_http: abc\n"},
			`config.yaml: line 2: listen_http: "abc" is not host:port`},
		{"host:port in env", layers{env: map[string]string{"TEND_LISTEN_HTTP": "abc"}},
			`TEND_LISTEN_HTTP: "abc" is not host:port`},
		{"port out of range", layers{env: map[string]string{"TEND_LISTEN_CTL": "127.0.0.1:70000"}},
			`TEND_LISTEN_CTL: "127.0.0.1:70000" is not host:port`},
		{"monitor listener", layers{env: map[string]string{"TEND_MONITOR_LISTEN": "9700"}},
			`TEND_MONITOR_LISTEN: "9700" is not host:port`},
		{"peer", layers{env: map[string]string{"TEND_PEERS": "a:b"}},
			`TEND_PEERS: "a:b" is not host[:port]`},
		{"peer port 0", layers{file: "peers: [\"a:0\"]\n"},
			`config.yaml: line 1: peers: "a:0" is not host[:port]`},
		{"duration", layers{env: map[string]string{"TEND_SERVICE_MIN_BACKOFF_PERIOD": "5x"}},
			`TEND_SERVICE_MIN_BACKOFF_PERIOD: "5x" is not a duration (like 500ms, 5s or 5)`},
		{"negative seconds", layers{file: "service_restart_cooldown_period: -1\n"},
			`config.yaml: line 1: service_restart_cooldown_period: "-1": must not be negative`},
		{"negative duration", layers{env: map[string]string{"TEND_SERVICE_RESTART_COOLDOWN_PERIOD": "-1m"}},
			`TEND_SERVICE_RESTART_COOLDOWN_PERIOD: "-1m": must not be negative`},
		{"bool", layers{env: map[string]string{"TEND_JSON_LOGGING": "yes"}},
			`TEND_JSON_LOGGING: "yes" is not true or false`},
		{"bool alias", layers{env: map[string]string{"HAB_FEAT_REDACT_HTTP": "on"}},
			`HAB_FEAT_REDACT_HTTP: "on" is not true or false`},
		{"size", layers{env: map[string]string{"TEND_MONITOR_HEALTHY_DISKFREEBYTES_UPPER": "lots"}},
			`TEND_MONITOR_HEALTHY_DISKFREEBYTES_UPPER: "lots" is not a size (like 500MB, 1GiB or 1073741824)`},
		{"size unit", layers{file: "monitor:\n  healthy:\n    diskfreebytes:\n      lower: 5PB\n"},
			`config.yaml: line 4: monitor.healthy.diskfreebytes.lower: "5PB": unknown unit "PB" (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)`},
		{"size overflow", layers{env: map[string]string{"TEND_MONITOR_HEALTHY_DISKFREEBYTES_UPPER": "99999999999TiB"}},
			`TEND_MONITOR_HEALTHY_DISKFREEBYTES_UPPER: "99999999999TiB" is more than the limit of 18446744073709551615 bytes (16 EiB)`},
		{"count", layers{env: map[string]string{"TEND_MONITOR_HEALTHY_SERVICESDOWN_UPPER": "-1"}},
			`TEND_MONITOR_HEALTHY_SERVICESDOWN_UPPER: "-1" is not a whole number >= 0`},
		{"org", layers{env: map[string]string{"TEND_ORG": "a.b"}},
			`TEND_ORG: "a.b" is not a valid name (letters, digits, - and _, starting with a letter or digit)`},
		{"override name", layers{file: "override_name: ../x\n"},
			`config.yaml: line 1: override_name: "../x" is not a valid name (letters, digits, - and _, starting with a letter or digit)`},
		{"empty override name", layers{file: "override_name: \"\"\n"},
			`config.yaml: line 1: override_name: "" is not a valid name (letters, digits, - and _, starting with a letter or digit)`},
		{"sys ip", layers{env: map[string]string{"TEND_SYS_IP_ADDRESS": "10.0.0"}},
			`TEND_SYS_IP_ADDRESS: "10.0.0" is not an IP address`},
		{"empty root", layers{file: "root: \"\"\n"},
			`config.yaml: line 1: root: must not be empty`},
		{"empty token file name", layers{file: "http:\n  auth_token_files: [\"\"]\n"},
			`config.yaml: line 2: http.auth_token_files: must not be empty`},
		{"token with a space", layers{env: map[string]string{"TEND_GATEWAY_AUTH_TOKEN": "two words"}},
			`TEND_GATEWAY_AUTH_TOKEN: token contains white space or a control character`},
		{"api key list", layers{file: "monitor:\n  api_keys: [good-key-1, \"bad key\"]\n"},
			`config.yaml: line 2: monitor.api_keys: item 2: token contains white space or a control character`},

		// Relations between options.
		{"max below min, max given", layers{args: []string{"--service-min-backoff-period=2s", "--service-max-backoff-period=1s"}},
			"--service-max-backoff-period: must be >= the min backoff period (2s)"},
		{"min above default max", layers{env: map[string]string{"TEND_SERVICE_MIN_BACKOFF_PERIOD": "2m"}},
			"TEND_SERVICE_MIN_BACKOFF_PERIOD: must be <= the max backoff period (1m)"},
		{"max below min from file", layers{file: "service_max_backoff_period: 500ms\n"},
			"config.yaml: line 1: service_max_backoff_period: must be >= the min backoff period (1s)"},
		{"disk upper below lower", layers{file: "monitor:\n  healthy:\n    diskfreebytes:\n      upper: 1MB\n"},
			"config.yaml: line 4: monitor.healthy.diskfreebytes.upper: must be >= lower (104857600)"},
		{"inode lower above default upper", layers{env: map[string]string{"TEND_MONITOR_HEALTHY_DISKFREEINODES_LOWER": "5000"}},
			"TEND_MONITOR_HEALTHY_DISKFREEINODES_LOWER: must be <= upper (2000)"},
		{"services down without a band", layers{args: []string{"--monitor-healthy-servicesdown-lower=1"}},
			"--monitor-healthy-servicesdown-lower: must be < upper (1)"},
		{"certs without key", layers{args: []string{"--certs", "/c.pem"}},
			"--certs: needs a key as well (--key, TEND_HTTP_KEY or http.key)"},
		{"key without certs", layers{env: map[string]string{"TEND_HTTP_KEY": "/k.pem"}},
			"TEND_HTTP_KEY: needs certificates as well (--certs, TEND_HTTP_CERTS or http.certs)"},
		{"ca without certs", layers{file: "http:\n  ca_certs: /ca.pem\n"},
			"config.yaml: line 2: http.ca_certs: needs --key and --certs as well"},
		{"ctl certificate without key", layers{args: []string{"--ctl-server-certificate", "/c.pem"}},
			"--ctl-server-certificate: needs a key as well (--ctl-server-key, TEND_CTL_SERVER_KEY or ctl_server_key)"},
		{"ctl key without certificate", layers{env: map[string]string{"TEND_CTL_SERVER_KEY": "/k.pem"}},
			"TEND_CTL_SERVER_KEY: needs a certificate as well (--ctl-server-certificate, TEND_CTL_SERVER_CERTIFICATE or ctl_server_certificate)"},
		{"ctl client CA without certificate", layers{file: "ctl_client_ca_certificate: /ca.pem\n"},
			"config.yaml: line 1: ctl_client_ca_certificate: needs --ctl-server-certificate and --ctl-server-key as well"},
		{"monitor on the gateway's port", layers{args: []string{"--listen-monitor", "127.0.0.1:9631"}},
			"--listen-monitor: 127.0.0.1:9631 is also the address of the HTTP gateway"},
		{"ctl on the gossip port", layers{env: map[string]string{"TEND_LISTEN_CTL": "127.0.0.1:9638"}},
			"TEND_LISTEN_CTL: 127.0.0.1:9638 is also the address of the gossip listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadLayers(t, tt.in)
			if err == nil {
				t.Fatalf("Load succeeded; want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Load error\n got: %s\nwant: %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line: %q", err)
			}
		})
	}
}

func TestNoRootError(t *testing.T) {
	_, err := load(nil, nil, func(string) string { return "" }, 1000)
	want := "root: no default without HOME or XDG_DATA_HOME: set --root or TEND_ROOT"
	if err == nil || err.Error() != want {
		t.Errorf("Load without HOME = %v; want %q", err, want)
	}
}

func TestListenerClashAllowedWhenOff(t *testing.T) {
	// The HTTP gateway is off, so the monitor may take its port; port 0
	// means "any free port" and never clashes.
	for _, args := range [][]string{
		{"--http-disable", "--listen-monitor", "0.0.0.0:9631"},
		{"--listen-http", "127.0.0.1:0", "--listen-ctl", "127.0.0.1:0", "--listen-gossip", "127.0.0.1:0", "--listen-monitor", "127.0.0.1:0"},
		{"--listen-monitor", "127.0.0.1:9631", "--listen-http", "127.0.0.2:9631"},
	} {
		if _, err := loadLayers(t, layers{args: args}); err != nil {
			t.Errorf("Load(%q): %v", args, err)
		}
	}
}

// TestFlagSyntaxErrors: a malformed flag value is refused while parsing, so
// cobra reports it as a usage error (exit 2) with the flag's name.
func TestFlagSyntaxErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--listen-http", "abc"}, `invalid argument "abc" for "--listen-http" flag: "abc" is not host:port`},
		{[]string{"--service-max-backoff-period", "soon"}, `invalid argument "soon" for "--service-max-backoff-period" flag: "soon" is not a duration (like 500ms, 5s or 5)`},
		{[]string{"--peer", "a:b"}, `invalid argument "a:b" for "--peer" flag: "a:b" is not host[:port]`},
		{[]string{"--json-logging=maybe"}, `invalid argument "maybe" for "--json-logging" flag: "maybe" is not true or false`},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("sup run", pflag.ContinueOnError)
		fs.SetOutput(&strings.Builder{})
		Bind(fs)
		err := fs.Parse(tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v\nwant %s", tt.args, err, tt.want)
		}
	}
}
