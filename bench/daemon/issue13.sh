#!/usr/bin/env bash
# blivetd where operators feel it (issue 13; results in docs/benchmarks.md, "Issue 13: ..."). Run
# as root from the repo root, after a build (mvn -B package -DskipTests):
#
#     bench/daemon/issue13.sh
#
# Every blivet figure is taken beside its peer in the same run, interleaved, and printed with
# the ratio blivet / peer:
# 1. First start after boot: a fresh blivetd (its jobs directory: one job, "known", autostart
#    false) answers ping; then one start with wait on a new connection (as blivetctl makes), timed
#    by the client from connect to the reply, of one of two kinds: "new", a client's new job (an
#    inline /bin/sleep spec; the ledger writes its spec record durably, two fsyncs, before the
#    reply) or "known", the jobs directory's job started by name (no fsync); one boot per kind.
#    Peer: one `daemonize -p PIDFILE /bin/sleep` from a cold harness
#    (bench/src/main/c/daemonize-bench.c, -n 1: until the kernel reports the exec). Then FRESH
#    more starts of each kind on a fresh blivetd, alternating with daemonize (the interpreted stretch).
# 2. Sporadic start: the same blivetd left idle IDLE s, then one start on a new connection; the
#    peer: one daemonize start after the same idle. SPORADIC samples of each kind.
# 3. Mass start: JOBS /bin/sleep jobs from a jobs directory, from the daemon's exec until all are
#    running, blivetd (its `list`), supervisord (getAllProcessInfo, as bench/daemon/run.sh) and s6
#    (s6-svscan on JOBS service directories; s6 has no readiness here, so: until JOBS sleeps
#    exist, counted in /proc), then PSS (smaps_rollup) SETTLE s later: blivetd's keeper plus its
#    JVM (threads: both), supervisord's, and s6-svscan plus its JOBS s6-supervise processes. RUNS
#    rounds, the order rotating. Beside them the machine's floor: bench/daemon/mass-floor.c, one
#    C process per core doing nothing but posix_spawn of the JOBS sleeps, counted as s6's are.
#
# Needs java 17, cc, and Debian's daemonize, supervisor and s6 (installed with apt-get if
# missing). Knobs (environment): RUNS=3 JOBS=1000 FRESH=50 IDLE=30 SPORADIC=5 SETTLE=5
# STEPS="starts mass" (either or both) BLIVET_HOME=DIR (the built tree whose bin/blivetd runs;
# default this repo) BEFORE_HOME=DIR (optional: an older built tree, e.g. a clone at the commit
# before a change, measured beside it in steps 1 and 3 as "blivetd-before") MASS_TOOLS="blivetd
# blivetd-before" (step 3's tools, in this order; default all) RUNTIME_PARENT=/dev/shm (a tmpfs
# for blivetd's sockets and runtime records, as /run is under systemd) OUT=DIR (raw output;
# default a new /tmp/blivet-issue13.XXXXXX). Prints a markdown summary, also in OUT/summary.md.
# Kills whatever it started on exit; the exit status is 0 only if every start succeeded.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
RUNS=${RUNS:-3}
JOBS=${JOBS:-1000}
FRESH=${FRESH:-50}
IDLE=${IDLE:-30}
SPORADIC=${SPORADIC:-5}
SETTLE=${SETTLE:-5}
STEPS=${STEPS:-starts mass}
BEFORE_HOME=${BEFORE_HOME:-}
MASS_TOOLS=${MASS_TOOLS:-}
RUNTIME_PARENT=${RUNTIME_PARENT:-/dev/shm}
SLEEP_ARG=8640043   # our sleeps, and nobody else's
PY=/usr/bin/python3

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "issue13.sh: $*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v java >/dev/null || die "java (17+) not found"
command -v cc >/dev/null || die "cc not found"
[ -x "$BLIVET_HOME/bin/blivetd" ] && ls "$BLIVET_HOME"/blivetd/target/blivetd-*.jar >/dev/null 2>&1 \
    || die "blivetd is not built in $BLIVET_HOME (mvn -B package -DskipTests)"
need() { # need COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    say "== installing $2 (apt-get)"
    apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; } \
        || die "could not install $2"
}
need daemonize daemonize
need supervisord supervisor
need s6-svscan s6
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

OUT=${OUT:-$(mktemp -d /tmp/blivet-issue13.XXXXXX)}
mkdir -p "$OUT"
# blivetd's runtime directory (its socket's, where the ledger's run records go) on a tmpfs, as
# /run is under systemd; the state directory stays in OUT (a real disk, real fsyncs).
RUNTIME=$(mktemp -d "$RUNTIME_PARENT/blivet-issue13.XXXXXX")
runtime_dir() { local r; r=$RUNTIME/$(basename "$1"); mkdir -p "$r"; echo "$r"; }
say "== raw output in $OUT"
CLIENT=$OUT/blivet-client
HARNESS=$OUT/daemonize-bench
FLOOR=$OUT/mass-floor
cc -O2 -Wall -Wextra -Werror -o "$FLOOR" "$here/mass-floor.c"
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c"
cc -O2 -Wall -Wextra -o "$HARNESS" "$root/bench/src/main/c/daemonize-bench.c"
. "$here/harness.sh"   # describe_machine, started, cleanup on exit, pss_kb
describe_machine "$(cat "$BLIVET_HOME/blivetd/target/jvm-flags")" "daemonize $(dpkg-query -W -f '${Version}' daemonize), supervisor $(dpkg-query -W -f '${Version}' supervisor), s6 $(dpkg-query -W -f '${Version}' s6)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
# One daemonize start from a fresh harness: prints the microseconds until the exec was reported.
daemonize_once() {
    local r
    r=$("$HARNESS" -n 1 -w 0 -d "$(command -v daemonize)" -p "$OUT/daemonize.pid" 2>>"$OUT/harness.err") || { status=1; echo nan; return; }
    sed 's/.* p50_us=\([0-9.]*\).*/\1/' <<<"$r"
}
# blivet_start SOCKET NAME: one start with wait on a new connection; prints microseconds.
blivet_start() {
    local r
    r=$("$CLIENT" request "$1" "{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"$2\",\"command\":[\"/bin/sleep\",\"$SLEEP_ARG\"]}}") \
        || { echo "start $2 failed: $r" >>"$OUT/problems.log"; status=1; echo nan; return; }
    r=${r#us=}; echo "${r%% *}"
}
blivet_stop() { "$CLIENT" request "$1" "{\"id\":2,\"op\":\"stop\",\"name\":\"$2\"}" >/dev/null || true
    "$CLIENT" request "$1" "{\"id\":3,\"op\":\"remove\",\"name\":\"$2\"}" >/dev/null || true; }
kill_daemonized() { local p; p=$(cat "$OUT/daemonize.pid" 2>/dev/null || true); [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; }
wait_exit() { local i; for i in $(seq 600); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return; }; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- 1 and 2: first start after boot, fresh-daemon starts, sporadic starts ----
# Two kinds of start: "new", a client's new job (inline spec: its spec record is written durably,
# two fsyncs, before the reply, by the ledger's rule), and "known", a job blivetd already has (the
# jobs directory's "known", autostart false, started by name: no fsync). Each boot measures one
# kind first.
# boot_blivetd HOME DIR: a fresh blivetd whose jobs directory holds only "known"; sets bp and sock.
boot_blivetd() {
    mkdir -p "$2/jobs" "$2/state"; chmod 755 "$2/jobs"
    printf '{"name":"known","command":["/bin/sleep","%s"],"autostart":false}\n' "$SLEEP_ARG" >"$2/jobs/known.json"
    sock=$(runtime_dir "$2")/b.sock
    "$1/bin/blivetd" --socket "$sock" --jobs-dir "$2/jobs" --state-dir "$2/state" 2>"$2/blivetd.log" &
    bp=$!; started+=("$bp")
    until "$CLIENT" request "$sock" '{"id":0,"op":"ping"}' >/dev/null 2>&1; do sleep 0.005; done
}
# start_kind SOCKET KIND NAME: one start of that kind, stopped again; prints microseconds.
start_kind() {
    local us
    if [ "$2" = new ]; then us=$(blivet_start "$1" "$3"); blivet_stop "$1" "$3"
    else us=$(blivet_start_known "$1"); "$CLIENT" request "$1" '{"id":2,"op":"stop","name":"known"}' >/dev/null || true; fi
    echo "$us"
}
blivet_start_known() {
    local r
    r=$("$CLIENT" request "$1" '{"id":1,"op":"start","name":"known"}') \
        || { echo "start known failed: $r" >>"$OUT/problems.log"; status=1; echo nan; return; }
    r=${r#us=}; echo "${r%% *}"
}
# first_start HOME DIR KIND LABEL: boots a blivetd, times its first start, stops it.
first_start() {
    boot_blivetd "$1" "$2"
    local b; b=$(start_kind "$sock" "$3" first)
    kill -TERM "$bp"; wait_exit "$bp"
    echo "$b"
}
homes=(after); [ -z "$BEFORE_HOME" ] || homes=(after before)
home_of() { if [ "$1" = after ]; then echo "$BLIVET_HOME"; else echo "$BEFORE_HOME"; fi; }
for run in $(seq 1 "$RUNS"); do
    case " $STEPS " in *" starts "*) ;; *) break ;; esac
    for kind in new known; do
        line="first kind=$kind"
        for h in "${homes[@]}"; do line="$line ${h}_us=$(first_start "$(home_of "$h")" "$OUT/start-$run-$kind-$h" "$kind")"; done
        line="$line daemonize_us=$(daemonize_once)"; kill_daemonized
        echo "$line" | tee -a "$OUT/first.txt" >&2
    done
    # The fresh-daemon starts: a new blivetd of each tree side by side, starts alternating with daemonize.
    declare -A fsock=() fpid=()
    for h in "${homes[@]}"; do boot_blivetd "$(home_of "$h")" "$OUT/start-$run-fresh-$h"; fsock[$h]=$sock; fpid[$h]=$bp; done
    for i in $(seq 1 "$FRESH"); do
        for kind in new known; do
            line="fresh kind=$kind"
            for h in "${homes[@]}"; do line="$line ${h}_us=$(start_kind "${fsock[$h]}" "$kind" "f$i")"; done
            line="$line daemonize_us=$(daemonize_once)"; kill_daemonized
            echo "$line" >>"$OUT/fresh.txt"
        done
    done
    if [ "$run" -eq 1 ]; then
        # Sporadic: before each start, IDLE seconds in which nothing is asked of anyone.
        for i in $(seq 1 "$SPORADIC"); do
            for kind in new known; do
                line="sporadic kind=$kind"
                for h in "${homes[@]}"; do sleep "$IDLE"; line="$line ${h}_us=$(start_kind "${fsock[$h]}" "$kind" "s$i")"; done
                sleep "$IDLE"; line="$line daemonize_us=$(daemonize_once)"; kill_daemonized
                echo "$line" | tee -a "$OUT/sporadic.txt" >&2
            done
        done
    fi
    for h in "${homes[@]}"; do kill -TERM "${fpid[$h]}"; wait_exit "${fpid[$h]}"; done
done

# ---- 3: mass start ----
jobs=$OUT/jobs; mkdir -p "$jobs"; chmod 755 "$jobs"
sv=$OUT/s6; mkdir -p "$sv"
for i in $(seq -f %04g 1 "$JOBS"); do
    printf '{"name":"s%s","command":["/bin/sleep","%s"],"autostart":true}\n' "$i" "$SLEEP_ARG" >"$jobs/s$i.json"
    mkdir -p "$sv/s$i"; printf '#!/bin/sh\nexec /bin/sleep %s\n' "$SLEEP_ARG" >"$sv/s$i/run"; chmod 755 "$sv/s$i/run"
done
. "$here/supervisord.sh"   # make_supervisor_conf, mass_supervisord
count_sleeps_until() { # N T0 -> ms after T0 when N of our sleeps exist
    local n=$1 t0=$2
    for _ in $(seq 6000); do
        [ "$(pgrep -c -f "^/bin/sleep $SLEEP_ARG\$" || true)" -ge "$n" ] && { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", (b - a) * 1000}'; return; }
        sleep 0.05
    done
    echo nan
}
mass_blivetd() { mass_blivetd_of "$BLIVET_HOME" blivetd "$1"; }
mass_blivetd-before() { mass_blivetd_of "$BEFORE_HOME" blivetd-before "$1"; }
mass_blivetd_of() { # HOME LABEL RUN
    local home=$1 label=$2 d=$OUT/mass-$3-$2 r p
    shift 2
    mkdir -p "$d/state"
    t0=$EPOCHREALTIME
    sock=$(runtime_dir "$d")/b.sock
    "$home/bin/blivetd" --socket "$sock" --jobs-dir "$jobs" --state-dir "$d/state" 2>"$d/blivetd.log" &
    p=$!; started+=("$p")
    r=$(timeout 300 "$CLIENT" wait-running "$sock" "$JOBS" "$t0" 290 20) || { status=1; r="all_running_ms=nan"; }
    sleep "$SETTLE"
    # bin/blivetd execs the keeper, the JVM's parent: blivetd is both (docs/architecture.md, "Custody").
    local procs="$p $(pgrep -P "$p" -x java | tr '\n' ' ')" q threads=0
    for q in $procs; do threads=$((threads + $(awk '/^Threads:/ {print $2}' "/proc/$q/status" 2>/dev/null || echo 0))); done
    # shellcheck disable=SC2086
    echo "tool=$label run=$1 $r pss_kb=$(pss_kb $procs) keeper_pss_kb=$(pss_kb "$p") threads=$threads processes=$(wc -w <<<"$procs")"
    kill -TERM "$p"; wait_exit "$p"
}
mass_floor() {
    local r ms p
    t0=$EPOCHREALTIME
    # To a file, not a pipe: the sleeps inherit it and would hold a pipe open.
    "$FLOOR" "$JOBS" "$(nproc)" /bin/sleep "$SLEEP_ARG" >"$OUT/floor-$1.out" 2>&1 </dev/null || status=1
    r=$(grep '^spawned_ms=' "$OUT/floor-$1.out" || echo "spawned_ms=nan")
    ms=$(count_sleeps_until "$JOBS" "$t0")
    echo "tool=floor run=$1 all_running_ms=$ms $r workers=$(nproc)"
    for p in $(our_sleeps); do kill -KILL "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do [ -z "$(our_sleeps)" ] && break; sleep 0.1; done
}
mass_s6() {
    local p ms kids
    rm -rf "$sv"/*/supervise "$sv/.s6-svscan"
    t0=$EPOCHREALTIME
    s6-svscan -c $((JOBS + 64)) "$sv" >"$OUT/s6-$1.out" 2>&1 &
    p=$!; started+=("$p")
    ms=$(count_sleeps_until "$JOBS" "$t0")
    sleep "$SETTLE"
    kids=$(pgrep -P "$p" | tr '\n' ' ')
    # shellcheck disable=SC2086
    echo "tool=s6 run=$1 all_running_ms=$ms pss_kb=$(pss_kb "$p" $kids) svscan_pss_kb=$(pss_kb "$p") supervise_processes=$(wc -w <<<"$kids")"
    s6-svscanctl -t "$sv" 2>/dev/null || kill -TERM "$p"; wait_exit "$p"
    for _ in $(seq 100); do [ -z "$(our_sleeps)" ] && break; sleep 0.1; done
}
for run in $(seq 1 "$RUNS"); do
    case " $STEPS " in *" mass "*) ;; *) break ;; esac
    order=(blivetd supervisord s6 floor)
    [ -z "$BEFORE_HOME" ] || order=(blivetd supervisord blivetd-before s6 floor)
    [ -z "$MASS_TOOLS" ] || read -r -a order <<<"$MASS_TOOLS"
    for k in $(seq 1 $(( (run - 1) % ${#order[@]} ))); do order=("${order[@]:1}" "${order[0]}"); done
    for tool in "${order[@]}"; do
        say "== mass start, run $run: $tool ($JOBS jobs; load average $(cut -d' ' -f1 /proc/loadavg))"
        "mass_$tool" "$run" | tee -a "$OUT/mass.txt" >&2
        cleanup_sleeps=$(our_sleeps | wc -l); [ "$cleanup_sleeps" -eq 0 ] || { echo "$cleanup_sleeps sleeps left after $tool" >>"$OUT/problems.log"; cleanup; }
    done
done

# ---- summary ----
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
# mass_rows TOOL: its lines of mass.txt, none (not an error) when it was not among MASS_TOOLS.
mass_rows() { grep "^tool=$1 " "$OUT/mass.txt" || true; }
{
    echo "Machine:"; echo; sed 's/^/    /' "$OUT/machine.txt"; echo "    load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo
    touch "$OUT/first.txt" "$OUT/fresh.txt" "$OUT/sporadic.txt" "$OUT/mass.txt"
    ms_of() { awk -v x="$1" 'BEGIN {if (x == "nan") print "nan"; else printf "%.2f", x/1000}'; }
    echo "| start (median, ms; blivet: new connection, start with wait, until the reply) | kind | blivet | daemonize | blivet / daemonize |$( [ -z "$BEFORE_HOME" ] || echo ' before | before / daemonize |')"
    echo "|---|---|---:|---:|---:|$( [ -z "$BEFORE_HOME" ] || echo '---:|---:|')"
    for step in first fresh sporadic; do
        case $step in first) what="first start after boot ($RUNS boots)" ;; fresh) what="fresh daemon, next $FRESH starts x $RUNS" ;;
            sporadic) what="sporadic: idle ${IDLE} s, new connection ($SPORADIC)" ;; esac
        for kind in new known; do
            rows=$(grep "^$step kind=$kind " "$OUT/$step.txt" || true)
            a=$(kv after_us <<<"$rows" | median); z=$(kv daemonize_us <<<"$rows" | median)
            extra=""
            if [ -n "$BEFORE_HOME" ]; then e=$(kv before_us <<<"$rows" | median); extra=" $(ms_of "$e") | $(ratio "$e" "$z") |"; fi
            echo "| $what | $kind | $(ms_of "$a") | $(ms_of "$z") | $(ratio "$a" "$z") |$extra"
        done
    done
    echo
    mb=$(mass_rows blivetd | kv all_running_ms | median)
    ms=$(mass_rows supervisord | kv all_running_ms | median)
    m6=$(mass_rows s6 | kv all_running_ms | median)
    mf=$(mass_rows floor | kv all_running_ms | median)
    pb=$(mass_rows blivetd | kv pss_kb | median)
    ps=$(mass_rows supervisord | kv pss_kb | median)
    p6=$(mass_rows s6 | kv pss_kb | median)
    echo "| $JOBS jobs (median of $RUNS) | blivetd | supervisord | s6 | blivetd / supervisord | blivetd / s6 |"
    echo "|---|---:|---:|---:|---:|---:|"
    echo "| all running, s | $(awk -v x="$mb" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$ms" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$m6" 'BEGIN {printf "%.2f", x/1000}') | $(ratio "$mb" "$ms") | $(ratio "$mb" "$m6") |"
    if [ -n "$BEFORE_HOME" ]; then
        me=$(mass_rows blivetd-before | kv all_running_ms | median)
        pe=$(mass_rows blivetd-before | kv pss_kb | median)
        echo "| before ($BEFORE_HOME): all running, s / PSS, MB | $(awk -v x="$me" 'BEGIN {printf "%.2f", x/1000}') / $(awk -v x="$pe" 'BEGIN {printf "%.1f", x/1024}') | | | $(ratio "$me" "$ms") / $(ratio "$pe" "$ps") | $(ratio "$me" "$m6") / $(ratio "$pe" "$p6") |"
    fi
    echo "| the machine's floor (mass-floor.c: $(nproc) C processes, posix_spawn only): all running, s | $(awk -v x="$mf" 'BEGIN {printf "%.2f", x/1000}') | | | blivetd / floor: $(ratio "$mb" "$mf") | s6 / floor: $(ratio "$m6" "$mf") |"
    echo "| PSS, MB | $(awk -v x="$pb" 'BEGIN {printf "%.1f", x/1024}') | $(awk -v x="$ps" 'BEGIN {printf "%.1f", x/1024}') | $(awk -v x="$p6" 'BEGIN {printf "%.1f", x/1024}') | $(ratio "$pb" "$ps") | $(ratio "$pb" "$p6") |"
    echo
    echo "Runs: $(grep -c . "$OUT/mass.txt") mass starts in $OUT/mass.txt; starts in first.txt, fresh.txt, sporadic.txt."
    if [ -s "$OUT/problems.log" ]; then echo; echo "Problems:"; sed 's/^/    /' "$OUT/problems.log"; fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ "$status" -eq 0 ] && [ ! -s "$OUT/problems.log" ]
