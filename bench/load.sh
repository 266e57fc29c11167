#!/usr/bin/env bash
# `svc load` to running, through the CLI (issue 2): N loads of an installed
# package, each timed from the CLI's start until it has printed that the
# service is up; p50 and p99 in ms. Usage: bench/load.sh [N]
set -euo pipefail
n=${1:-30}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tend-load.XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
mkdir -p "$work/pkg/hooks"
echo "bench/loadme/1.0.0/20260101000000" >"$work/pkg/IDENT"
printf '#!/bin/sh\nexec sleep 100000\n' >"$work/pkg/hooks/run"
chmod +x "$work/pkg/hooks/run"
export TEND_ROOT=$work/root
"$work/tend" pkg install "$work/pkg" >/dev/null
"$work/tend" sup run --listen-http 127.0.0.1:19131 --listen-ctl 127.0.0.1:19132 >"$work/sup.log" 2>&1 &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/19131) 2>/dev/null && break; sleep 0.05; done
times=()
for _ in $(seq "$n"); do
	a=$(date +%s%N)
	"$work/tend" svc load bench/loadme --remote-sup 127.0.0.1:19132 | grep -q "is up"
	b=$(date +%s%N)
	times+=($(( (b - a) / 1000 )))
	"$work/tend" svc unload bench/loadme --remote-sup 127.0.0.1:19132 >/dev/null
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {
	p50=a[int((NR+1)/2)]; p99=a[int(NR*0.99+0.999)];
	printf "svc load to running, %d loads: p50 %.1f ms, p99 %.1f ms\n", NR, p50/1000, p99/1000 }'
