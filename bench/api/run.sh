#!/usr/bin/env bash
# Benchmarks of tend's HTTP gateway (GET /services), on 127.0.0.1 only.
#
#   bench/api/run.sh [compare] [N]   tend with 100 loaded `sleep` services
#                                    against a bare net/http server sending
#                                    the same bytes (bench/api/refserver):
#                                    wrk -t2 -c32 -d10s --latency on each,
#                                    alternating, N rounds (3). Goals: tend
#                                    req/s >= 0.5 x ref, tend p99 <= 1.5 x ref.
#   bench/api/run.sh soak [SECONDS]  the same load for SECONDS (300) while 10
#                                    more services crash and restart in a
#                                    loop; samples tend's goroutines, open fds
#                                    and RSS every 10 s. Goal: no wrk errors,
#                                    no growth.
#
# Environment: WRK_THREADS (2), WRK_CONNS (32), WRK_SECONDS (10),
# SERVICES (100), CRASHERS (10), KEEP=1 keeps the work directory.
# Exit status 1 when a goal is missed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mode=${1:-compare}
case $mode in
compare) rounds=${2:-3} ;;
soak) soak_s=${2:-300} ;;
[0-9]*) mode=compare rounds=$1 ;;
*)
	echo "usage: $0 [compare [N]] | soak [SECONDS]" >&2
	exit 2
	;;
esac
threads=${WRK_THREADS:-2}
conns=${WRK_CONNS:-32}
wrk_s=${WRK_SECONDS:-10}
nsvc=${SERVICES:-100}
ncrash=${CRASHERS:-10}

for tool in go wrk curl; do
	command -v "$tool" >/dev/null || {
		echo "$tool is not installed" >&2
		exit 1
	}
done

work=$(mktemp -d /tmp/tend-bench-api.XXXXXX)
tend_pid="" ref_pid="" wrk_pid=""

# stop ends one process we started and waits for it; tend stops its services
# before it exits.
stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop "$wrk_pid"
	stop "$ref_pid"
	stop "$tend_pid"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD... polls until CMD succeeds, for at most 60 s.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# log_addr FILE KEY prints the address KEY=ADDR from the first line of FILE
# that has one.
log_addr() { grep -o "\b$2=[0-9.:]*" "$1" 2>/dev/null | head -1 | cut -d= -f2; }
has_addr() { [ -n "$(log_addr "$1" "$2")" ]; }

echo "building tend and the reference server..." >&2
mkdir -p "$work/bin"
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/bin/tend" ./cmd/tend && go build -o "$work/bin/refserver" ./bench/api/refserver)

# Packages and the start-up file: nsvc sleepers, and in soak mode ncrash
# services whose run hook exits 1 after 0.5 s.
cfg=$work/tend.yaml
echo "services:" >"$cfg"
mkpkg() { # name run-hook-body
	local d=$work/pkgs/$1
	mkdir -p "$d/hooks"
	echo "bench/$1/1.0.0/20260101000000" >"$d/IDENT"
	printf '#!/bin/sh\n%s\n' "$2" >"$d/hooks/run"
	chmod 755 "$d/hooks/run"
	echo "  - pkg: $d" >>"$cfg"
}
for ((i = 1; i <= nsvc; i++)); do
	mkpkg "$(printf 'sleeper%03d' "$i")" "exec sleep 100000"
done
if [ "$mode" = soak ]; then
	for ((i = 1; i <= ncrash; i++)); do
		mkpkg "$(printf 'crasher%02d' "$i")" "sleep 0.5; exit 1"
	done
fi
total=$nsvc
[ "$mode" = soak ] && total=$((nsvc + ncrash))

echo "starting tend with $total services..." >&2
"$work/bin/tend" sup run --root "$work/root" --config "$cfg" \
	--listen-http 127.0.0.1:0 --listen-ctl 127.0.0.1:0 --listen-gossip 127.0.0.1:0 \
	--sys-ip-address 127.0.0.1 \
	--service-min-backoff-period 0 --service-max-backoff-period 0 \
	>"$work/tend.out" 2>"$work/tend.log" &
tend_pid=$!
wait_for has_addr "$work/tend.log" http
tend_addr=$(log_addr "$work/tend.log" http)
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$tend_addr/ready")" = 200 ]; }
wait_for ready
count_services() { curl -sf "http://$tend_addr/services" | grep -o '"service_group":' | wc -l; }
n=$(count_services)
[ "$n" -eq "$total" ] || {
	echo "tend lists $n services, want $total" >&2
	exit 1
}

# tend_metric NAME prints a sample of tend's /metrics.
tend_metric() { curl -sf "http://$tend_addr/metrics" | awk -v m="$1" '$1 == m { print $2; exit }'; }
# proc_status FIELD prints a field of tend's /proc/PID/status (VmRSS in kB).
proc_status() { awk -v f="$1:" '$1 == f { print $2; exit }' "/proc/$tend_pid/status"; }
fds() { find "/proc/$tend_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# parse_wrk FILE prints "req/s p99_ms errors" of one wrk --latency report
# (errors = non-2xx/3xx responses + socket errors).
parse_wrk() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v
	}
	/^Requests\/sec:/ { rps = $2 }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { errs += $NF }
	/Socket errors:/ {
		for (i = 3; i <= NF; i++) { gsub(",", "", $i); if ($i ~ /^[0-9]+$/) errs += $i }
	}
	END { printf "%s %.3f %d\n", rps, p99, errs }' "$1"
}

if [ "$mode" = compare ]; then
	body=$work/services.json
	curl -sf "http://$tend_addr/services" -o "$body"
	"$work/bin/refserver" -addr 127.0.0.1:0 -body "$body" >"$work/ref.log" 2>&1 &
	ref_pid=$!
	wait_for has_addr "$work/ref.log" addr
	ref_addr=$(log_addr "$work/ref.log" addr)
	cmp -s "$body" <(curl -sf "http://$ref_addr/services") || {
		echo "the reference server does not send tend's bytes" >&2
		exit 1
	}
	echo "body: $(wc -c <"$body") bytes, $total services; wrk -t$threads -c$conns -d${wrk_s}s --latency, $rounds rounds" >&2
	results=$work/results.txt
	: >"$results"
	for ((r = 1; r <= rounds; r++)); do
		# Alternate the order so drift of the machine hits both alike.
		if ((r % 2)); then order="tend ref"; else order="ref tend"; fi
		for who in $order; do
			addr=$tend_addr
			[ "$who" = ref ] && addr=$ref_addr
			wrk -t"$threads" -c"$conns" -d"${wrk_s}s" --latency "http://$addr/services" >"$work/wrk-$who-$r.txt"
			read -r rps p99 errs < <(parse_wrk "$work/wrk-$who-$r.txt")
			echo "$r $who $rps $p99 $errs" >>"$results"
			echo "round $r $who: $rps req/s, p99 $p99 ms, errors $errs" >&2
		done
	done
	awk -v rounds="$rounds" '
	{ rps[$1, $2] = $3; p99[$1, $2] = $4; errs += $5 }
	END {
		printf "%-6s %12s %10s %12s %10s %10s %10s\n", "round", "tend_req/s", "tend_p99", "ref_req/s", "ref_p99", "req/s_x", "p99_x"
		for (r = 1; r <= rounds; r++) {
			rr[r] = rps[r, "tend"] / rps[r, "ref"]; pr[r] = p99[r, "tend"] / p99[r, "ref"]
			printf "%-6d %12.0f %8.2fms %12.0f %8.2fms %10.2f %10.2f\n", r, rps[r, "tend"], p99[r, "tend"], rps[r, "ref"], p99[r, "ref"], rr[r], pr[r]
		}
		# medians of the per-round ratios
		n = rounds
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
			if (rr[j] < rr[i]) { t = rr[i]; rr[i] = rr[j]; rr[j] = t }
			if (pr[j] < pr[i]) { t = pr[i]; pr[i] = pr[j]; pr[j] = t }
		}
		mr = (n % 2) ? rr[(n + 1) / 2] : (rr[n / 2] + rr[n / 2 + 1]) / 2
		mp = (n % 2) ? pr[(n + 1) / 2] : (pr[n / 2] + pr[n / 2 + 1]) / 2
		ok = (mr >= 0.5 && mp <= 1.5 && errs == 0)
		printf "median   tend/ref req/s %.2f (goal >= 0.50)   tend/ref p99 %.2f (goal <= 1.50)   wrk errors %d   %s\n", mr, mp, errs, ok ? "PASS" : "FAIL"
		exit ok ? 0 : 1
	}' "$results"
	exit $?
fi

# soak
echo "soak: $soak_s s of wrk -t$threads -c$conns on /services, $ncrash services crash-looping" >&2
wrk -t"$threads" -c"$conns" -d"${soak_s}s" --latency "http://$tend_addr/services" >"$work/wrk-soak.txt" &
wrk_pid=$!
samples=$work/samples.txt
: >"$samples"
sample() {
	local g f r
	g=$(tend_metric go_goroutines || true)
	[ -n "$g" ] || g="threads:$(proc_status Threads)" # no /metrics: OS threads instead
	f=$(fds)
	r=$(proc_status VmRSS)
	echo "$1 $g $f $r" >>"$samples"
	echo "t=$1s goroutines=$g fds=$f rss_kb=$r" >&2
}
start=$SECONDS
sample 0
while kill -0 "$wrk_pid" 2>/dev/null; do
	sleep 10 # sampling period, not synchronisation
	kill -0 "$tend_pid" 2>/dev/null || {
		echo "tend died during the soak; see $work/tend.log" >&2
		KEEP=1
		exit 1
	}
	kill -0 "$wrk_pid" 2>/dev/null && sample $((SECONDS - start))
done
wait "$wrk_pid" || true
wrk_pid=""
sample $((SECONDS - start))
restarts=$(curl -sf "http://$tend_addr/services" | grep -o '"restart_count":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
read -r rps p99 errs < <(parse_wrk "$work/wrk-soak.txt")
echo
awk '
	NR == 1 { fg = $2; ff = $3; fr = $4 }
	{ lg = $2; lf = $3; lr = $4; if ($2 + 0 > mg) mg = $2 + 0; if ($3 > mf) mf = $3; if ($4 > mr) mr = $4 }
	END {
		printf "%-12s %10s %10s %10s\n", "", "first", "last", "max"
		printf "%-12s %10s %10s %10s\n", "goroutines", fg, lg, mg
		printf "%-12s %10s %10s %10s\n", "open fds", ff, lf, mf
		printf "%-12s %10s %10s %10s\n", "rss_kb", fr, lr, mr
	}' "$samples"
echo "wrk: $rps req/s, p99 $p99 ms, errors $errs; crash-loop restarts during the soak: $restarts"
grep -E 'requests in|Non-2xx|Socket errors' "$work/wrk-soak.txt" || true
if [ "$errs" -ne 0 ]; then
	echo "FAIL: wrk reported errors" >&2
	exit 1
fi
echo PASS
