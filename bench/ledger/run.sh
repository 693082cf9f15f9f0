#!/usr/bin/env bash
# What the ledger adds to a start (issue 11; results in docs/benchmarks.md). Run as root from the
# repo root:
#
#     bench/ledger/run.sh
#
# Builds this tree and BEFORE (default: the commit the ledger branch started from) side by side,
# starts one blivetd of each with its state directory on the root file system (ext4 here: the
# spec record's fsync is real) and its socket and runtime directory in RUNTIME (a tmpfs), and
# measures start-to-ready through each socket, start by start interleaved
# (start-latency.py), STARTS starts after 200 warm-up rounds, RUNS times, in two modes: a new
# job each time (its spec record is fsync'd) and the same job started again after a stop.
# Knobs: STARTS=1000 RUNS=3 BEFORE=<commit> RUNTIME=/dev/shm OUT=DIR SKIP_BUILD=1
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
old=$OUT/before-tree
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$root" && mvn -B -q -o package -DskipTests)
    rm -rf "$old" && git -C "$root" worktree add -f --detach "$old" "$BEFORE" >/dev/null
    (cd "$old" && mvn -B -q -o package -DskipTests)
fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
start_daemon() { # tree label
    local dir=$RUNTIME/blivet-ledger-bench-$2
    rm -rf "$dir" "$OUT/state-$2" && mkdir -p "$dir" "$OUT/jobs-$2"
    "$1/bin/blivetd" --socket "$dir/blivetd.sock" --jobs-dir "$OUT/jobs-$2" --state-dir "$OUT/state-$2" \
        >"$OUT/blivetd-$2.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do [ -S "$dir/blivetd.sock" ] && return; sleep 0.1; done
    echo "blivetd $2 did not start" >&2; exit 1
}
start_daemon "$old" before
start_daemon "$root" after
sleep 2 # both serve; the first requests then wait for nothing else
for run in $(seq "$RUNS"); do
    for mode in new again; do
        python3 "$here/start-latency.py" "$mode" "$STARTS" $RUNTIME/blivet-ledger-bench-before/blivetd.sock \
            $RUNTIME/blivet-ledger-bench-after/blivetd.sock | tee "$OUT/run-$run-$mode.txt"
    done
done
echo "raw output in $OUT"
