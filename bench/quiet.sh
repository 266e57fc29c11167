#!/usr/bin/env bash
# Runs a command in a session of its own whose autogroup has nice -20, so
# that with the kernel's autogroups on (/proc/sys/kernel/sched_autogroup_enabled)
# other sessions' CPU work (builds, tests) runs only on what it leaves.
# Plain `nice -n -20` does not do this: nice weighs tasks only within their
# own autogroup, and each session is one. Disk, caches and memory
# bandwidth are still shared: figures taken this way on a busy machine are
# for A/B comparisons, not for the quiet-machine tables. Needs root.
#   bench/quiet.sh bench/syscalls/cpu.sh -r 5 BASE NEW
set -euo pipefail
# shellcheck disable=SC2016 # expanded by the inner shell
exec setsid bash -c 'echo -20 >/proc/self/autogroup && exec nice -n -20 "$@"' quiet "$@"
