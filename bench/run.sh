#!/usr/bin/env bash
# tend's benchmarks beside its peers, in one run (docs/BENCHMARKS.md).
#   bench/run.sh                  restart, restart-long, startup and scale for tend and the peers
#   bench/run.sh TESTS PEERS      e.g. bench/run.sh scale tend,go-minimal
# Options go to the harness (-r reps, -n sizes, -w idle seconds): see
# ../shared/bench-peers/README.md. Peers come from Debian (supervisor, s6,
# runit; installed when missing); go-minimal is the bare Go floor.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
harness=${BENCH_PEERS:-$repo/../shared/bench-peers}
[[ -d $harness ]] || { echo "no peer harness at $harness" >&2; exit 1; }

need=()
command -v supervisord >/dev/null || need+=(supervisor)
command -v s6-svscan >/dev/null || need+=(s6)
command -v runsvdir >/dev/null || need+=(runit)
command -v wrk >/dev/null || need+=(wrk)
if ((${#need[@]})); then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/tend-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$harness" "$work/h"
chmod -R u+w "$work/h"
cp "$here/peers/tend.sh" "$work/h/adapters/tend.sh"
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
export TEND_BIN=$work/tend

tests=${1:-restart,restart-long,startup,scale}
peers=${2:-tend,supervisord,s6,runit,go-minimal}
shift $(( $# >= 2 ? 2 : $# ))
out=$repo/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# One harness run for every test, so its summary (and the table) holds all.
"$work/h/run.sh" -o "$out" "$@" "$tests" "$peers"
"$work/h/table.sh" "$out/summary.tsv" | tee "$out/table.md"
