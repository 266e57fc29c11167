#!/usr/bin/env bash
# The ring at 25, 50, 100 and 200 members (docs/BENCHMARKS.md, "Issue 14"):
# RUNS rounds, each running the driver once per size (sizes inner, so a
# change of the machine's load spreads over every size), then the medians
# per size over the rounds. Each run: formation after the last start, 10
# applies of a 64 KiB config, one SIGKILLed member, and a quiet window for
# wire bytes/s, RssAnon and CPU per member. Every process a run starts is
# stopped by its driver. Usage: [SIZES="25 50"] [RUNS=3] bench/ring/scale.sh
# [driver flags]. Results: bench/results/ring-scale-DATE/ (one directory
# per run, and summary.md). About 16 minutes a round on 2 cores.
# The steady window is at least one memberlist push/pull interval at N
# plus 25 s (tend refreshes its counters every 10 s): 60 s at 25 members,
# 85 s at 50, 115 s at 100, 145 s at 200; the headline figure,
# wire_Bps_mean, is the mean over the members of each one's bytes/s over
# it (wire_Bps_median: the median member, same window).
# Supervisors start 8 at a time, each batch once the one before answers
# /ready (-start-paced), with GOMAXPROCS=1 (-gomaxprocs 1): N members here
# share 2 cores, so each stands for a host with a sliver of one; formation
# still counts from the last start. -start-paced=false -gomaxprocs 0 (after
# the script's flags) gives the session 8 harness. The steady window opens
# 45 s after formation and no earlier than 75 s after the last start: a
# member's early push/pulls (internal/ring/early.go) go on up to 75 s after
# its start (~31 s in a formed ring) and are start-up, not steady state.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
sizes=${SIZES:-25 50 100 200}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/tend-bench-ring-bin.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend && go build -o "$work/ring" ./bench/ring)
out=$repo/bench/results/ring-scale-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
label="commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), $(git -C "$repo" status --porcelain 2>/dev/null | wc -l) uncommitted paths"
for r in $(seq "$runs"); do
	for n in $sizes; do
		echo "$(date +%T) round $r, $n members, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		"$work/ring" -tend "$work/tend" -out "$out/n$n-r$r" -label "$label" -n "$n" \
			-loads 0 -applies 10 -kills 1 -settle 45s -converge-timeout 2m -start-paced -gomaxprocs 1 "$@" >/dev/null ||
			echo "round $r, $n members: failed (see $out/n$n-r$r)" >&2
	done
done
"$work/ring" -aggregate -out "$out" | tee "$out/summary.md"
echo "results: $out" >&2
