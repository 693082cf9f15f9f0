#!/usr/bin/env bash
# Where a start's time goes after boot and after idle (issue 13; results in docs/benchmarks.md,
# rounds 6 and 7). Run as root from the repo root, after a build (mvn -B package -DskipTests):
#
#     bench/daemon/start-curve.sh
#
# 1. The curve: a fresh blivetd (bin/blivetd) whose jobs directory holds one job, "known"; STARTS
#    starts back to back, each on a new connection, with wait, each followed by a stop (and for
#    KIND=new a remove); the median of each 20 consecutive starts, then a daemonize start (the
#    peer) back to back DAEMONIZE times. Shows how long a fresh JVM runs its start path cold.
# 2. The idle probes, on the same (now warm) blivetd, PROBES times: IDLE seconds of quiet, then a
#    ping on a new connection, then a second ping right after it; IDLE seconds, then a start of
#    "known"; IDLE seconds, then one daemonize start. Shows what idle costs everyone here.
# 3. The wake-ups: on the same blivetd, WAKES starts of "known", and each of blivetd's threads'
#    voluntary context switches per start.
#
# Knobs (environment): BLIVET_HOME=DIR (default this repo) STARTS=300 KIND=known|new (default
# known) DAEMONIZE=20 PROBES=4 IDLE=6 WAKES=50 RUNTIME_PARENT=/dev/shm. Raw lines go to OUT
# (default a new /tmp/blivet-curve.XXXXXX); kills what it started on exit.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
STARTS=${STARTS:-300}
KIND=${KIND:-known}
DAEMONIZE=${DAEMONIZE:-20}
PROBES=${PROBES:-4}
IDLE=${IDLE:-6}
WAKES=${WAKES:-50}
RUNTIME_PARENT=${RUNTIME_PARENT:-/dev/shm}
SLEEP_ARG=8640047   # our sleeps, and nobody else's

die() { echo "start-curve.sh: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "run as root"
[ -x "$BLIVET_HOME/bin/blivetd" ] || die "blivetd is not built in $BLIVET_HOME (mvn -B package -DskipTests)"
command -v daemonize >/dev/null || die "daemonize not found (apt-get install daemonize)"
case "$KIND" in known|new) ;; *) die "KIND must be known or new" ;; esac
[ "$WAKES" -ge 1 ] 2>/dev/null || die "WAKES must be a number of starts, 1 or more"

OUT=${OUT:-$(mktemp -d /tmp/blivet-curve.XXXXXX)}
RUNTIME=$(mktemp -d "$RUNTIME_PARENT/blivet-curve.XXXXXX")
. "$here/harness.sh"   # describe_machine, started, cleanup on exit (our sleeps, RUNTIME)
CLIENT=$OUT/blivet-client
HARNESS=$OUT/daemonize-bench
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c"
cc -O2 -Wall -Wextra -o "$HARNESS" "$root/bench/src/main/c/daemonize-bench.c"
describe_machine "$(cat "$BLIVET_HOME/blivetd/target/jvm-flags")" "daemonize $(dpkg-query -W -f '${Version}' daemonize)"

mkdir -p "$OUT/jobs" "$OUT/state"; chmod 755 "$OUT/jobs"
printf '{"name":"known","command":["/bin/sleep","%s"],"autostart":false}\n' "$SLEEP_ARG" >"$OUT/jobs/known.json"
sock=$RUNTIME/b.sock
"$BLIVET_HOME/bin/blivetd" --socket "$sock" --jobs-dir "$OUT/jobs" --state-dir "$OUT/state" 2>"$OUT/blivetd.log" &
started+=("$!")
until "$CLIENT" request "$sock" '{"id":0,"op":"ping"}' >/dev/null 2>&1; do sleep 0.005; done

us() { local r=${1#us=}; echo "${r%% *}"; }
request() { "$CLIENT" request "$sock" "$1"; }
start_once() { # KIND N: one start and its stop; prints microseconds
    local r
    if [ "$1" = known ]; then
        r=$(request '{"id":1,"op":"start","name":"known"}'); request '{"id":2,"op":"stop","name":"known"}' >/dev/null
    else
        r=$(request "{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"n$2\",\"command\":[\"/bin/sleep\",\"$SLEEP_ARG\"]}}")
        request "{\"id\":2,\"op\":\"stop\",\"name\":\"n$2\"}" >/dev/null; request "{\"id\":3,\"op\":\"remove\",\"name\":\"n$2\"}" >/dev/null
    fi
    us "$r"
}
daemonize_once() {
    local r p
    r=$("$HARNESS" -n 1 -w 0 -d "$(command -v daemonize)" -p "$OUT/daemonize.pid" 2>>"$OUT/harness.err")
    p=$(cat "$OUT/daemonize.pid" 2>/dev/null || true); [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
    sed 's/.* p50_us=\([0-9.]*\).*/\1/' <<<"$r"
}

for i in $(seq "$STARTS"); do start_once "$KIND" "$i"; done >"$OUT/curve.txt"
for i in $(seq "$DAEMONIZE"); do daemonize_once; done >"$OUT/daemonize.txt"
echo "| starts after boot ($KIND, back to back) | median, ms |"
echo "|---|---:|"
for ((from = 1; from <= STARTS; from += 20)); do
    echo "| $from-$((from + 19)) | $(sed -n "${from},$((from + 19))p" "$OUT/curve.txt" | median | awk '{printf "%.2f", $1 / 1000}') |"
done
echo "| daemonize, $DAEMONIZE back to back | $(median <"$OUT/daemonize.txt" | awk '{printf "%.2f", $1 / 1000}') |"
echo
echo "| after ${IDLE} s idle (ms) | ping, new connection | a second ping right after | start of known | daemonize |"
echo "|---|---:|---:|---:|---:|"
for p in $(seq "$PROBES"); do
    sleep "$IDLE"; ping1=$(us "$(request '{"id":0,"op":"ping"}')"); ping2=$(us "$(request '{"id":0,"op":"ping"}')")
    sleep "$IDLE"; start=$(start_once known "p$p")
    sleep "$IDLE"; dz=$(daemonize_once)
    echo "probe $p ping_us=$ping1 ping_again_us=$ping2 start_us=$start daemonize_us=$dz" >>"$OUT/idle.txt"
    awk -v a="$ping1" -v b="$ping2" -v c="$start" -v d="$dz" -v p="$p" \
        'BEGIN {printf "| probe %d | %.2f | %.2f | %.2f | %.2f |\n", p, a / 1000, b / 1000, c / 1000, d / 1000}'
done

# 3. The wake-ups a start costs: each of blivetd's threads' voluntary context switches
#    (/proc/PID/task/*/status) from just before a start of "known" to its reply, summed over
#    WAKES starts (each followed by its stop, not counted) and divided by WAKES. Each is a thread
#    that blocked and was woken again: after idle, a halted vCPU woken. A tail of the previous
#    stop (its exit reaped) may fall in a start's window; a thread made during a start is not
#    counted (none is, by design).
jvm=$(pgrep -P "${started[0]}" java) || die "no JVM under blivetd's keeper (pid ${started[0]})"
switches() { # tid:name (a name may repeat: the client threads) and its switches so far
    local t
    for t in /proc/"$jvm"/task/*; do
        printf '%s:%s %s\n' "${t##*/}" "$({ tr ' ' _ <"$t/comm"; } 2>/dev/null)" \
            "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)"
    done
}
for i in $(seq "$WAKES"); do
    switches >"$OUT/wakes-before"
    request '{"id":1,"op":"start","name":"known"}' >/dev/null
    switches >"$OUT/wakes-after"
    request '{"id":2,"op":"stop","name":"known"}' >/dev/null
    join <(sort "$OUT/wakes-before") <(sort "$OUT/wakes-after") | awk '$3 > $2 {print $1, $3 - $2}'
done >"$OUT/wakes.txt"
echo
echo "| blivetd's thread (voluntary context switches per start of known, $WAKES starts) | switches |"
echo "|---|---:|"
awk -v n="$WAKES" '{sub(/^[0-9]+:/, "", $1); w[$1] += $2; all += $2}
    END {for (t in w) if (w[t] / n >= 0.05) printf "| %s | %.2f |\n", t, w[t] / n; printf "| all | %.2f |\n", all / n}' \
    "$OUT/wakes.txt" | sort -t'|' -k3 -nr
kill -TERM "${started[0]}"; wait "${started[0]}" 2>/dev/null || true   # a clean stop: its jobs' cgroups go too
echo
echo "Raw lines in $OUT (curve.txt, daemonize.txt, idle.txt, wakes.txt)."
