#!/usr/bin/env bash
# A ring of at most 12 members given the CPU share that many members get
# in a large ring on this machine (docs/BENCHMARKS.md, "Issue 14"): the
# driver and every supervisor it starts run in a cpu cgroup limited to
# CORES cores (12 members x 2 cores / 200 = 0.12: the share at 200). It
# shows what starvation does to probes, formation and applies without
# starting 200 processes; it does not show the costs that grow with the
# ring's size. Needs root and a cpu cgroup (v1 or v2).
# Usage: [CORES=0.12] bench/ring/starved.sh [driver flags]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cores=${CORES:-0.12}
quota=$(awk -v c="$cores" 'BEGIN { printf "%d", c * 100000 }')
work=$(mktemp -d /tmp/tend-bench-ring-bin.XXXXXX)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	cg=/sys/fs/cgroup/tend-bench-starved.$$
	mkdir "$cg"
	echo "$quota 100000" >"$cg/cpu.max"
else
	cg=/sys/fs/cgroup/cpu/tend-bench-starved.$$
	mkdir "$cg"
	echo 100000 >"$cg/cpu.cfs_period_us"
	echo "$quota" >"$cg/cpu.cfs_quota_us"
fi
trap 'rm -rf "$work"; rmdir "$cg" 2>/dev/null || true' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend && go build -o "$work/ring" ./bench/ring)
out=$repo/bench/results/ring-starved-$(date +%Y%m%d-%H%M%S)
label="commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), $cores cores for all"
# The driver stops its supervisors; the cgroup is empty when it exits.
(echo $BASHPID >"$cg/cgroup.procs" && exec "$work/ring" -tend "$work/tend" -out "$out" -label "$label" \
	-n 12 -loads 0 -applies 3 -kills 1 -settle 2s -steady 15s -converge-timeout 1m "$@")
echo "results: $out" >&2
