# shellcheck shell=bash
# Adapter for tend in the peer harness (../shared/bench-peers). bench/run.sh
# copies the harness to a scratch dir and drops this file into its adapters/.
# Services are packages installed before the timed part and loaded from a
# start-up file, so `up_ms` measures a supervisor that starts configured.

TEND_BIN=${TEND_BIN:-}
TEND_PORT=${TEND_PORT:-19031}
TEND_CTL_PORT=${TEND_CTL_PORT:-19032}
SUP_COMMS="tend"
ADAPTER_SETTINGS="restart backoff 0/0 (min/max); gateway 127.0.0.1:$TEND_PORT; services from a start-up file"

adapter_check() {
	[[ -n $TEND_BIN && -x $TEND_BIN ]] || { echo "set TEND_BIN"; return 1; }
	echo "tend $("$TEND_BIN" --version 2>/dev/null | head -1)"
}

adapter_prepare() {
	local dir=$1 n=$2 i; shift 2
	mkdir -p "$dir/pkgsrc" "$dir/root"
	{
		echo "services:"
		for ((i = 1; i <= n; i++)); do echo "  - pkg: bench/svc$i"; done
	} >"$dir/tend.yaml"
	for ((i = 1; i <= n; i++)); do
		mkdir -p "$dir/pkgsrc/svc$i/hooks"
		echo "bench/svc$i/1.0.0/20260101000000" >"$dir/pkgsrc/svc$i/IDENT"
		printf '#!/bin/sh\nexec %s\n' "$(printf '%q ' "$@")" >"$dir/pkgsrc/svc$i/hooks/run"
		chmod +x "$dir/pkgsrc/svc$i/hooks/run"
		"$TEND_BIN" pkg install --root "$dir/root" "$dir/pkgsrc/svc$i" >/dev/null || return 1
	done
}

adapter_argv() {
	SUP_ARGV=("$TEND_BIN" sup run --root "$1/root" --config "$1/tend.yaml"
		--listen-http "127.0.0.1:$TEND_PORT" --listen-ctl "127.0.0.1:$TEND_CTL_PORT"
		--service-min-backoff-period 0 --service-max-backoff-period 0)
}

adapter_ready() { wait_port "$TEND_PORT" 30; }

adapter_status() { TEND_ROOT="$1/root" "$TEND_BIN" svc status --remote-sup "127.0.0.1:$TEND_CTL_PORT"; }

adapter_api() { echo "GET http://127.0.0.1:$TEND_PORT/services"; }

adapter_stop() { kill -TERM "$2"; }
