package supcfg

import (
	"fmt"
	"strings"
)

// MarkdownTable renders Options() as a Markdown table (flag, environment
// variable, YAML key, default, meaning), for docs/CONFIG.md and the README.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| flag | environment | YAML key | default | meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	code := func(s string) string {
		if s == "" {
			return "—"
		}
		return "`" + s + "`"
	}
	for _, o := range Options() {
		flag := o.Flag
		if flag != "" {
			flag = "--" + flag
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
			code(flag), code(o.Env), code(o.YAML), code(o.Default),
			strings.ReplaceAll(o.Meaning, "|", `\|`))
	}
	return b.String()
}

// exampleFile is the sample configuration shown in docs/CONFIG.md; a test
// loads it, so it cannot drift from what the loader accepts.
const exampleFile = `# /etc/tend/sup.yaml
listen_http: 0.0.0.0:9631
listen_ctl: 127.0.0.1:9632
listen_gossip: 0.0.0.0:9638
peers: [10.0.0.11, "10.0.0.12:9638"]
org: acme
service_min_backoff_period: 1s
service_max_backoff_period: 2m
service_restart_cooldown_period: 5m
json_logging: true
http:
  redact: true
  auth_tokens:
    - REPLACE-with-a-long-random-token
  # auth_token_files: [/etc/tend/gateway.tokens]   # mode 0600
monitor:
  listen: 0.0.0.0:9700
  api_keys: [REPLACE-with-another-random-key]
  metrics:
    enabled: true
  healthy:
    diskfreebytes:
      lower: 500MB
      upper: 1GiB
    servicesdown:
      lower: 0
      upper: 2
services:
  - pkg: core/redis
    group: prod
    topology: standalone
    strategy: none
    binding_mode: strict
    health_check_interval: 10
    shutdown_timeout: 5
    log_max_bytes: 50MiB
    log_backups: 2
  - pkg: acme/web
    group: prod
    binds: ["db:postgres.prod"]
`

// configDoc is the whole of docs/CONFIG.md.
func configDoc() string {
	var b strings.Builder
	b.WriteString(`# Configuring ` + "`tend sup run`" + `

<!-- Generated from internal/supcfg (Options, docs.go). Do not edit by hand:
     go test ./internal/supcfg -run TestConfigDoc -update -->

Every option of ` + "`tend sup run`" + ` can be given three ways: a command-line flag,
an environment variable, or a key of the YAML file named by ` + "`--config FILE`" + `
(or ` + "`TEND_CONFIG`" + `). When an option is given in several places the flag wins
over the variable, the variable over the file, and the file over the default.

- **Names.** A nested YAML key maps to a variable by joining its parts with ` + "`_`" + `,
  upper-cased, after ` + "`TEND_`" + `: ` + "`monitor.healthy.diskfreebytes.lower`" + ` is
  ` + "`TEND_MONITOR_HEALTHY_DISKFREEBYTES_LOWER`" + `. The few exceptions (Habitat's
  names) are in the table; Habitat's ` + "`HAB_`" + ` variables noted there are read too.
- **Durations** are Go durations (` + "`500ms`, `2m30s`" + `) or a bare number of
  seconds (` + "`5`" + `), as Habitat's flags take them.
- **Sizes** are a number of bytes or a number with a unit: ` + "`500MB`" + ` (powers of
  1000), ` + "`1GiB`" + ` (powers of 1024).
- **Lists** are YAML lists in the file, repeated flags (or one flag with commas),
  and comma-separated variables. A list given in a stronger place replaces the
  weaker one; lists are not merged.
- An **empty variable** counts as unset.
- **Unknown keys** in the file are an error, as are malformed values; the error
  names the flag, the variable, or the file and line.
- **Secrets.** Gateway tokens and monitoring API keys have no flag (a command
  line is visible to every user). Token files must not be readable by group or
  others (mode 0600 or stricter) and hold one token per line (blank lines and
  ` + "`#`" + ` comments skipped). Tokens never appear in logs or errors; a dump of the
  configuration shows them as ` + "`****`" + ` and their last four characters.

## Options

`)
	b.WriteString(MarkdownTable())
	b.WriteString(`
Restart backoff: a service that crashes is restarted at once the first time;
if it crashes again before it has stayed up for the cooldown period, the
next restart waits the min backoff period, then twice that, and so on up to
the max (with jitter). Staying up for the cooldown period starts over.
Habitat's defaults (0, 0, 300 s) never back off; tend's (1 s, 60 s, 60 s) do.

Service logs: ` + "`svc/NAME/logs/`" + ` holds the run hook's output (` + "`run.stdout.log`" + `,
` + "`run.stderr.log`" + `, appended across restarts) and each hook's (` + "`HOOK.stdout.log`" + `,
` + "`HOOK.stderr.log`" + `, emptied at each run). Like supervisord's
` + "`logfile_maxbytes`" + ` and ` + "`logfile_backups`" + `, a file about to pass the max size is
renamed to ` + "`NAME.log.1`" + ` (` + "`.1`" + ` to ` + "`.2`" + `, and so on; the oldest beyond the
backups is deleted) and a new one started, between two lines; with 0 backups the
file is emptied instead, with a max of 0 it is never rotated. So a service's
logs take at most (backups + 1) × max bytes per file. Lines wait for the disk in
a queue of 256 KiB per file: a service that writes faster than the disk loses
lines of its own log, counted in it as ` + "`[tend: N lines dropped]`" + `, and holds
up no other service's output (the supervisor's own log still has every line).

## Services to load at start-up

The file (and only the file) may list services to load when the supervisor
starts, so that a container starts fully configured with one command. Each item
takes the options of ` + "`tend svc load`" + `; only ` + "`pkg`" + ` is required. Services
from the file are loaded with ` + "`--force`" + `: the file wins over the options a
service was loaded with before.

A package that is not there (no such directory, nothing installed under that
ident) or two items that would run as one service make ` + "`sup run`" + ` exit
with status 1 and one line naming them, before anything is created or
started: a supervisor that came up without a service its file lists would
look ready and healthy while missing it. Other faults of a package (a
template that does not parse, a missing bind) are reported when it is
loaded: logged, and in ` + "`/status`" + `, while the other services run.

| key | meaning |
|---|---|
| ` + "`pkg`" + ` | ` + "`origin/name[/version[/release]]`" + ` installed under the root, or a path to a package directory (` + "`/...`, `./...`" + `; relative to the file's directory) |
| ` + "`group`" + ` | service group name (default ` + "`default`" + `) |
| ` + "`topology`" + ` | ` + "`standalone`" + ` (default) or ` + "`leader`" + ` |
| ` + "`strategy`" + ` | update strategy: ` + "`none`" + ` (default), ` + "`at-once`" + `, ` + "`rolling`" + ` |
| ` + "`update_condition`" + ` | ` + "`latest`" + ` (default) or ` + "`track-channel`" + ` |
| ` + "`binds`" + ` | list of ` + "`NAME:SVC.GROUP[@ORG]`" + ` |
| ` + "`binding_mode`" + ` | ` + "`strict`" + ` (default) or ` + "`relaxed`" + ` |
| ` + "`health_check_interval`" + ` | seconds (or a duration) between health checks (default 30) |
| ` + "`health_check_grace`" + ` | seconds (or a duration) after a start during which a failing health check reports UNKNOWN, until one passes (default 0: none) |
| ` + "`shutdown_timeout`" + ` | seconds (or a duration) to wait after the stop signal before SIGKILL (default: the package's, else 8) |
| ` + "`log_max_bytes`" + ` | size at which each of the service's log files is rotated, like ` + "`10MiB`" + `; 0 = never (default: ` + "`service_log_max_bytes`" + `) |
| ` + "`log_backups`" + ` | rotated log files the service keeps (default: ` + "`service_log_backups`" + `) |
| ` + "`hook_timeout`" + ` | seconds (or a duration) one run of the init, reconfigure, file-updated or post-stop hook may take before it is killed (default 60) |

## Example

` + "```yaml\n")
	b.WriteString(exampleFile)
	b.WriteString("```\n")
	return b.String()
}
