#!/usr/bin/env bash
# Crash-loop soak (issue 11): one supervisor with no restart backoff and
# three services that print about 1 KiB and exit at once, forever. Every
# SOAK_INTERVAL seconds it samples the supervisor's open fds, threads and
# RssAnon (from /proc), goroutines and heap in use (from /metrics), the
# restarts so far and the size of each service's logs/ directory; at the
# end it prints the table and compares the first third of the samples with
# the last: the supervisor's numbers must stay flat, and logs/ must stay
# within what rotation keeps. It exits 1 when something grows.
#   bench/soak.sh [SECONDS]     default 600 (ten minutes)
# Environment: SOAK_INTERVAL (10 s); SOAK_LOG_MAX_BYTES (1048576) and
# SOAK_LOG_BACKUPS (2), the rotation the supervisor is run with (small, so
# that ten minutes reach the cap) when this tend rotates logs: each logs/
# may then hold 2 files x (backups + 1) x max bytes. A tend without
# rotation is run as it is, and any growth of logs/ is flagged.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
duration=${1:-600}
interval=${SOAK_INTERVAL:-10}
services=(crashA crashB crashC)

work=$(mktemp -d /tmp/tend-soak.XXXXXX)
sup=""
cleanup() {
	if [[ -n $sup ]] && kill -0 "$sup" 2>/dev/null; then
		kill -TERM "$sup"
		for _ in $(seq 100); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$sup" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)

# Each start writes 1 KiB to stdout and 256 bytes to stderr, then fails:
# about 3 MiB a minute per service with no backoff on a 2-core host.
line=$(printf 'x%.0s' $(seq 255))
root=$work/root
mkdir -p "$root"
echo "services:" >"$work/tend.yaml"
for s in "${services[@]}"; do
	p=$work/pkgs/$s
	mkdir -p "$p/hooks"
	echo "soak/$s/1.0.0/20260101000000" >"$p/IDENT"
	{
		echo '#!/bin/sh'
		for _ in 1 2 3 4; do echo "echo $line"; done
		echo "echo $line >&2"
		echo 'exit 1'
	} >"$p/hooks/run"
	chmod +x "$p/hooks/run"
	echo "  - pkg: $p" >>"$work/tend.yaml"
done

rotation=()
cap=""
if "$work/tend" sup run --help 2>&1 | grep -q -- --service-log-max-bytes; then
	max=${SOAK_LOG_MAX_BYTES:-1048576} backups=${SOAK_LOG_BACKUPS:-2}
	rotation=(--service-log-max-bytes "$max" --service-log-backups "$backups")
	# run.stdout.log and run.stderr.log, each with its backups, and the
	# directory's own entry
	cap=$(( 2 * (backups + 1) * max + 4096 ))
	echo "soak: logs rotated at $max bytes, $backups kept: at most $cap bytes per logs/" >&2
else
	echo "soak: this tend does not rotate logs" >&2
fi

# The services' output also goes to the supervisor's stdout: dropped here,
# so only what tend keeps on disk is measured.
"$work/tend" sup run --root "$root" --config "$work/tend.yaml" \
	--listen-ctl 127.0.0.1:0 --listen-http 127.0.0.1:0 --listen-gossip 127.0.0.1:0 \
	--service-min-backoff-period 0 --service-max-backoff-period 0 "${rotation[@]}" \
	>/dev/null 2>"$work/sup.err" &
sup=$!
http=""
for _ in $(seq 300); do
	http=$(grep -o 'http=[^ ]*' "$work/sup.err" | head -1 | cut -d= -f2 || true)
	[[ -n $http ]] && break
	kill -0 "$sup" 2>/dev/null || { cat "$work/sup.err" >&2; exit 1; }
	sleep 0.1
done
[[ -n $http ]] || { echo "soak: supervisor did not log its listeners" >&2; exit 1; }
until curl -fs "http://$http/ready" >/dev/null; do sleep 0.1; done

metric() { awk -v m="$1" '$1 == m { printf "%.0f", $2; exit }' "$work/metrics"; }
samples=$work/samples.tsv
header="t_s	fds	threads	rss_anon_kb	goroutines	heap_inuse_b	restarts"
for s in "${services[@]}"; do header+="	logs_${s}_b"; done
echo "$header" >"$samples"
echo "soak: supervisor pid $sup, $duration s, a sample every $interval s" >&2
start=$(date +%s)
while :; do
	now=$(( $(date +%s) - start ))
	kill -0 "$sup" 2>/dev/null || { echo "soak: the supervisor died" >&2; tail -20 "$work/sup.err" >&2; exit 1; }
	curl -fs "http://$http/metrics" >"$work/metrics"
	row="$now	$(ls /proc/$sup/fd | wc -l)	$(awk '/^Threads:/ { print $2 }' /proc/$sup/status)"
	row+="	$(awk '/^RssAnon:/ { print $2 }' /proc/$sup/status)"
	row+="	$(metric go_goroutines)	$(metric go_memstats_heap_inuse_bytes)"
	row+="	$(awk '$1 ~ /^tend_service_restarts_total/ { n += $2 } END { printf "%d", n }' "$work/metrics")"
	for s in "${services[@]}"; do row+="	$(du -sb "$root/svc/$s/logs" | cut -f1)"; done
	echo "$row" >>"$samples"
	echo "$row" >&2
	(( now >= duration )) && break
	# to the next multiple of the interval, whatever sampling took
	sleep $(( interval - ($(date +%s) - start) % interval ))
done

echo
echo "logs/ on disk at the end:"
for s in "${services[@]}"; do ls -l "$root/svc/$s/logs" | sed 's/^/  /'; done
echo
column -t -s $'\t' "$samples"
echo
# First third against last third: the mean of each supervisor number, and
# for logs/ how much it still grew during the last third.
awk -F'\t' -v cap="$cap" '
NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; cols = NF; next }
{ n++; for (i = 1; i <= cols; i++) v[n, i] = $i }
END {
	if (n < 3) { print "soak: too few samples to compare"; exit 1 }
	k = int(n / 3); bad = 0
	# allowed growth of the mean: ratio and absolute slack
	slack[2] = 4; slack[3] = 2; slack[4] = 2048; slack[5] = 10; slack[6] = 1048576
	for (i = 2; i <= 6; i++) {
		a = 0; b = 0
		for (j = 1; j <= k; j++) { a += v[j, i]; b += v[n - k + j, i] }
		a /= k; b /= k
		flag = (b > a * 1.2 + slack[i]) ? "GROWS" : "flat"
		if (flag == "GROWS") bad = 1
		printf "%-14s first third %14.0f   last third %14.0f   %s\n", name[i], a, b, flag
	}
	r = v[n, 7] - v[1, 7]; secs = v[n, 1] - v[1, 1]
	printf "%-14s %d restarts in %d s (%.1f/s)\n", name[7], r, secs, secs ? r / secs : 0
	for (i = 8; i <= cols; i++) {
		grew = v[n, i] - v[n - k, i]; span = v[n, 1] - v[n - k, 1]
		if (cap == "") flag = grew > 0 ? "GROWS (no rotation)" : "flat"
		else flag = v[n, i] > cap ? "OVER CAP " cap : "within cap " cap
		max_i = 0; for (j = 1; j <= n; j++) if (v[j, i] > max_i) max_i = v[j, i]
		if (cap != "" && max_i > cap) flag = "OVER CAP " cap " (max " max_i ")"
		if (flag ~ /GROWS|OVER/) bad = 1
		printf "%-14s end %14d   last third %+d bytes in %d s (%.0f KiB/min)   %s\n", name[i], v[n, i], grew, span, span ? grew / span * 60 / 1024 : 0, flag
	}
	exit bad
}' "$samples"
