#!/usr/bin/env bash
# The supervisor's CPU (utime+stime, /proc/PID/stat) when the last of N
# services has started, fresh root then restart over it (as
# bench/hosts.sh and run.sh set them up), for each tend binary given,
# interleaved (repetitions outer), one supervisor at a time:
#
#   bench/syscalls/cpu.sh [-r REPS] [-n N] [-p] TEND_BIN...
#
# Every root is made before the first run and nothing is deleted until
# the end: on ext4 without a journal each new inode skips the inodes freed
# in the last 30 s, so a run must not follow a deletion of its own
# (PAUSE_S, 31 s, after the set-up); the fresh supervisor settles for
# SETTLE_S (5) s before it is stopped. -p also records each run with
# `perf record -a -g` (system-wide: per-task recording would add perf's
# own cost to every fork) into the run's directory, kept in KEEP (a
# directory) with the supervisor's pid and the monotonic time of the last
# start (its stamp line's), for `perf report --pid PID --time ,CUT`.
# up_cpu_s is read when the poll sees the last line, which is later (by
# 10-20 ms, up to ~100 ms under perf), so it includes what the supervisor
# does just after; first_ms and all_ms are from the launch to the first
# and last stamp lines' own times. Needs root (cgroups), cc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
REPS=3 N=500 PERFA=
while getopts "r:n:p" o; do
	case $o in r) REPS=$OPTARG ;; n) N=$OPTARG ;; p) PERFA=1 ;; *) sed -n '2,17p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
(($# > 0)) || { sed -n '2,17p' "$0"; exit 2; }
work=${KEEP:-$(mktemp -d /tmp/tend-cpu.XXXXXX)}
mkdir -p "$work"
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$work"' EXIT
cc -O2 -static -o "$work/stamp" "${BENCH_PEERS:-$repo/../shared/bench-peers}/stamp/stamp.c"
tck=$(getconf CLK_TCK)
for ((r = 1; r <= REPS; r++)); do
	for ((b = 1; b <= $#; b++)); do
		D=$work/r$r-b$b
		mkdir -p "$D/root"
		for ((i = 1; i <= N; i++)); do
			p=$D/root/pkgs/bench/svc$i/1.0.0/20260101000000
			mkdir -p "$p/hooks"
			echo "bench/svc$i/1.0.0/20260101000000" >"$p/IDENT"
			printf '#!/bin/sh\nexec %q %q 100000000\n' "$work/stamp" "$D/starts" >"$p/hooks/run"
			chmod +x "$p/hooks/run"
		done
		{ echo "services:"; for ((i = 1; i <= N; i++)); do echo "  - pkg: bench/svc$i"; done; } >"$D/tend.yaml"
	done
done
sync
sleep "${PAUSE_S:-31}"
for ((r = 1; r <= REPS; r++)); do
	for ((b = 1; b <= $#; b++)); do
		BIN=${!b} D=$work/r$r-b$b
		for kase in fresh restart; do
			rm -f "$D/starts"
			if [[ -n $PERFA ]]; then
				perf record -a -k CLOCK_MONOTONIC -F 2999 -g -o "$D/$kase.perf" -q &
				apid=$!
				sleep 0.5
			fi
			t0=$(date +%s%N)
			"$BIN" sup run --root "$D/root" --config "$D/tend.yaml" --listen-http 127.0.0.1:0 \
				--listen-ctl 127.0.0.1:0 --listen-gossip 127.0.0.1:0 \
				--service-min-backoff-period 0 --service-max-backoff-period 0 >"$D/$kase.log" 2>&1 &
			pid=$!
			deadline=$((SECONDS + 180))
			until [[ -f $D/starts ]] && (($(grep -c '^S' "$D/starts") >= N)); do
				((SECONDS < deadline)) || { echo "$kase: not all $N started" >&2; exit 1; }
				sleep 0.01
			done
			st=$(<"/proc/$pid/stat")
			st=${st##*) }
			read -r -a st <<<"$st"
			echo "$pid" >"$D/$kase.pid"
			# The last start's own time (its line), on the monotonic clock:
			# the poll sees it later, by up to ~100 ms under perf.
			last=$(grep '^S' "$D/starts" | sort -k2 -n | tail -1 | cut -d' ' -f2)
			python3 -c "import time; print('%.6f' % (time.clock_gettime(time.CLOCK_MONOTONIC) - (time.clock_gettime_ns(time.CLOCK_REALTIME) - $last) / 1e9))" >"$D/$kase.cut"
			if [[ -n $PERFA ]]; then kill -INT "$apid"; wait "$apid" || true; fi
			ms=$(grep '^S' "$D/starts" | sort -k2 -n | awk -v t0="$t0" 'NR == 1 { f = $2 } { l = $2 } END { printf "first_ms=%.1f all_ms=%.1f", (f - t0) / 1e6, (l - t0) / 1e6 }')
			echo "bin=$b ($BIN) case=$kase rep=$r up_cpu_s=$(awk -v t=$((st[11] + st[12])) -v hz="$tck" 'BEGIN { printf "%.2f", t / hz }') $ms load=$(cut -d' ' -f1 /proc/loadavg)"
			# The fresh supervisor runs on for SETTLE_S (5) s, as bench/hosts.sh
			# lets it, so that the restart follows one that settled (its
			# deferred writes done, its rumors gossiped): a host's restart.
			if [[ $kase == fresh ]]; then sleep "${SETTLE_S:-5}"; else sleep 1; fi
			"$BIN" sup term --root "$D/root" >/dev/null
			wait "$pid" || true
			sleep 1.2
		done
	done
done
