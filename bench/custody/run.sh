#!/usr/bin/env bash
# Issue 11's re-adoption benchmark: the time from a kill -9 of blivetd's JVM until blivetd serves
# again with JOBS jobs re-adopted (target: under 2 s). Run as root from anywhere, after
# `mvn -B package -DskipTests` in the repository:
#
#     bench/custody/run.sh            # JOBS=1000 RUNS=5
#
# bin/blivetd (keeper + JVM) with JOBS/2 jobs from the jobs directory (autostart) and JOBS/2
# started by a client, each a /bin/sleep; then RUNS kill -9s of the JVM (readopt.py), each timed
# until a `list` sent right after the kill is answered (it waits in the keeper's socket backlog;
# blivetd answers no one before re-adoption is done) and checked: every job running with its old
# pid. The keeper's backoff between quick restarts (0, 100, 200, ... ms) is reported apart (net).
# KEEP=1 keeps the work directory and its blivetd.log (where the restore's time goes).
# Prints the machine, the load average before and after, each run and the medians.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${JOBS:-1000}
RUNS=${RUNS:-5}
work=$(mktemp -d /tmp/blivet-custody-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
    # SIGTERM to the keeper: its JVM stops every job, then both exit.
    [ -n "${keeper:-}" ] && kill -TERM "$keeper" 2>/dev/null && wait "$keeper" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept: $work (blivetd.log)"; else rm -rf "$work"; fi
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024) " MB"}' /proc/meminfo), $(uname -r), $(java -version 2>&1 | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$work/jobs"
for i in $(seq 0 $((JOBS / 2 - 1))); do
    printf '{"name":"d%d","autostart":true,"command":["/bin/sleep","424242"]}\n' "$i" >"$work/jobs/d$i.json"
done
"$root/bin/blivetd" --socket "$work/run/blivetd.sock" --jobs-dir "$work/jobs" --state-dir "$work/state" \
    >"$work/blivetd.log" 2>&1 &
keeper=$!
for _ in $(seq 600); do [ -S "$work/run/blivetd.sock" ] && break; sleep 0.1; done
python3 "$root/bench/custody/readopt.py" "$work/run/blivetd.sock" "$JOBS" "$RUNS" "$work/blivetd.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
