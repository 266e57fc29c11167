#!/usr/bin/env bash
# Start-up and memory of N services on the two cases a host sees
# (docs/BENCHMARKS.md, issue 11), tend beside the bare Go floor:
#   fresh    a root holding only installed packages: no svc/, no sup/
#   restart  the same root again, after that supervisor ran the same N
#            services and was stopped (`tend sup term`)
# Nothing is deleted until the end of the run, so no case starts next to a
# tree that was just removed (only the harness's own runs do that).
#
#   bench/hosts.sh [-r REPS] [-n N] [-w WINDOW_S] [-v "NAME=REV ..."] [PEERS]
#
# -r repetitions (5), -n services (500), -w footprint window in seconds (10),
# -v tend built as of git revisions, measured as peers tend-NAME (e.g.
# -v "pageout=HEAD~1" measures the parent commit beside HEAD). PEERS
# (tend,go-minimal) run interleaved: repetitions outer, peers inner.
# Per case: all_ms = last of the N stamp programs started, from the
# supervisor's fork; first_ms = the first; up_cpu_s = the CPU the supervisor
# had used by then; then, after SETTLE_S (5) s, the
# supervisor's RssAnon (anon_kb), PSS (pss_kb) and RSS (rss_kb), and the CPU
# it used in the window. Results: bench/results/hosts-DATE/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

REPS=5 N=500 WINDOW_S=10 VARIANTS=
while getopts "r:n:w:v:" o; do
	case $o in
	r) REPS=$OPTARG ;; n) N=$OPTARG ;; w) WINDOW_S=$OPTARG ;; v) VARIANTS=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
PEERS=${1:-tend,go-minimal}
for v in $VARIANTS; do [[ ,$PEERS, == *,tend-${v%%=*},* ]] || PEERS+=,tend-${v%%=*}; done
SETTLE_S=${SETTLE_S:-5}

bench_setup
trap 'cleanup_on_exit 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
bench_variants "$VARIANTS"
BENCH_DIR=$H
# shellcheck source=/dev/null
source "$H/lib.sh"
set +e # as in the harness: its functions return non-zero on their way
build_tool
OUT=$repo/bench/results/hosts-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
WORK_ROOT=$work/runs
mkdir -p "$WORK_ROOT"

# relaunch: start the supervisor again in RUN_DIR, as sup_begin does but
# over what the last run left.
relaunch() {
	RUN_ID="bench$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	rm -f "$RUN_DIR/sup.pid"
	SUP_ARGV=()
	adapter_argv "$RUN_DIR"
	(cd "$RUN_DIR" && BENCH_RUN_ID=$RUN_ID exec "$BT" launch --pidfile "$RUN_DIR/sup.pid" \
		--t0file "$RUN_DIR/t0" --log "$RUN_DIR/sup.log" --timeout 900s -- "${SUP_ARGV[@]}") &
	LAUNCH_PID=$!
	local t=200
	while [[ ! -s $RUN_DIR/sup.pid ]] && ((t-- > 0)); do sleep 0.01; done
	[[ -s $RUN_DIR/sup.pid ]] || die "$PEER: supervisor did not start again"
	SUP_PID=$(<"$RUN_DIR/sup.pid")
}

# measure CASE REP: wait for the N starts, then the footprint; record.
measure() {
	local kase=$1 rep=$2 deadline=$((SECONDS + 180)) res fp
	while ((SECONDS < deadline)); do
		[[ -f $RUN_DIR/starts ]] && (($(grep -c '^S' "$RUN_DIR/starts") >= N)) && break
		sleep 0.05
	done
	res=$("$BT" startspan --file "$RUN_DIR/starts" --t0file "$RUN_DIR/t0" 2>&1) || res="error=1"
	# CPU the supervisor used from its start to here: start-up's work,
	# steadier than the elapsed time on a busy machine.
	local st
	st=$(<"/proc/$SUP_PID/stat") && st=${st##*) } && read -r -a st <<<"$st" &&
		res+=" up_cpu_s=$(awk -v t=$((st[11] + st[12])) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')"
	sleep "$SETTLE_S"
	[[ -z ${BENCH_DEBUG:-} ]] || { p=$(<"$RUN_DIR/sup.pid"); log "sup.pid $p: $(cut -d" " -f1-3 /proc/$p/stat)"; }
	fp=$("$BT" footprint --pidfile "$RUN_DIR/sup.pid" --comms "$SUP_COMMS" --duration "${WINDOW_S}s")
	KEEP_WORK=1 sup_end
	record "$kase" "$N" "$rep" "$res $fp $STOP_RES"
}

IFS=, read -r -a PLIST <<<"$PEERS"
{
	echo "# started $(date -u +%FT%TZ) on $(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# hosts: peers=$PEERS reps=$REPS n=$N window_s=$WINDOW_S settle_s=$SETTLE_S variants=$VARIANTS tend=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD || echo +dirty)"
} >>"$RESULTS"
for PEER in "${PLIST[@]}"; do
	load_adapter "$PEER"
	ver=$(adapter_check 2>&1) || die "$PEER: check failed: $ver"
	echo "# peer $PEER: $(echo "$ver" | head -1) | settings: ${ADAPTER_SETTINGS:-}" >>"$RESULTS"
done
for ((rep = 1; rep <= REPS; rep++)); do
	for PEER in "${PLIST[@]}"; do
		load_adapter "$PEER"
		stamp_argv "@DIR@/starts" 100000000
		KEEP_WORK=1 sup_begin "$PEER" "$N" "${STAMP_ARGV[@]}"
		measure host-fresh "$rep"
		mv "$RUN_DIR/starts" "$RUN_DIR/starts.fresh"
		sleep "${PREPARE_PAUSE_S:-1.2}"
		relaunch
		measure host-restart "$rep"
	done
done
"$BT" summarize "$RESULTS" >"$OUT/summary.tsv"
"$here/table.sh" "$OUT/summary.tsv" | tee "$OUT/table.md"
