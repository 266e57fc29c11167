package supcfg

import (
	"strings"
)

// Option describes one setting for people: how to give it and what it does.
// Empty Flag or Env means the setting cannot be given that way.
type Option struct {
	Flag    string // without the leading "--"
	Env     string
	YAML    string // dotted path of nested keys
	Default string
	Meaning string
}

// option is the table entry the loader works from.
type option struct {
	Option
	// envAliases are read, in order, when Env is unset; they keep Habitat's
	// names working.
	envAliases []string
	// spaceSep also splits list values on white space, as Habitat's --peer
	// does; other lists split on commas only, so paths may hold spaces.
	spaceSep bool
	// envSingle: the variable holds one whole value, not a comma-separated
	// list (Habitat's HAB_SUP_GATEWAY_AUTH_TOKEN is one token).
	envSingle bool
	// envAll reads Env and every alias and takes all their values, rather
	// than the first one set: a host moving from Habitat's token variable
	// to tend's keeps both tokens valid while clients change over.
	envAll bool
	// field returns a pointer to the Config field the option sets: *string,
	// *bool, *time.Duration, *uint64, *[]string or *Secrets. Sizes are
	// *uint64 with size set. A *Secrets field is what makes an option
	// secret: its values never reach an error message or any output.
	field func(*Config) any
	size  bool
	// check validates (and may normalise) one string value or list item.
	check func(string) (string, error)
	// defaultText replaces the default computed from Default() where that
	// depends on the machine.
	defaultText string
}

const (
	yamlServices = "services"
	flagConfig   = "config"
	envConfig    = "TEND_CONFIG"
	envPrefix    = "TEND_"
)

// envName derives TEND_A_B_C from the YAML path a.b_c... by the one rule
// SPEC §9 gives, so users can guess a variable from a key.
func envName(yamlKey string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(yamlKey, ".", "_"))
}

// table lists every option once. Its order is the order of the docs.
func table() []option {
	str := func(yaml, flag, meaning string, f func(*Config) *string, check func(string) (string, error)) option {
		return option{Option: Option{Flag: flag, YAML: yaml, Meaning: meaning},
			field: func(c *Config) any { return f(c) }, check: check}
	}
	boolean := func(yaml, flag, meaning string, f func(*Config) *bool) option {
		return option{Option: Option{Flag: flag, YAML: yaml, Meaning: meaning},
			field: func(c *Config) any { return f(c) }}
	}
	threshold := func(yaml, meaning string, size bool, f func(*Config) *Threshold) []option {
		mk := func(end string, g func(*Threshold) *uint64) option {
			return option{Option: Option{Flag: strings.NewReplacer(".", "-", "_", "-").Replace(yaml + "." + end),
				YAML: yaml + "." + end, Meaning: meaning}, size: size,
				field: func(c *Config) any { return g(f(c)) }}
		}
		return []option{
			mk("lower", func(t *Threshold) *uint64 { return &t.Lower }),
			mk("upper", func(t *Threshold) *uint64 { return &t.Upper }),
		}
	}

	opts := []option{
		{Option: Option{Flag: flagConfig, Env: envConfig, Default: "none",
			Meaning: "YAML file with any of the keys below; unknown keys are an error"}},
		str("listen_http", "listen-http", "address of the Habitat-compatible HTTP gateway",
			func(c *Config) *string { return &c.ListenHTTP }, checkHostPort),
		str("listen_ctl", "listen-ctl", "address of the control gateway used by the tend CLI",
			func(c *Config) *string { return &c.ListenCtl }, checkHostPort),
		str("ctl_server_certificate", "ctl-server-certificate", "PEM certificate of the control gateway, or a directory whose newest ctl-gateway-*.crt.pem is used (tend sup secret generate-tls); with --ctl-server-key the gateway speaks only TLS",
			func(c *Config) *string { return &c.CtlServerCertificate }, nil),
		str("ctl_server_key", "ctl-server-key", "PEM private key of the control gateway, or a directory whose newest ctl-gateway-*.key.pem is used; needs --ctl-server-certificate",
			func(c *Config) *string { return &c.CtlServerKey }, nil),
		str("ctl_client_ca_certificate", "ctl-client-ca-certificate", "PEM CA certificates (or a directory, as above); CLI clients must then present a certificate they signed; needs --ctl-server-certificate and --ctl-server-key",
			func(c *Config) *string { return &c.CtlClientCACertificate }, nil),
		str("listen_gossip", "listen-gossip", "address of the gossip ring (UDP and TCP)",
			func(c *Config) *string { return &c.ListenGossip }, checkHostPort),
		{Option: Option{Flag: "peer", YAML: "peers",
			Meaning: "member to join, host[:port] (port 9638 when left off); repeatable, or a list separated by commas or spaces"},
			spaceSep: true, check: normalizePeer,
			field: func(c *Config) any { return &c.Peers }},
		boolean("permanent_peer", "permanent-peer", "this member is always probed by the others, even after it was declared dead",
			func(c *Config) *bool { return &c.PermanentPeer }),
		str("ring_key", "ring-key", "file holding the ring encryption key (tend ring key generate); none = unencrypted gossip",
			func(c *Config) *string { return &c.RingKey }, nil),
		str("org", "org", "organisation appended to every service group as @ORG",
			func(c *Config) *string { return &c.Org }, checkOptionalName),
		str("override_name", "override-name", "name of this supervisor's state directory ROOT/sup/NAME, to run several on one root",
			func(c *Config) *string { return &c.OverrideName }, checkName),
		{Option: Option{Flag: "root", YAML: "root",
			Meaning: "directory holding all of tend's files (state, packages, services)"},
			defaultText: rootAsRoot + " as root, else $XDG_DATA_HOME/tend or ~/.local/share/tend",
			check:       checkRoot, field: func(c *Config) any { return &c.Root }},
		str("sys_ip_address", "sys-ip-address", "IP address this member announces (sys.ip); none = detected",
			func(c *Config) *string { return &c.SysIPAddress }, checkIP),
		boolean("json_logging", "json-logging", "log JSON lines instead of text",
			func(c *Config) *bool { return &c.JSONLogging }),
		str("cgroups", "cgroups", "how each service's processes are tracked: auto = a cgroup v2 per service where the host has a writable cgroup2 hierarchy, else the subreaper and /proc; off = always the subreaper and /proc",
			func(c *Config) *string { return &c.Cgroups }, checkCgroups),
		{Option: Option{Flag: "service-min-backoff-period", YAML: "service_min_backoff_period",
			Meaning: "wait before the second restart in a row of a crashing service, doubled at each further restart; a duration (500ms, 2s) or seconds"},
			field: func(c *Config) any { return &c.MinBackoff }},
		{Option: Option{Flag: "service-max-backoff-period", YAML: "service_max_backoff_period",
			Meaning: "longest wait between restarts of a crashing service; must be >= the min; 0 with min 0 = no backoff (Habitat's default)"},
			field: func(c *Config) any { return &c.MaxBackoff }},
		{Option: Option{Flag: "service-restart-cooldown-period", YAML: "service_restart_cooldown_period",
			Meaning: "a service that stays up this long is restarted at once the next time it exits, and its backoff starts over"},
			field: func(c *Config) any { return &c.Cooldown }},
		{Option: Option{Flag: "service-log-max-bytes", YAML: "service_log_max_bytes",
			Meaning: "size at which a log file under svc/NAME/logs/ is rotated (NAME.log to NAME.log.1, …); a size (10MiB) or bytes; 0 = never rotated; per service: svc load --log-max-bytes"},
			size: true, field: func(c *Config) any { return &c.LogMaxBytes }},
		{Option: Option{Flag: "service-log-backups", YAML: "service_log_backups",
			Meaning: "rotated log files kept (NAME.log.1 newest … NAME.log.N); 0 = a full log file is emptied; per service: svc load --log-backups"},
			field: func(c *Config) any { return &c.LogBackups }},
		str("update_source", "update-source", "directory of package directories and .tar.gz archives of them; services loaded with --strategy at-once or rolling move to newer releases found there (or installed with tend pkg install); none = only what is installed",
			func(c *Config) *string { return &c.UpdateSource }, checkPath),
		{Option: Option{Flag: "service-update-period", YAML: "service_update_period",
			Meaning: "how often the update source and the installed packages are looked at for newer releases, plus a random splay of up to a quarter of it; a duration (500ms, 2s) or seconds; more than 0"},
			field: func(c *Config) any { return &c.UpdatePeriod }},
		boolean("http.disable", "http-disable", "do not open the HTTP gateway",
			func(c *Config) *bool { return &c.HTTP.Disable }),
		str("http.key", "key", "PEM private key of the HTTP gateway; with --certs it serves HTTPS",
			func(c *Config) *string { return &c.HTTP.Key }, nil),
		str("http.certs", "certs", "PEM certificate chain of the HTTP gateway; needs --key",
			func(c *Config) *string { return &c.HTTP.Certs }, nil),
		str("http.ca_certs", "ca-certs", "PEM CA certificates; clients of the HTTP gateway must then present a certificate they signed; needs --key and --certs",
			func(c *Config) *string { return &c.HTTP.CACerts }, nil),
		{Option: Option{Env: "TEND_GATEWAY_AUTH_TOKEN", YAML: "http.auth_tokens",
			Meaning: "bearer tokens the HTTP gateway requires (Authorization: Bearer or X-API-Key); the variable holds one token (HAB_SUP_GATEWAY_AUTH_TOKEN is read too; when both are set both tokens are valid); no flag, so tokens stay out of ps"},
			envAliases: []string{"HAB_SUP_GATEWAY_AUTH_TOKEN"}, envSingle: true, envAll: true,
			field: func(c *Config) any { return &c.HTTP.Tokens }},
		{Option: Option{Flag: "http-auth-token-file", YAML: "http.auth_token_files",
			Meaning: "files holding more gateway tokens, one per line; refused unless mode 0600 or stricter; repeatable"},
			check: checkPath, field: func(c *Config) any { return &c.HTTP.TokenFiles }},
		{Option: Option{Flag: "redact", YAML: "http.redact",
			Meaning: "hide service config on the HTTP gateway: no cfg in /services, pkg.env values (RUNTIME_ENVIRONMENT) shown as <redacted>, /config null, /census and /butterfly 404 (HAB_FEAT_REDACT_HTTP is read too)"},
			envAliases: []string{"HAB_FEAT_REDACT_HTTP"},
			field:      func(c *Config) any { return &c.HTTP.Redact }},
		{Option: Option{Flag: "listen-monitor", YAML: "monitor.listen",
			Meaning: "own address for /ready, /livez, /readyz, /healthy, /status and /metrics; none = served on the HTTP gateway (TEND_LISTEN_MONITOR is read too)"},
			envAliases: []string{"TEND_LISTEN_MONITOR"}, check: checkOptionalHostPort,
			field: func(c *Config) any { return &c.Monitor.Listen }},
		{Option: Option{YAML: "monitor.api_keys",
			Meaning: "API keys the monitoring listener requires (X-API-Key or Authorization: Bearer); in the variable, separated by commas; no flag"},
			field: func(c *Config) any { return &c.Monitor.APIKeys }},
		{Option: Option{Flag: "monitor-api-key-file", YAML: "monitor.api_key_files",
			Meaning: "files holding more monitoring API keys, one per line; refused unless mode 0600 or stricter; repeatable"},
			check: checkPath, field: func(c *Config) any { return &c.Monitor.APIKeyFiles }},
		boolean("monitor.ready.enabled", "monitor-ready-enabled", "serve GET /ready, /livez and /readyz",
			func(c *Config) *bool { return &c.Monitor.ReadyEnabled }),
		boolean("monitor.healthy.enabled", "monitor-healthy-enabled", "serve GET /healthy",
			func(c *Config) *bool { return &c.Monitor.HealthyEnabled }),
		boolean("monitor.status.enabled", "monitor-status-enabled", "serve GET /status",
			func(c *Config) *bool { return &c.Monitor.StatusEnabled }),
		boolean("monitor.metrics.enabled", "monitor-metrics-enabled", "serve GET /metrics",
			func(c *Config) *bool { return &c.Monitor.MetricsEnabled }),
		boolean("monitor.ui.enabled", "monitor-ui-enabled", "serve the web page, GET /ui",
			func(c *Config) *bool { return &c.Monitor.UIEnabled }),
	}
	opts = append(opts, threshold("monitor.healthy.diskfreebytes",
		"/healthy fails when free bytes on the root's filesystem drop below lower, and passes again above upper; a size (500MB, 1GiB) or bytes; lower 0 = off",
		true, func(c *Config) *Threshold { return &c.Monitor.DiskFreeBytes })...)
	opts = append(opts, threshold("monitor.healthy.diskfreeinodes",
		"/healthy fails when free inodes on the root's filesystem drop below lower, and passes again above upper; lower 0 = off",
		false, func(c *Config) *Threshold { return &c.Monitor.DiskFreeInodes })...)
	opts = append(opts, threshold("monitor.healthy.servicesdown",
		"/healthy fails once upper or more services that should run are down or CRITICAL, and passes again at lower or fewer; upper 0 = off",
		false, func(c *Config) *Threshold { return &c.Monitor.ServicesDown })...)
	opts = append(opts, option{Option: Option{YAML: yamlServices, Default: "none",
		Meaning: "services to load at start-up (file only); each item takes the options of tend svc load, see below"}})

	def := defaults(func(string) string { return "" }, 0)
	for i := range opts {
		o := &opts[i]
		if o.Env == "" && o.YAML != "" && o.YAML != yamlServices {
			o.Env = envName(o.YAML)
		}
		switch {
		case o.defaultText != "":
			o.Default = o.defaultText
		case o.field != nil:
			o.Default = o.format(&def)
		}
	}
	return opts
}

// Options returns the table of every `tend sup run` option, in the order of
// the docs. It is the source of docs/CONFIG.md and the README table.
func Options() []Option {
	t := table()
	out := make([]Option, len(t))
	for i, o := range t {
		out[i] = o.Option
	}
	return out
}
