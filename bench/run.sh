#!/usr/bin/env bash
# tend's benchmarks beside its peers, in one run (docs/BENCHMARKS.md).
#   bench/run.sh                  restart, restart-long, startup and scale for tend and the peers
#   bench/run.sh TESTS PEERS      e.g. bench/run.sh scale tend,go-minimal
# Options go to the harness (-r reps, -n sizes, -w idle seconds): see
# ../shared/bench-peers/README.md. Peers come from Debian (supervisor, s6,
# runit; installed when missing); go-minimal is the bare Go floor.
# TEND_VARIANTS="NAME=REV ..." adds tend as of those git revisions as the
# peers tend-NAME (bench/lib.sh). bench/hosts.sh measures start-up and
# memory on a fresh root and on a restart over an existing one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

tests=${1:-restart,restart-long,startup,scale}
peers=${2:-tend,supervisord,s6,runit,go-minimal}
shift $(( $# >= 2 ? 2 : $# ))
need=()
[[ ,$peers, != *,supervisord,* ]] || command -v supervisord >/dev/null || need+=(supervisor)
[[ ,$peers, != *,s6,* ]] || command -v s6-svscan >/dev/null || need+=(s6)
[[ ,$peers, != *,runit,* ]] || command -v runsvdir >/dev/null || need+=(runit)
[[ ,$tests, != *,api,* && ,$tests, != *,all,* ]] || command -v wrk >/dev/null || need+=(wrk)
if ((${#need[@]})); then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

bench_setup
trap 'rm -rf "$work"' EXIT
bench_variants "${TEND_VARIANTS:-}"
for v in ${TEND_VARIANTS:-}; do peers+=,tend-${v%%=*}; done
out=$repo/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# One harness run for every test, so its summary (and the table) holds all.
"$H/run.sh" -o "$out" "$@" "$tests" "$peers"
"$H/table.sh" -p "$peers" "$out/summary.tsv" | tee "$out/table.md"
"$here/table.sh" "$out/summary.tsv" | tee -a "$out/table.md"
