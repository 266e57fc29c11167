#!/usr/bin/env bash
# A long run of the chaos test (e2e/chaos_test.go, issue 11): clients load,
# stop, start and unload services while the supervisor is SIGKILLed at
# random, ROUNDS times; then its counts.
#   bench/chaos.sh [ROUNDS]      default 1000
# TEND_CHAOS_SEED replays a run (the seed is in the output). The full test
# output is kept in bench/results/chaos-DATE.log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
rounds=${1:-1000}
mkdir -p "$repo/bench/results"
log=$repo/bench/results/chaos-$(date +%Y%m%d-%H%M%S).log
# About 3 s a round on a busy 2-core host, race detector on.
timeout=$(( rounds * 6 + 600 ))s
cd "$repo" && TEND_CHAOS_ROUNDS=$rounds go test -race -count=1 -timeout "$timeout" \
	-run '^TestChaosSIGKILLRunsEachServiceOnce$' -v ./e2e/ >"$log" 2>&1
rc=$?
grep -E 'chaos: |chaos tallies|chaos time' "$log" | sed 's/^ *chaos_test.go:[0-9]*: //'
failed=$(grep -oE '^ +chaos_test.go:[0-9]+: round [0-9]+' "$log" | awk '{ print $3 }' | sort -u | wc -l)
echo "rounds with a failure: $failed  (details in $log)"
exit $rc
