# shellcheck shell=bash
# Set-up shared by bench/run.sh and bench/hosts.sh: a scratch copy of the
# peer harness (../shared/bench-peers, or $BENCH_PEERS) with tend's adapter
# in it, and tend built from this tree, plus any variants asked for.

# bench_setup: sets work (scratch dir, removed on exit by the caller's trap),
# H (the harness copy) and TEND_BIN (tend built from the work tree).
bench_setup() {
	harness=${BENCH_PEERS:-$repo/../shared/bench-peers}
	[[ -d $harness ]] || { echo "no peer harness at $harness" >&2; exit 1; }
	work=$(mktemp -d /tmp/tend-bench.XXXXXX)
	H=$work/h
	cp -r "$harness" "$H"
	chmod -R u+w "$H"
	cp "$repo/bench/peers/tend.sh" "$H/adapters/tend.sh"
	(cd "$repo" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
	export TEND_BIN=$work/tend
}

# bench_variant NAME REV: build tend as of git revision REV (a commit, a
# tag, HEAD~2; or a directory holding a tree) and add it to the harness as the peer tend-NAME, so that a
# trick can be measured with and without it in one run. A NAME starting
# with "cgo" is built with CGO_ENABLED=1 (libc, NSS), as `make build` does not.
bench_variant() {
	local name=$1 rev=$2 src=$work/src-$1
	if [[ -d $rev ]]; then
		src=$rev # a tree on disk (an experiment not committed)
	else
		mkdir -p "$src"
		git -C "$repo" archive "$rev" | tar -x -C "$src"
	fi
	local cgo=0
	[[ $name != cgo* ]] || cgo=1
	# named tend, so that its comm is the one the adapter counts
	(cd "$src" && CGO_ENABLED=$cgo go build -o "$work/var-$name/tend" ./cmd/tend)
	printf 'source "$BENCH_DIR/adapters/tend.sh"\nTEND_BIN=%q\nADAPTER_SETTINGS="$ADAPTER_SETTINGS; built from %s"\n' \
		"$work/var-$name/tend" "$rev" >"$H/adapters/tend-$name.sh"
}

# bench_variants "NAME=REV ...": bench_variant for each.
bench_variants() {
	local v
	for v in $1; do bench_variant "${v%%=*}" "${v#*=}"; done
}
