#!/usr/bin/env bash
# The gossip ring at 50 members (docs/BENCHMARKS.md, issues 5 and 14; bench/ring/scale.sh
# runs it at 25-200 members): 50 real
# `tend sup run` on 127.0.0.1, 10 service groups of 5, and
#   (a) a new service loaded on one member -> in every member's /census (20 loads)
#   (b) a 64 KiB `config apply` -> its version in every /census (10 applies)
#   (c) a member SIGKILLed -> confirmed in every other /census (3 kills)
#   (d) gossip bytes/s per member and (e) RssAnon and CPU per member, in a 60 s quiet window
#   and the formation time after the last start (goals of issue 14)
# Usage: bench/ring/run.sh [driver flags], e.g. -n 20 -loads 5 -steady 0;
# `bench/ring/run.sh -h` lists them. Results go to bench/results/ring-DATE/
# (summary.txt and one TSV per measurement). 10-12 minutes, half of it
# waiting for the ring to form (every service in every census; see the docs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tend-bench-ring-bin.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend && go build -o "$work/ring" ./bench/ring)
out=$repo/bench/results/ring-$(date +%Y%m%d-%H%M%S)
label="commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), $(git -C "$repo" status --porcelain 2>/dev/null | wc -l) uncommitted paths"
# The driver stops its supervisors and removes its roots itself, also on
# Ctrl-C and on failure.
"$work/ring" -tend "$work/tend" -out "$out" -label "$label" "$@"
echo "results: $out" >&2
