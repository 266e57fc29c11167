#!/usr/bin/env bash
# Hand-over time of `tend sup restart` (issue 16): from the command to the
# new supervisor ready, with N services running (default 500), ROUNDS
# times (default 5); prints each and the median (p50). Every round
# re-executes a fresh copy of the binary, so each is a real exec of a
# file not running yet; the services' pids are checked unchanged at the
# end.
#   bench/handover.sh [N] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
n=${1:-500}
rounds=${2:-5}
work=$(mktemp -d /tmp/tend-handover.XXXXXX)
sup_pid=
cleanup() {
	[[ -z $sup_pid ]] || { kill -TERM "$sup_pid" 2>/dev/null; wait "$sup_pid" 2>/dev/null || true; }
	[[ -z ${KEEP_LOG:-} ]] || cp "$work/sup.log" "$KEEP_LOG"
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
mkdir -p "$work/root"
echo "services:" >"$work/tend.yaml"
for i in $(seq 1 "$n"); do
	p=$work/pkgs/s$i
	mkdir -p "$p/hooks"
	echo "bench/s$i/1.0.0/20260101000000" >"$p/IDENT"
	printf '#!/bin/sh\nexec sleep 100000\n' >"$p/hooks/run"
	chmod +x "$p/hooks/run"
	echo "  - pkg: $p" >>"$work/tend.yaml"
done
base=$(( 20000 + RANDOM % 20000 ))
ctl=127.0.0.1:$base
export TEND_ROOT=$work/root
"$work/tend" sup run --config "$work/tend.yaml" --listen-ctl "$ctl" \
	--listen-http "127.0.0.1:$((base + 1))" --listen-gossip "127.0.0.1:$((base + 2))" \
	>"$work/sup.log" 2>&1 &
sup_pid=$!
for _ in $(seq 1 600); do
	if "$work/tend" sup stats --remote-sup "$ctl" 2>/dev/null | grep -q "^ready: true"; then break; fi
	sleep 0.2
done
"$work/tend" sup stats --remote-sup "$ctl" | grep -E "^(ready|services)"
pids() { "$work/tend" svc status --json --remote-sup "$ctl" | grep -oE '"pid": *[0-9]+' | sort | md5sum; }
before=$(pids)
times=()
for r in $(seq 1 "$rounds"); do
	cp "$work/tend" "$work/tend-$r"
	out=$("$work/tend" sup restart --binary "$work/tend-$r" --remote-sup "$ctl")
	t=$(sed -nE 's/.*restarted in ([0-9.]+)(ms|s);.*/\1 \2/p' <<<"$out" | awk '{ print ($2 == "s") ? $1 * 1000 : $1 }')
	echo "round $r: ${t} ms  ($(tail -1 <<<"$out"))"
	times+=("$t")
done
[[ $before == "$(pids)" ]] && echo "every service kept its pid" || echo "PIDS CHANGED"
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "p50 of %d: %s ms\n", NR, a[int((NR + 1) / 2)] }'
