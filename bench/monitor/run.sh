#!/usr/bin/env bash
# Monitoring endpoints under load (docs/MONITORING.md):
#   bench/monitor/run.sh            500 sleep services; wrk on /healthy and /ready of tend
#                                   vs a bare Go server (3 alternating rounds), and
#                                   200 sequential curl scrapes of /metrics (p50/p99).
# Env: N (services, 500), DUR (wrk seconds, 10), ROUNDS (3), SCRAPES (200).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
N=${N:-500} DUR=${DUR:-10} ROUNDS=${ROUNDS:-3} SCRAPES=${SCRAPES:-200}
for c in wrk curl; do command -v $c >/dev/null || { echo "missing $c" >&2; exit 1; }; done

work=$(mktemp -d /tmp/tend-monbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend && go build -o "$work/refserver" ./bench/monitor/refserver)

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
HTTP=127.0.0.1:$(freeport) CTL=127.0.0.1:$(freeport) GOSSIP=127.0.0.1:$(freeport) REF=127.0.0.1:$(freeport)

{
	echo "services:"
	for i in $(seq 1 "$N"); do
		d=$work/pkgs/s$i
		mkdir -p "$d/hooks"
		echo "bench/s$i/1.0.0/20260101000000" >"$d/IDENT"
		printf '#!/bin/sh\nexec sleep 100000\n' >"$d/hooks/run"
		chmod +x "$d/hooks/run"
		echo "  - pkg: $d"
	done
} >"$work/sup.yaml"

"$work/tend" sup run --root "$work/root" --config "$work/sup.yaml" --listen-http "$HTTP" --listen-ctl "$CTL" --listen-gossip "$GOSSIP" \
	--monitor-healthy-diskfreebytes-lower 0 >"$work/sup.log" 2>&1 &
pids+=($!)
"$work/refserver" -listen "$REF" 2>"$work/ref.log" &
pids+=($!)

deadline=$((SECONDS + 120))
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/ready") == 200 ]]; do
	((SECONDS < deadline)) || { echo "tend not ready" >&2; tail "$work/sup.log" >&2; exit 1; }
	sleep 0.2
done
until [[ $(curl -s "http://$HTTP/metrics" | grep -c '^tend_service_up{.*} 1$') -ge $N ]]; do
	((SECONDS < deadline)) || { echo "services not all up" >&2; exit 1; }
	sleep 0.5
done
until curl -sf "http://$REF/ready" >/dev/null; do sleep 0.1; done
# Same bytes on both sides.
for p in healthy ready; do
	[[ $(curl -s "http://$HTTP/$p") == $(curl -s "http://$REF/$p") ]] || { echo "/$p bodies differ: $(curl -s "http://$HTTP/$p")" >&2; exit 1; }
done
echo "tend $(git -C "$repo" rev-parse --short HEAD 2>/dev/null), $N services up, $(nproc) cores, wrk -t2 -c32 -d${DUR}s"

rps() { wrk -t2 -c32 -d"${DUR}s" --latency "$1" | tee -a "$work/wrk.log" | awk '/^Requests\/sec/ {print $2}'; }
for p in healthy ready; do
	tsum=0 rsum=0
	for r in $(seq 1 "$ROUNDS"); do
		t=$(rps "http://$HTTP/$p") ref=$(rps "http://$REF/$p")
		printf '/%-8s round %d: tend %10.0f req/s  ref %10.0f req/s  ratio %.2f\n' "$p" "$r" "$t" "$ref" "$(echo "$t/$ref" | bc -l)"
		tsum=$(echo "$tsum+$t" | bc -l) rsum=$(echo "$rsum+$ref" | bc -l)
	done
	printf '/%-8s mean:    tend %10.0f req/s  ref %10.0f req/s  ratio %.2f (goal >= 0.80)\n' "$p" "$(echo "$tsum/$ROUNDS" | bc -l)" "$(echo "$rsum/$ROUNDS" | bc -l)" "$(echo "$tsum/$rsum" | bc -l)"
done

for _ in $(seq 1 "$SCRAPES"); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://$HTTP/metrics"
done | sort -n >"$work/scrapes"
bytes=$(curl -s "http://$HTTP/metrics" | wc -c)
awk -v n="$SCRAPES" -v b="$bytes" '{v[NR]=$1} END {
	p50=v[int(n*0.50+0.5)]; p99=v[int(n*0.99+0.5)];
	printf "/metrics  %d sequential scrapes (%d bytes): p50 %.2f ms  p99 %.2f ms  max %.2f ms (goal p99 <= 20 ms)\n", n, b, p50*1000, p99*1000, v[n]*1000 }' "$work/scrapes"
