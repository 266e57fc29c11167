#!/usr/bin/env bash
# Leader failover and rolling updates on 5 members (docs/BENCHMARKS.md,
# issue 13): TRIALS (20) SIGKILLs of the leader's supervisor, each timed
# until every other member's /census shows a new Finished election, and
# ROLLS (3) releases rolled through the group. Usage: [TRIALS=20] [ROLLS=3]
# bench/election/run.sh [driver flags]. Results: bench/results/election-DATE.tsv
# and the summary on stdout. About 5 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tend-bench-election-bin.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend && go build -o "$work/election" ./bench/election)
mkdir -p "$repo/bench/results"
out=$repo/bench/results/election-$(date +%Y%m%d-%H%M%S).tsv
echo "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$work/election" -tend "$work/tend" -out "$out" -trials "${TRIALS:-20}" -rolls "${ROLLS:-3}" "$@"
echo "results: $out" >&2
