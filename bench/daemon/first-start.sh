#!/usr/bin/env bash
# The first start after boot, alone (issue 13; results in docs/benchmarks.md, "Issue 13"). Run as
# root from the repo root, after a build (mvn -B package -DskipTests):
#
#     bench/daemon/first-start.sh
#
# Each round, for each tree (this one, and BEFORE_HOME if given) and each kind of start, a fresh
# blivetd (bin/blivetd, its keeper and JVM as installed) on new directories whose jobs directory
# holds one job, "known" (autostart false); the time until it answers a ping on its socket (its
# start-up, "serve"); then ONE start with wait on a new connection, timed by the client from
# connect to the reply: "known" (the jobs directory's job, started by name: no fsync), "new" (a
# client's new job, an inline spec: two fsyncs for its durable spec record) or "paths" (as new,
# with the files an operator's spec names: a chdir, a pidfile, a lockfile, an existing stdout and
# a new stderr, in a directory of the boot's own; not in KINDS by default); then it is stopped
# with SIGTERM. Also, less disturbed by other load than the wall time: the CPU time the JVM's
# threads on a start's path (accept, client, supervisor, launch, reaper) spent during it, and the
# threads the JVM made during it. Beside it, in the same round, one `daemonize` start from a cold harness (the peer
# bench/daemon/issue13.sh uses). Prints medians and ratios; raw lines in OUT/first.txt.
#
# Knobs (environment): ROUNDS=10 KINDS="known new" BLIVET_HOME=DIR (default this repo)
# BEFORE_HOME=DIR (optional: an older built tree, measured in the same rounds) PAUSE=1 (seconds
# between boots, so that the previous JVM's exit settles) SETTLE=0 (seconds between the ping answered
# and the start: 0 is the first start after boot; 10 lets the warm-up's background passes end) RUNTIME_PARENT=/dev/shm (a tmpfs for the
# socket and the runtime records, as /run is under systemd) OUT=DIR (default a new
# /tmp/blivet-first.XXXXXX). Needs java 17, cc and Debian's daemonize (apt-get install daemonize).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
BEFORE_HOME=${BEFORE_HOME:-}
ROUNDS=${ROUNDS:-10}
KINDS=${KINDS:-known new}
PAUSE=${PAUSE:-1}
SETTLE=${SETTLE:-0}
RUNTIME_PARENT=${RUNTIME_PARENT:-/dev/shm}
SLEEP_ARG=8640047   # our sleeps, and nobody else's

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "first-start.sh: $*"; exit 2; }
[ "$(id -u)" -eq 0 ] || die "run as root"
command -v daemonize >/dev/null || die "daemonize not found (apt-get install daemonize)"
for h in "$BLIVET_HOME" $BEFORE_HOME; do
    ls "$h"/blivetd/target/blivetd-*.jar >/dev/null 2>&1 || die "blivetd is not built in $h (mvn -B package -DskipTests)"
done

OUT=${OUT:-$(mktemp -d /tmp/blivet-first.XXXXXX)}
mkdir -p "$OUT"
RUNTIME=$(mktemp -d "$RUNTIME_PARENT/blivet-first.XXXXXX")
CLIENT=$OUT/blivet-client
HARNESS=$OUT/daemonize-bench
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c"
cc -O2 -Wall -Wextra -o "$HARNESS" "$root/bench/src/main/c/daemonize-bench.c"
{
    echo "date: $(date -u +%FT%TZ); nproc: $(nproc); kernel: $(uname -sr); jdk: $(java -version 2>&1 | sed -n 2p)"
    echo "blivet: $(git -C "$BLIVET_HOME" rev-parse --short HEAD 2>/dev/null || echo '?')${BEFORE_HOME:+; before: $(git -C "$BEFORE_HOME" rev-parse --short HEAD 2>/dev/null || echo '?')}"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

bp=
cleanup() {
    [ -z "$bp" ] || kill -KILL "$bp" 2>/dev/null || true
    local p; for p in $(pgrep -f "^/bin/sleep $SLEEP_ARG\$" || true); do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$RUNTIME"
}
trap cleanup EXIT
status=0
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
# first HOME DIR KIND: boots a blivetd, prints "serve_us=... start_us=...", stops it.
first() {
    local home=$1 dir=$2 kind=$3 sock t0 serve r req
    mkdir -p "$dir/jobs" "$dir/state"; chmod 755 "$dir/jobs"
    printf '{"name":"known","command":["/bin/sleep","%s"],"autostart":false}\n' "$SLEEP_ARG" >"$dir/jobs/known.json"
    sock=$RUNTIME/$(basename "$dir").sock
    t0=$(now_us)
    "$home/bin/blivetd" --socket "$sock" --jobs-dir "$dir/jobs" --state-dir "$dir/state" 2>"$dir/blivetd.log" &
    bp=$!
    until "$CLIENT" request "$sock" '{"id":0,"op":"ping"}' >/dev/null 2>&1; do
        kill -0 "$bp" 2>/dev/null || { echo "blivetd exited in $dir" >>"$OUT/problems.log"; status=1; echo "serve_us=nan start_us=nan"; return; }
        sleep 0.002
    done
    serve=$(( $(now_us) - t0 ))
    sleep "$SETTLE"
    local jvm before after
    jvm=$(pgrep -P "$bp" -x java | head -n 1)
    before=$(path_cpu "$jvm")
    case $kind in
        known) req='{"id":1,"op":"start","name":"known"}' ;;
        new) req="{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"fresh\",\"command\":[\"/bin/sleep\",\"$SLEEP_ARG\"]}}" ;;
        paths)
            mkdir -p "$dir/files"; : >"$dir/files/out.log"
            req="{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"fresh\",\"command\":[\"/bin/sleep\",\"$SLEEP_ARG\"],\"chdir\":\"$dir/files\",\"pidfile\":\"$dir/files/a.pid\",\"lockfile\":\"$dir/files/a.lock\",\"stdout\":\"$dir/files/out.log\",\"stderr\":\"$dir/files/err.log\",\"append\":true}}" ;;
    esac
    if r=$("$CLIENT" request "$sock" "$req"); then r=${r#us=}; r=${r%% *}
    else echo "start $kind failed in $dir: $r" >>"$OUT/problems.log"; status=1; r=nan; fi
    after=$(path_cpu "$jvm")
    kill -TERM "$bp"; wait "$bp" 2>/dev/null || true; bp=
    echo "serve_us=$serve start_us=$r $(awk -v b="$before" -v a="$after" 'BEGIN {
        split(b, x, " "); split(a, y, " "); printf "cpu_us=%.1f threads_made=%d", (y[1] - x[1]) / 1000, y[2] - x[2]}')"
}
# path_cpu PID: the CPU time (ns, from schedstat) of the JVM's threads a start runs on (accept,
# client, supervisor, launch, reaper: not the warm-up's or the compilers'), and how many threads
# the JVM has made so far (the highest thread id minus the JVM's pid).
path_cpu() {
    local t ns=0 top=0 id
    for t in /proc/"$1"/task/*; do
        id=${t##*/}; [ "$id" -gt "$top" ] && top=$id
        case $(cat "$t/comm" 2>/dev/null) in
            blivet-accept*|blivet-client*|blivet-supervis*|blivet-launch*|blivet-reaper*)
                ns=$((ns + $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0))) ;;
        esac
    done
    echo "$ns $((top - $1))"
}
daemonize_once() {
    local r
    r=$("$HARNESS" -n 1 -w 0 -d "$(command -v daemonize)" -p "$OUT/daemonize.pid" 2>>"$OUT/harness.err") || { status=1; echo nan; return; }
    kill -KILL "$(cat "$OUT/daemonize.pid" 2>/dev/null)" 2>/dev/null || true
    sed 's/.* p50_us=\([0-9.]*\).*/\1/' <<<"$r"
}
trees=(after); [ -z "$BEFORE_HOME" ] || trees=(after before)
home_of() { if [ "$1" = after ]; then echo "$BLIVET_HOME"; else echo "$BEFORE_HOME"; fi; }
for round in $(seq 1 "$ROUNDS"); do
    for kind in $KINDS; do
        line="kind=$kind round=$round"
        for t in "${trees[@]}"; do
            sleep "$PAUSE"
            r=$(first "$(home_of "$t")" "$OUT/$round-$kind-$t" "$kind")
            line="$line ${t}_${r// / ${t}_}"
        done
        line="$line daemonize_us=$(daemonize_once) load=$(cut -d' ' -f1 /proc/loadavg)"
        echo "$line" | tee -a "$OUT/first.txt" >&2
    done
done

kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v x="$1" 'BEGIN {if (x == "nan") print "nan"; else printf "%.2f", x/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
{
    sed 's/^/    /' "$OUT/machine.txt"; echo "    load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo
    echo "| first start after boot, median of $ROUNDS, ms | kind | blivetd | daemonize | blivetd / daemonize | blivetd's start-up until it serves, ms | CPU of the start's threads, ms | threads made |$( [ -z "$BEFORE_HOME" ] || echo ' before | before / daemonize | before: start-up, ms | before: CPU, ms | before: threads made |')"
    echo "|---|---|---:|---:|---:|---:|---:|---:|$( [ -z "$BEFORE_HOME" ] || echo '---:|---:|---:|---:|---:|')"
    for kind in $KINDS; do
        rows=$(grep "^kind=$kind " "$OUT/first.txt" || true)
        a=$(kv after_start_us <<<"$rows" | median); s=$(kv after_serve_us <<<"$rows" | median); z=$(kv daemonize_us <<<"$rows" | median)
        c=$(kv after_cpu_us <<<"$rows" | median); n=$(kv after_threads_made <<<"$rows" | median)
        extra=""
        if [ -n "$BEFORE_HOME" ]; then
            b=$(kv before_start_us <<<"$rows" | median); bs=$(kv before_serve_us <<<"$rows" | median)
            bc=$(kv before_cpu_us <<<"$rows" | median); bn=$(kv before_threads_made <<<"$rows" | median)
            extra=" $(ms "$b") | $(ratio "$b" "$z") | $(ms "$bs") | $(ms "$bc") | $bn |"
        fi
        echo "| one start with wait, new connection, until the reply | $kind | $(ms "$a") | $(ms "$z") | $(ratio "$a" "$z") | $(ms "$s") | $(ms "$c") | $n |$extra"
    done
    if [ -s "$OUT/problems.log" ]; then echo; echo "Problems:"; sed 's/^/    /' "$OUT/problems.log"; fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ "$status" -eq 0 ]
