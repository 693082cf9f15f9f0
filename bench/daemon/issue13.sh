#!/usr/bin/env bash
# blivetd where operators feel it (issue 13; results in docs/benchmarks.md, "Issue 13: ..."). Run
# as root from the repo root, after a build (mvn -B package -DskipTests):
#
#     bench/daemon/issue13.sh
#
# Every blivet figure is taken beside its peer in the same run, interleaved, and printed with
# the ratio blivet / peer:
# 1. First start after boot: a fresh blivetd (empty jobs directory) answers ping; then one start
#    of an inline /bin/sleep job with wait (a new connection, as blivetctl makes), timed by the
#    client from connect to the reply. Peer: one `daemonize -p PIDFILE /bin/sleep` from a cold
#    harness (bench/src/main/c/daemonize-bench.c, -n 1: until the kernel reports the exec).
#    Then FRESH more starts of each, alternating (the fresh-daemon start: the interpreted stretch).
# 2. Sporadic start: the same blivetd left idle IDLE s, then one start on a new connection; the
#    peer: one daemonize start after the same idle. SPORADIC samples.
# 3. Mass start: JOBS /bin/sleep jobs from a jobs directory, from the daemon's exec until all are
#    running, blivetd (its `list`), supervisord (getAllProcessInfo, as bench/daemon/run.sh) and s6
#    (s6-svscan on JOBS service directories; s6 has no readiness here, so: until JOBS sleeps
#    exist, counted in /proc), then PSS (smaps_rollup) SETTLE s later: blivetd's one process,
#    supervisord's, and s6-svscan plus its JOBS s6-supervise processes. RUNS rounds, the order
#    rotating.
#
# Needs java 17, cc, and Debian's daemonize, supervisor and s6 (installed with apt-get if
# missing). Knobs (environment): RUNS=3 JOBS=1000 FRESH=50 IDLE=30 SPORADIC=5 SETTLE=5
# STEPS="starts mass" (either or both) BLIVET_HOME=DIR (the built tree whose bin/blivetd runs;
# default this repo) BEFORE_HOME=DIR (optional: an older built tree, e.g. a clone at the commit
# before a change, measured beside it in steps 1 and 3 as "blivetd-before") OUT=DIR (raw output;
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
say "== raw output in $OUT"
CLIENT=$OUT/blivet-client
HARNESS=$OUT/daemonize-bench
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c"
cc -O2 -Wall -Wextra -o "$HARNESS" "$root/bench/src/main/c/daemonize-bench.c"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc); cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel: $(uname -sr); jdk: $(java -version 2>&1 | sed -n 2p)"
    echo "blivet: $(git -C "$BLIVET_HOME" rev-parse --short HEAD 2>/dev/null || echo '?'); flags: $(cat "$BLIVET_HOME/blivetd/target/jvm-flags")"
    echo "daemonize $(dpkg-query -W -f '${Version}' daemonize), supervisor $(dpkg-query -W -f '${Version}' supervisor), s6 $(dpkg-query -W -f '${Version}' s6)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

started=()
our_sleeps() { pgrep -f "^/bin/sleep $SLEEP_ARG\$" || true; }
cleanup() {
    local p
    for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $(our_sleeps); do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
status=0

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
pss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }
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
# boot_blivetd HOME DIR: a fresh blivetd with an empty jobs directory, answering; sets bp.
boot_blivetd() {
    mkdir -p "$2/jobs" "$2/state"; chmod 755 "$2/jobs"
    "$1/bin/blivetd" --socket "$2/b.sock" --jobs-dir "$2/jobs" --state-dir "$2/state" 2>"$2/blivetd.log" &
    bp=$!; started+=("$bp")
    until "$CLIENT" request "$2/b.sock" '{"id":0,"op":"ping"}' >/dev/null 2>&1; do sleep 0.005; done
}
for run in $(seq 1 "$RUNS"); do
    case " $STEPS " in *" starts "*) ;; *) break ;; esac
    if [ -n "$BEFORE_HOME" ]; then
        d=$OUT/start-$run-before; boot_blivetd "$BEFORE_HOME" "$d"
        b=$(blivet_start "$d/b.sock" first); blivet_stop "$d/b.sock" first
        kill -TERM "$bp"; wait_exit "$bp"
        echo "first-before blivet_us=$b" | tee -a "$OUT/first.txt" >&2
    fi
    d=$OUT/start-$run; boot_blivetd "$BLIVET_HOME" "$d"
    b=$(blivet_start "$d/b.sock" first); blivet_stop "$d/b.sock" first
    dz=$(daemonize_once); kill_daemonized
    echo "first blivet_us=$b daemonize_us=$dz" | tee -a "$OUT/first.txt" >&2
    for i in $(seq 1 "$FRESH"); do
        echo "fresh blivet_us=$(blivet_start "$d/b.sock" f$i)" >>"$OUT/fresh.txt"; blivet_stop "$d/b.sock" f$i
        echo "fresh daemonize_us=$(daemonize_once)" >>"$OUT/fresh.txt"; kill_daemonized
    done
    if [ "$run" -eq 1 ]; then
        for i in $(seq 1 "$SPORADIC"); do
            sleep "$IDLE"; b=$(blivet_start "$d/b.sock" s$i); blivet_stop "$d/b.sock" s$i
            sleep "$IDLE"; dz=$(daemonize_once); kill_daemonized
            echo "sporadic blivet_us=$b daemonize_us=$dz" | tee -a "$OUT/sporadic.txt" >&2
        done
    fi
    kill -TERM "$bp"; wait_exit "$bp"
done

# ---- 3: mass start ----
jobs=$OUT/jobs; mkdir -p "$jobs"; chmod 755 "$jobs"
sv=$OUT/s6; mkdir -p "$sv"
for i in $(seq -f %04g 1 "$JOBS"); do
    printf '{"name":"s%s","command":["/bin/sleep","%s"],"autostart":true}\n' "$i" "$SLEEP_ARG" >"$jobs/s$i.json"
    mkdir -p "$sv/s$i"; printf '#!/bin/sh\nexec /bin/sleep %s\n' "$SLEEP_ARG" >"$sv/s$i/run"; chmod 755 "$sv/s$i/run"
done
make_supervisor_conf() {
    local dir=$1 i
    mkdir -p "$dir/logs"
    cat >"$dir/supervisord.conf" <<EOF
[unix_http_server]
file=$dir/supervisor.sock
[supervisord]
nodaemon=true
user=root
logfile=$dir/supervisord.log
pidfile=$dir/supervisord.pid
childlogdir=$dir/logs
minfds=$((3 * JOBS + 64 > 1024 ? 3 * JOBS + 64 : 1024))
minprocs=$((JOBS + 256))
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
EOF
    for i in $(seq -f %04g 1 "$JOBS"); do
        printf '[program:s%s]\ncommand=/bin/sleep %s\nautostart=true\nstartsecs=0\nautorestart=false\nstdout_logfile=NONE\nstderr_logfile=NONE\n' \
            "$i" "$SLEEP_ARG" >>"$dir/supervisord.conf"
    done
}
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
    "$home/bin/blivetd" --socket "$d/b.sock" --jobs-dir "$jobs" --state-dir "$d/state" 2>"$d/blivetd.log" &
    p=$!; started+=("$p")
    r=$(timeout 300 "$CLIENT" wait-running "$d/b.sock" "$JOBS" "$t0" 290 20) || { status=1; r="all_running_ms=nan"; }
    sleep "$SETTLE"
    echo "tool=$label run=$1 $r pss_kb=$(pss_kb "$p") threads=$(awk '/^Threads:/ {print $2}' "/proc/$p/status")"
    kill -TERM "$p"; wait_exit "$p"
}
mass_supervisord() {
    local d=$OUT/mass-$1-supervisord r p
    make_supervisor_conf "$d"
    t0=$EPOCHREALTIME
    supervisord -n -c "$d/supervisord.conf" >"$d/out" 2>&1 &
    p=$!; started+=("$p")
    r=$(timeout 330 "$PY" "$here/sup-wait.py" "$d/supervisor.sock" "$JOBS" "$t0" 300 20) || { status=1; r="all_running_ms=nan"; }
    sleep "$SETTLE"
    echo "tool=supervisord run=$1 $r pss_kb=$(pss_kb "$p")"
    kill -TERM "$p"; wait_exit "$p"
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
    order=(blivetd supervisord s6)
    [ -z "$BEFORE_HOME" ] || order=(blivetd supervisord blivetd-before s6)
    for k in $(seq 1 $(( (run - 1) % ${#order[@]} ))); do order=("${order[@]:1}" "${order[0]}"); done
    for tool in "${order[@]}"; do
        say "== mass start, run $run: $tool ($JOBS jobs; load average $(cut -d' ' -f1 /proc/loadavg))"
        "mass_$tool" "$run" | tee -a "$OUT/mass.txt" >&2
        cleanup_sleeps=$(our_sleeps | wc -l); [ "$cleanup_sleeps" -eq 0 ] || { echo "$cleanup_sleeps sleeps left after $tool" >>"$OUT/problems.log"; cleanup; }
    done
done

# ---- summary ----
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
{
    echo "Machine:"; echo; sed 's/^/    /' "$OUT/machine.txt"; echo "    load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo
    touch "$OUT/first.txt" "$OUT/fresh.txt" "$OUT/sporadic.txt" "$OUT/mass.txt"
    fb=$(grep '^first ' "$OUT/first.txt" | kv blivet_us | median); fd=$(kv daemonize_us <"$OUT/first.txt" | median)
    echo "| start (median, ms) | blivet | daemonize | blivet / daemonize |"
    echo "|---|---:|---:|---:|"
    echo "| first start after boot ($RUNS runs) | $(awk -v x="$fb" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$fd" 'BEGIN {printf "%.2f", x/1000}') | $(ratio "$fb" "$fd") |"
    if [ -n "$BEFORE_HOME" ]; then
        fe=$(grep '^first-before ' "$OUT/first.txt" | kv blivet_us | median)
        echo "| first start after boot, before ($BEFORE_HOME) | $(awk -v x="$fe" 'BEGIN {printf "%.2f", x/1000}') | | $(ratio "$fe" "$fd") |"
    fi
    rb=$(kv blivet_us <"$OUT/fresh.txt" | median); rd=$(kv daemonize_us <"$OUT/fresh.txt" | median)
    echo "| fresh daemon, next $FRESH starts x $RUNS | $(awk -v x="$rb" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$rd" 'BEGIN {printf "%.2f", x/1000}') | $(ratio "$rb" "$rd") |"
    sb=$(kv blivet_us <"$OUT/sporadic.txt" | median); sd=$(kv daemonize_us <"$OUT/sporadic.txt" | median)
    echo "| sporadic: idle ${IDLE} s, new connection ($SPORADIC) | $(awk -v x="$sb" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$sd" 'BEGIN {printf "%.2f", x/1000}') | $(ratio "$sb" "$sd") |"
    echo
    mb=$(grep '^tool=blivetd ' "$OUT/mass.txt" | kv all_running_ms | median)
    ms=$(grep '^tool=supervisord ' "$OUT/mass.txt" | kv all_running_ms | median)
    m6=$(grep '^tool=s6 ' "$OUT/mass.txt" | kv all_running_ms | median)
    pb=$(grep '^tool=blivetd ' "$OUT/mass.txt" | kv pss_kb | median)
    ps=$(grep '^tool=supervisord ' "$OUT/mass.txt" | kv pss_kb | median)
    p6=$(grep '^tool=s6 ' "$OUT/mass.txt" | kv pss_kb | median)
    echo "| $JOBS jobs (median of $RUNS) | blivetd | supervisord | s6 | blivetd / supervisord | blivetd / s6 |"
    echo "|---|---:|---:|---:|---:|---:|"
    echo "| all running, s | $(awk -v x="$mb" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$ms" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$m6" 'BEGIN {printf "%.2f", x/1000}') | $(ratio "$mb" "$ms") | $(ratio "$mb" "$m6") |"
    if [ -n "$BEFORE_HOME" ]; then
        me=$(grep '^tool=blivetd-before ' "$OUT/mass.txt" | kv all_running_ms | median)
        pe=$(grep '^tool=blivetd-before ' "$OUT/mass.txt" | kv pss_kb | median)
        echo "| before ($BEFORE_HOME): all running, s / PSS, MB | $(awk -v x="$me" 'BEGIN {printf "%.2f", x/1000}') / $(awk -v x="$pe" 'BEGIN {printf "%.1f", x/1024}') | | | $(ratio "$me" "$ms") / $(ratio "$pe" "$ps") | $(ratio "$me" "$m6") / $(ratio "$pe" "$p6") |"
    fi
    echo "| PSS, MB | $(awk -v x="$pb" 'BEGIN {printf "%.1f", x/1024}') | $(awk -v x="$ps" 'BEGIN {printf "%.1f", x/1024}') | $(awk -v x="$p6" 'BEGIN {printf "%.1f", x/1024}') | $(ratio "$pb" "$ps") | $(ratio "$pb" "$p6") |"
    echo
    echo "Runs: $(grep -c . "$OUT/mass.txt") mass starts in $OUT/mass.txt; starts in first.txt, fresh.txt, sporadic.txt."
    if [ -s "$OUT/problems.log" ]; then echo; echo "Problems:"; sed 's/^/    /' "$OUT/problems.log"; fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ "$status" -eq 0 ] && [ ! -s "$OUT/problems.log" ]
