#!/usr/bin/env bash
# The keeper's memory and idle wake-ups (issue 11: RSS under 1 MB, no idle wake-ups), beside
# s6-supervise (s6's one-process-per-service parent, the closest peer), measured over the same
# windows. Run as root from the repo root, after `mvn -B package -DskipTests`:
#
#     bench/keeper/run.sh
#
# Three processes idle side by side, each the parent of one `sleep`:
#   keeper (serving)   bin/blivetd with JOBS sleep jobs: the keeper whose JVM serves
#   keeper (orphans)   the same keeper after a kill -9 of its JVM and a restart: the JOBS jobs are
#                      now the keeper's own children (what it holds while they run)
#   s6-supervise       one service running sleep
# For each, ROUNDS windows of IDLE seconds: voluntary + nonvoluntary context switches (every time
# the process ran) and the run count from /proc/PID/schedstat, then VmRSS and Pss (smaps_rollup).
# Knobs: IDLE=10 ROUNDS=3 JOBS=10. Needs s6 (apt-get install s6). Prints a markdown table.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
IDLE=${IDLE:-10}
ROUNDS=${ROUNDS:-3}
JOBS=${JOBS:-10}
work=$(mktemp -d /tmp/blivet-keeper-bench.XXXXXX)
chmod 755 "$work"
ctl() { "$root/bin/blivetctl" --socket "$work/run/blivetd.sock" "$@"; }
pids=()
cleanup() {
    s6-svc -dx "$work/s6" 2>/dev/null || true # its sleep down, then s6-supervise exits
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ -n "${keeper:-}" ] && kill -TERM "$keeper" 2>/dev/null || true
}
trap cleanup EXIT

switches() { awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n}' "/proc/$1/status"; }
runs() { awk '{print $3}' "/proc/$1/schedstat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

# s6-supervise with one service.
mkdir -p "$work/s6"
printf '#!/bin/sh\nexec sleep 424242\n' >"$work/s6/run"
chmod 755 "$work/s6/run"
s6-supervise "$work/s6" </dev/null >/dev/null 2>&1 &
s6=$!
pids+=("$s6")

# The keeper, from bin/blivetd, with JOBS jobs.
mkdir -p "$work/jobs"
"$root/bin/blivetd" --socket "$work/run/blivetd.sock" --jobs-dir "$work/jobs" --state-dir "$work/state" \
    >"$work/blivetd.log" 2>&1 &
keeper=$!
for _ in $(seq 600); do ctl ping >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq "$JOBS"); do
    printf '{"name":"s%d","command":["/bin/sleep","424242"]}\n' "$i" >"$work/s$i.json"
    ctl start "$work/s$i.json" >/dev/null
    # The jobs outlive the JVM that started them (that is the point): ended by pid at exit.
    pids+=("$(ctl status "s$i" --json | sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p')")
done

measure() { # label: ROUNDS windows of the keeper and s6-supervise together
    local label=$1 round k0 k1 s0 s1 kr0 kr1 sr0 sr1
    for round in $(seq "$ROUNDS"); do
        k0=$(switches "$keeper"); kr0=$(runs "$keeper"); s0=$(switches "$s6"); sr0=$(runs "$s6")
        sleep "$IDLE"
        k1=$(switches "$keeper"); kr1=$(runs "$keeper"); s1=$(switches "$s6"); sr1=$(runs "$s6")
        echo "| keeper ($label) | $round | $IDLE | $((k1 - k0)) | $((kr1 - kr0)) | $(rss "$keeper") | $(pss "$keeper") |"
        echo "| s6-supervise | $round | $IDLE | $((s1 - s0)) | $((sr1 - sr0)) | $(rss "$s6") | $(pss "$s6") |"
    done
}

echo "| process | round | seconds idle | context switches | runs (schedstat) | VmRSS kB | Pss kB |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
measure serving
jvm=$(ctl ping --json | sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p')
kill -9 "$jvm"
for _ in $(seq 600); do
    next=$(ctl ping --json 2>/dev/null | sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p') || true
    [ -n "$next" ] && [ "$next" != "$jvm" ] && break
    sleep 0.1
done
children=$(awk -v k="$keeper" '$4 == k' /proc/[0-9]*/stat 2>/dev/null | wc -l)
measure "orphans: $children children"
echo
echo "$(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), keeper $(stat -c %s "$root/blivetd/target/blivet-keeper") bytes"
