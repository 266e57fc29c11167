#!/usr/bin/env bash
# Markdown table of the figures issue 11 is judged on, from summary.tsv
# files of bench/run.sh and bench/hosts.sh: the median of each peer, and
# in brackets its ratio to the floor (go-minimal) of the same file.
#   bench/table.sh SUMMARY.tsv...
set -euo pipefail
(($#)) || { echo "usage: $0 SUMMARY.tsv..." >&2; exit 2; }
# label | test | key | divisor | decimals
rows='restart gap p50, ms (service lives 50 ms)|restart|p50_ms|1|2
restart gap p99, ms (service lives 50 ms)|restart|p99_ms|1|2
fresh root: last of N started, ms|host-fresh|all_ms|1|0
fresh root: first started, ms|host-fresh|first_ms|1|1
fresh root: supervisor CPU until all started, s|host-fresh|up_cpu_s|1|2
restart over the root: last of N started, ms|host-restart|all_ms|1|0
restart over the root: first started, ms|host-restart|first_ms|1|1
restart over the root: supervisor CPU until all started, s|host-restart|up_cpu_s|1|2
fresh root: RssAnon, MiB|host-fresh|anon_kb|1024|1
fresh root: PSS, MiB|host-fresh|pss_kb|1024|1
fresh root: RSS, MiB|host-fresh|rss_kb|1024|1
restart over the root: RssAnon, MiB|host-restart|anon_kb|1024|1
restart over the root: PSS, MiB|host-restart|pss_kb|1024|1
restart over the root: RSS, MiB|host-restart|rss_kb|1024|1
scale: all N sleeps exist, ms (poll)|scale|up_ms|1|0
scale: RssAnon, MiB|scale|anon_kb|1024|1
scale: PSS, MiB|scale|pss_kb|1024|1
scale: CPU s in the idle window|scale|cpu_s|1|2'
awk -F'\t' -v rows="$rows" '
FNR == 1 { next }
{
	k = $1 SUBSEP $3 SUBSEP $4; med[k] = $5; lo[k] = $6; hi[k] = $7; n[k] = $8; param[$1] = $2
	if (!($3 in seen)) { seen[$3] = 1; peers[++np] = $3 }
}
END {
	hdr = "| metric |"; sep = "|---|"
	for (i = 1; i <= np; i++) { hdr = hdr " " peers[i] " |"; sep = sep "---:|" }
	print hdr; print sep
	nr = split(rows, R, "\n")
	for (r = 1; r <= nr; r++) {
		split(R[r], f, "|")
		if (!(f[2] in param)) continue
		label = f[1]; sub(/ N /, " " param[f[2]] " ", label)
		line = "| " label " |"; any = 0
		for (i = 1; i <= np; i++) {
			k = f[2] SUBSEP peers[i] SUBSEP f[3]; fk = f[2] SUBSEP "go-minimal" SUBSEP f[3]
			if (!(k in med)) { line = line " – |"; continue }
			any = 1
			cell = sprintf("%." f[5] "f", med[k] / f[4])
			if (peers[i] != "go-minimal" && (fk in med) && med[fk] > 0) cell = cell sprintf(" (%.2f×)", med[k] / med[fk])
			line = line " " cell " |"
		}
		if (any) print line
	}
}' "$@"
