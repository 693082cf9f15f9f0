#!/usr/bin/env bash
# What the ledger adds to a start (issue 11; results in docs/benchmarks.md). Run as root from the
# repo root:
#
#     bench/ledger/run.sh
#
# Builds this tree and BEFORE (default: the commit the ledger branch started from; several
# commits, space-separated, give one daemon each) side by side, starts one blivetd of each with its state directory on the root file system (ext4 here: the
# spec record's fsync is real) and its socket and runtime directory in RUNTIME (a tmpfs), and
# measures start-to-ready through each socket, start by start interleaved
# (start-latency.py), STARTS starts after 200 warm-up rounds, RUNS times, in two modes: a new
# job each time (its spec record is fsync'd) and the same job started again after a stop.
# Knobs: STARTS=1000 RUNS=3 BEFORE=<commit> RUNTIME=/dev/shm OUT=DIR SKIP_BUILD=1
# ARGS="--cgroups off": extra blivetd options for this tree's daemon and BEFORE daemons that
# have a ledger (not c191017, which predates the options), e.g. to leave the cgroup's cost out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BEFORE=${BEFORE:-c191017}
STARTS=${STARTS:-1000}
RUNS=${RUNS:-3}
# The socket's directory, which holds the runtime records: a tmpfs, as /run is under systemd
# (on this VM /run is not one, so /dev/shm stands in).
RUNTIME=${RUNTIME:-/dev/shm}
OUT=${OUT:-$(mktemp -d /var/tmp/blivet-ledger-bench.XXXXXX)}
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$root" && mvn -B -q -o package -DskipTests)
    for commit in $BEFORE; do
        old=$OUT/before-$commit-tree
        rm -rf "$old" && git -C "$root" worktree add -f --detach "$old" "$commit" >/dev/null
        (cd "$old" && mvn -B -q -o package -DskipTests)
    done
fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
start_daemon() { # tree label [options...]
    local tree=$1 label=$2 dir=$RUNTIME/blivet-ledger-bench-$2
    shift 2
    rm -rf "$dir" "$OUT/state-$label" && mkdir -p "$dir" "$OUT/jobs-$label"
    "$tree/bin/blivetd" --socket "$dir/blivetd.sock" --jobs-dir "$OUT/jobs-$label" --state-dir "$OUT/state-$label" \
        "$@" >"$OUT/blivetd-$label.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do [ -S "$dir/blivetd.sock" ] && return; sleep 0.1; done
    echo "blivetd $label did not start" >&2; exit 1
}
sockets=()
for commit in $BEFORE; do
    # shellcheck disable=SC2086 # ARGS is a list of options
    if [ "$commit" = c191017 ]; then opts=(); else opts=(${ARGS:-}); fi
    start_daemon "$OUT/before-$commit-tree" "before-$commit" "${opts[@]}"
    sockets+=("$RUNTIME/blivet-ledger-bench-before-$commit/blivetd.sock")
done
# shellcheck disable=SC2086
start_daemon "$root" after ${ARGS:-}
sockets+=("$RUNTIME/blivet-ledger-bench-after/blivetd.sock")
sleep 2 # all serve; the first requests then wait for nothing else
for run in $(seq "$RUNS"); do
    for mode in new again; do
        python3 "$here/start-latency.py" "$mode" "$STARTS" "${sockets[@]}" | tee "$OUT/run-$run-$mode.txt"
    done
done
echo "raw output in $OUT"
