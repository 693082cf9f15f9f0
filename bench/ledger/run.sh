#!/usr/bin/env bash
# What the ledger adds to a start (issue 11; results in docs/benchmarks.md, "The ledger"). Run as
# root from the repo root:
#
#     bench/ledger/run.sh
#
# One tree, with and without the ledger: builds this tree, compiles LedgerBenchMain against its
# jars (a bench-only main class: the production jar has no switch that turns the ledger off) and
# starts, from the same jar, keeper, JVM flags and class-data archive as bin/blivetd:
#   ledger  the ledger, as bin/blivetd runs it;
#   none    Recorder.none(): nothing recorded on the start path;
#   timed   the ledger with each of its calls timed in-process (TIMED=0 leaves it out).
# State directories on the root file system (ext4 here: fsync and rename cost what they cost in
# /var/lib), sockets and runtime records in RUNTIME (a tmpfs, as /run is under systemd).
# start-latency.py then measures start-to-ready through each socket, start by start, in an order
# shuffled per round: mode `again` (the same job started by name after each stop) and mode `new`
# (a new client job each time: its spec record is fsync'd, which the rule "durable before the
# reply that makes it visible" requires). Prints p50/p90 per daemon, the ratios ledger/none, the
# load average, and the timed daemon's per-call times.
# Knobs: STARTS=500 RUNS=2 MODES="again new" TIMED=1 RUNTIME=/dev/shm OUT=DIR SKIP_BUILD=1
# ARGS="--cgroups off" (extra blivetd options for every daemon).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
STARTS=${STARTS:-500}
RUNS=${RUNS:-2}
MODES=${MODES:-again new}
TIMED=${TIMED:-1}
RUNTIME=${RUNTIME:-/dev/shm}
OUT=${OUT:-$(mktemp -d /var/tmp/blivet-ledger-bench.XXXXXX)}
target=$root/blivetd/target
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$root" && mvn -B -q -o package -DskipTests)
fi
jar=$(ls "$target"/blivetd-*.jar | grep -v -- '-tests.jar' | head -n 1)
read -r flags <"$target/jvm-flags"
classes=$OUT/classes
mkdir -p "$classes"
javac -d "$classes" -cp "$jar:$target/lib/*" "$here/LedgerBenchMain.java"
labels=(ledger none)
[ "$TIMED" = 1 ] && labels+=(timed)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
start_daemon() { # label: the same command line as bin/blivetd but for the main class and its first argument
    local label=$1 dir=$RUNTIME/blivet-ledger-bench-$1
    rm -rf "$dir" "$OUT/state-$label" && mkdir -p "$dir" "$OUT/jobs-$label"
    # shellcheck disable=SC2086 # flags and ARGS are lists of options
    "$target/blivet-keeper" -- java $flags -Xshare:auto -XX:SharedArchiveFile="$target/blivetd.jsa" -Xlog:cds=off \
        -Xlog:cds+dynamic=off -cp "$jar:$target/lib/*:$classes" dev.blivet.daemon.LedgerBenchMain "$label" \
        --socket "$dir/blivetd.sock" --jobs-dir "$OUT/jobs-$label" --state-dir "$OUT/state-$label" ${ARGS:-} \
        >"$OUT/blivetd-$label.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do
        python3 - "$dir/blivetd.sock" <<'PY' && return
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); s.sendall(b'{"id":1,"op":"ping"}\n'); sys.exit(0 if b'"ok":true' in s.recv(4096) else 1)
except OSError:
    sys.exit(1)
PY
        sleep 0.1
    done
    echo "blivetd $label did not start; see $OUT/blivetd-$label.log" >&2; exit 1
}
sockets=()
for label in "${labels[@]}"; do
    start_daemon "$label"
    sockets+=("$RUNTIME/blivet-ledger-bench-$label/blivetd.sock")
done
for run in $(seq "$RUNS"); do
    for mode in $MODES; do
        echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
        python3 "$here/start-latency.py" "$mode" "$STARTS" "${sockets[@]}" | tee "$OUT/run-$run-$mode.txt"
        echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
done
cleanup
pids=()
if [ "$TIMED" = 1 ]; then
    echo "ledger calls in the timed daemon (count, p50, p90, mean in us; warm-up included):"
    grep '^LEDGER-CALL' "$OUT/blivetd-timed.log" || echo "(none written: see $OUT/blivetd-timed.log)"
fi
echo "summary (p50 ms; ledger / none):"
for f in "$OUT"/run-*.txt; do
    awk -v run="$(basename "$f" .txt)" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n = split(v["socket"], parts, "/"); label = parts[n - 1]; sub("blivet-ledger-bench-", "", label)
        p50[label] = v["p50_us"] / 1000 }
        END { printf "%s: ledger %.2f, none %.2f, ratio %.3f (%+.2f ms)\n", run, p50["ledger"], p50["none"],
            p50["ledger"] / p50["none"], p50["ledger"] - p50["none"] }' "$f"
done
echo "raw output in $OUT"
