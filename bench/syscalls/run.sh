#!/usr/bin/env bash
# System calls per service of tend's start-up, on the two cases of
# bench/hosts.sh (fresh root; restart over it after `tend sup term`):
#
#   bench/syscalls/run.sh [-n N] [-k TOP] [TEND_BIN]
#
# N services (500) run the harness's stamp program from a start-up file,
# as bench/hosts.sh's adapter sets them up. Each case runs under
# `perf record -e raw_syscalls:sys_enter --call-graph fp` until the
# supervisor has been idle 1 s after the last start (settle included),
# then stops. Printed per case: system calls per service made by tend's
# own code (the Go runtime's futex/nanosleep, which vary with load, and
# the start-up /proc sweep, which grows with the host's processes, are
# left out) and the TOP (25) call sites. Counts, unlike times, do not
# move with the machine's load. Needs root (cgroups), perf, python3, cc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
N=500 TOP=25
while getopts "n:k:" o; do
	case $o in n) N=$OPTARG ;; k) TOP=$OPTARG ;; *) sed -n '2,16p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
work=$(mktemp -d /tmp/tend-syscalls.XXXXXX)
trap 'rm -rf "$work"' EXIT
BIN=${1:-}
if [[ -z $BIN ]]; then
	(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
	BIN=$work/tend
fi
cc -O2 -static -o "$work/stamp" "${BENCH_PEERS:-$repo/../shared/bench-peers}/stamp/stamp.c"
D=$work/run
mkdir -p "$D/pkgsrc/svc1/hooks" "$D/root"
run=$(printf '#!/bin/sh\nexec %q %q 100000000\n' "$work/stamp" "$D/starts")
echo "bench/svc1/1.0.0/20260101000000" >"$D/pkgsrc/svc1/IDENT"
printf '%s\n' "$run" >"$D/pkgsrc/svc1/hooks/run"
chmod +x "$D/pkgsrc/svc1/hooks/run"
"$BIN" pkg install --root "$D/root" "$D/pkgsrc/svc1" >/dev/null
for ((i = 2; i <= N; i++)); do
	p=$D/root/pkgs/bench/svc$i/1.0.0/20260101000000
	mkdir -p "$p/hooks"
	echo "bench/svc$i/1.0.0/20260101000000" >"$p/IDENT"
	printf '%s\n' "$run" >"$p/hooks/run"
	chmod +x "$p/hooks/run"
done
{ echo "services:"; for ((i = 1; i <= N; i++)); do echo "  - pkg: bench/svc$i"; done; } >"$D/tend.yaml"
mono() { python3 -c 'import time; print("%.6f" % time.clock_gettime(time.CLOCK_MONOTONIC))'; }
for kase in fresh restart; do
	rm -f "$D/starts"
	perf record -k CLOCK_MONOTONIC -q -m 16384 -e raw_syscalls:sys_enter --call-graph fp -o "$D/$kase.data" -- \
		"$BIN" sup run --root "$D/root" --config "$D/tend.yaml" --listen-http 127.0.0.1:0 \
		--listen-ctl 127.0.0.1:0 --listen-gossip 127.0.0.1:0 \
		--service-min-backoff-period 0 --service-max-backoff-period 0 >"$D/$kase.log" 2>&1 &
	deadline=$((SECONDS + 180))
	until [[ -f $D/starts ]] && (($(grep -c '^S' "$D/starts") >= N)); do
		((SECONDS < deadline)) || { echo "$kase: not all $N started" >&2; exit 1; }
		sleep 0.05
	done
	sleep 1
	mono >"$D/$kase.cut"
	"$BIN" sup term --root "$D/root" >/dev/null
	wait
	perf script -i "$D/$kase.data" -F comm,pid,tid,time,trace,ip,sym 2>/dev/null |
		python3 "$here/count.py" "$(<"$D/$kase.cut")" "$N" "$kase" "$TOP" || true # perf script: SIGPIPE at the cut
done
