# shellcheck shell=bash
# Adapter for tend in the peer harness (../shared/bench-peers). bench/run.sh
# copies the harness to a scratch dir and drops this file into its adapters/.
# Services are packages installed before the timed part and loaded from a
# start-up file, so `up_ms` measures a supervisor that starts configured.

# The tend under test; bench/lib.sh's variants set TEND_BIN after sourcing
# this file, so the first one is kept aside for the peer "tend".
TEND_BIN0=${TEND_BIN0:-${TEND_BIN:-}}
TEND_BIN=$TEND_BIN0
TEND_PORT=${TEND_PORT:-19031}
TEND_CTL_PORT=${TEND_CTL_PORT:-19032}
TEND_GOSSIP_PORT=${TEND_GOSSIP_PORT:-19033}
SUP_COMMS="tend"
ADAPTER_SETTINGS="restart backoff 0/0 (min/max); gateway 127.0.0.1:$TEND_PORT; services from a start-up file; stopped by sup term"

adapter_check() {
	[[ -n $TEND_BIN && -x $TEND_BIN ]] || { echo "set TEND_BIN"; return 1; }
	echo "tend $("$TEND_BIN" --version 2>/dev/null | head -1)"
}

# The first package goes in with `tend pkg install`; the others are copies
# of its installed layout (pkgs/ORIGIN/NAME/VERSION/RELEASE holding IDENT
# and hooks/), which is what install would make, 40 ms a package faster.
adapter_prepare() {
	local dir=$1 n=$2 i run; shift 2
	run=$(printf '#!/bin/sh\nexec %s\n' "$(printf '%q ' "$@")")
	mkdir -p "$dir/pkgsrc/svc1/hooks" "$dir/root"
	echo "bench/svc1/1.0.0/20260101000000" >"$dir/pkgsrc/svc1/IDENT"
	printf '%s\n' "$run" >"$dir/pkgsrc/svc1/hooks/run"
	chmod +x "$dir/pkgsrc/svc1/hooks/run"
	"$TEND_BIN" pkg install --root "$dir/root" "$dir/pkgsrc/svc1" >/dev/null || return 1
	local p=$dir/root/pkgs/bench
	[[ -f $p/svc1/1.0.0/20260101000000/hooks/run ]] || { echo "tend pkg install: unexpected layout" >&2; return 1; }
	for ((i = 2; i <= n; i++)); do
		mkdir -p "$p/svc$i/1.0.0/20260101000000/hooks"
		echo "bench/svc$i/1.0.0/20260101000000" >"$p/svc$i/1.0.0/20260101000000/IDENT"
		printf '%s\n' "$run" >"$p/svc$i/1.0.0/20260101000000/hooks/run"
	done
	((n < 2)) || chmod +x "$p"/svc*/1.0.0/20260101000000/hooks/run
	{
		echo "services:"
		for ((i = 1; i <= n; i++)); do echo "  - pkg: bench/svc$i"; done
	} >"$dir/tend.yaml"
}

adapter_argv() {
	SUP_ARGV=("$TEND_BIN" sup run --root "$1/root" --config "$1/tend.yaml"
		--listen-http "127.0.0.1:$TEND_PORT" --listen-ctl "127.0.0.1:$TEND_CTL_PORT"
		--listen-gossip "127.0.0.1:$TEND_GOSSIP_PORT"
		--service-min-backoff-period 0 --service-max-backoff-period 0)
}

adapter_ready() { wait_port "$TEND_PORT" 30; }

adapter_status() { TEND_ROOT="$1/root" "$TEND_BIN" svc status --remote-sup "127.0.0.1:$TEND_CTL_PORT"; }

adapter_api() { echo "GET http://127.0.0.1:$TEND_PORT/services"; }

# What an operator does; it signals the supervisor (SIGTERM) and waits.
adapter_stop() { "$TEND_BIN" sup term --root "$1/root" >/dev/null || kill -TERM "$2"; }
