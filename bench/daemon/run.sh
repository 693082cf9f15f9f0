#!/usr/bin/env bash
# blivetd benchmarks (issue 3; results in bench/daemon/RESULTS.md). Run as root from the repo root:
#
#     bench/daemon/run.sh
#
# 1. `status` round trip from a raw socket client (bench/daemon/blivet-client.c): p50/p99 and
#    requests/s at 1 and at 32 concurrent clients, one persistent connection each.
# 2. 1000 `/bin/sleep` jobs from a jobs directory: time from starting blivetd until `list` shows
#    all running, and in the same run the same 1000 programs under supervisord (startsecs=0)
#    until getAllProcessInfo (what `supervisorctl status` calls) shows all RUNNING.
# 3. RSS (VmRSS) of blivetd and supervisord with 0, 100 and 1000 running jobs, after SETTLE s.
# 4. CPU (utime+stime) and context switches of all threads of an idle blivetd (and supervisord)
#    with 100 running jobs, over two consecutive windows of IDLE_SECONDS.
#
# About 10 minutes on 2 cores (plus the build). Needs java 17, mvn, cc and Debian's supervisor package (installed
# with apt-get when missing). Knobs (environment):
#   RUNS=3             runs of steps 1 and 2; the summary gives the median of the runs
#   RTT_REQUESTS=20000 measured requests per configuration and run (split over the clients)
#   RTT_WARMUP=20000   unmeasured requests first, per configuration and run
#   JOBS=1000          jobs (programs) in step 2
#   SETTLE=10          seconds between "all running" and reading RSS
#   IDLE_SECONDS=60    length of each of the two idle CPU windows in step 4
#   QUIET_MAX=900      longest wait (s) for other benchmarks to finish before a measurement
#   EXTRA=1            diagnostic rows: blivetd with OLD_FLAGS, bin/blivetd's JVM flags before they
#                      were tuned: the JOBS start, its RSS, and an idle window; 0 skips
#   OLD_FLAGS="..."    default: -XX:+UseSerialGC -Xss512k -Xmx512m -XX:-UsePerfData (no archive)
#   BLIVET_HOME=DIR    the built tree whose bin/blivetd runs (default: this repo)
#   SKIP_BUILD=1       do not run `mvn -B -q package -DskipTests` in BLIVET_HOME first
#   OUT=DIR            raw output (default: a new /tmp/blivet-daemon-bench.XXXXXX)
# Prints the summary tables (markdown) at the end; they are also in OUT/summary.md.
# Exit status 0 only if every step ran and left no process behind.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
RUNS=${RUNS:-3}
RTT_REQUESTS=${RTT_REQUESTS:-20000}
RTT_WARMUP=${RTT_WARMUP:-20000}
JOBS=${JOBS:-1000}
SETTLE=${SETTLE:-10}
IDLE_SECONDS=${IDLE_SECONDS:-60}
QUIET_MAX=${QUIET_MAX:-900}
EXTRA=${EXTRA:-1}
OLD_FLAGS=${OLD_FLAGS:--XX:+UseSerialGC -Xss512k -Xmx512m -XX:-UsePerfData}
# Every job and program runs this; the odd number finds our sleeps and nobody else's.
SLEEP_ARG=8640042
OTHER_BENCH='LaunchLatency|LaunchStress|daemonize-bench|hyperfine'
PY=/usr/bin/python3   # Debian's: supervisor lives in its dist-packages

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (as the benchmarks in docs/benchmarks.md)"
command -v java >/dev/null || die "java (17+) not found"
command -v cc >/dev/null || die "a C compiler (cc) is needed for the client"
command -v musl-gcc >/dev/null || die "musl-gcc (Debian: musl-tools) is needed to build blivet-spawn"
if ! command -v supervisord >/dev/null || ! "$PY" -c 'import supervisor' 2>/dev/null; then
    say "== installing supervisor (apt-get)"
    apt-get install -y -q supervisor >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q supervisor >/dev/null; } \
        || die "could not install supervisor"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

OUT=${OUT:-$(mktemp -d /tmp/blivet-daemon-bench.XXXXXX)}
mkdir -p "$OUT"
say "== raw output in $OUT"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    command -v mvn >/dev/null || die "mvn not found"
    say "== building blivet in $BLIVET_HOME (mvn -B -q package -DskipTests)"
    (cd "$BLIVET_HOME" && mvn -B -q package -DskipTests) >"$OUT/build.log" 2>&1 \
        || { tail -n 30 "$OUT/build.log" >&2; die "the blivet build failed"; }
fi
BLIVETD="$BLIVET_HOME/bin/blivetd"
ls "$BLIVET_HOME"/blivetd/target/blivetd-*.jar >/dev/null 2>&1 || die "blivetd is not built in $BLIVET_HOME"
CLIENT="$OUT/blivet-client"
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c" || die "could not build the client"

# ---------------------------------------------------------------------------------------------
# Processes we started, for the exit trap: daemons by pid, our sleeps by their unique argument.
started=()
our_sleeps() { pgrep -f "^/bin/sleep $SLEEP_ARG\$" || true; }
reap_leftovers() {
    local p
    for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $(our_sleeps); do kill -KILL "$p" 2>/dev/null || true; done
}
trap reap_leftovers EXIT

overlap=0
OTHERS_MS=0
# CPU ticks of every process: "pid ppid ticks comm", ticks = utime+stime+cutime+cstime (a child
# that ended is counted in its parent, so short-lived processes are not missed).
procs_cpu() {
    local f line comm
    for f in /proc/[0-9]*/stat; do
        read -r line <"$f" 2>/dev/null || continue
        comm=${line#*(}; comm=${comm%)*}; comm=${comm// /_}
        set -- ${line##*) }
        printf '%s %s %s %s\n' "${line%% *}" "$2" "$(( ${12} + ${13} + ${14} + ${15} ))" "$comm"
    done
}
# Waits until none of the other helpers' benchmarks run and the machine is idle (at most
# QUIET_MAX s), then takes the CPU snapshot check_quiet compares against.
wait_quiet() {
    local waited=0 busy
    while :; do
        busy=$(busy_pct)
        if ! pgrep -f "$OTHER_BENCH" >/dev/null && [ "$busy" -lt 15 ]; then
            break
        fi
        if [ "$waited" -ge "$QUIET_MAX" ]; then
            say "!! not quiet after ${QUIET_MAX}s (busy ${busy}% of a core); measuring anyway (overlap)"
            echo "overlap before: $1: busy ${busy}%: $(pgrep -af "$OTHER_BENCH" | head -3 | tr '\n' ';')" >>"$OUT/overlap.log"
            overlap=1
            break
        fi
        [ "$waited" -eq 0 ] && say "   waiting for quiet (busy ${busy}% of a core; other benchmarks: $(pgrep -f "$OTHER_BENCH" | tr '\n' ' '))"
        sleep 2
        waited=$((waited + 3))
    done
    procs_cpu >"$OUT/.cpu-before"
}
# Percent of one core the whole machine used over the last second.
busy_pct() {
    local a b
    a=$(head -n 1 /proc/stat); sleep 1; b=$(head -n 1 /proc/stat)
    awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {
        split(a, x); split(b, y); idle = (y[5] + y[6]) - (x[5] + x[6]); total = 0
        for (i = 2; i <= 9; i++) total += y[i] - x[i]
        printf "%d", (total > 0 ? (total - idle) * 100 * n / total : 0) }'
}
# After a measurement: another benchmark running now, and the CPU that processes other than ours
# (this script, its children, the daemon DAEMON_PID and its jobs) used since wait_quiet. Sets
# OTHERS_MS and logs the top users to OUT/others.txt.
check_quiet() {
    local label=$1 daemon=${2:-0} hz
    hz=$(getconf CLK_TCK)
    if pgrep -f "$OTHER_BENCH" >/dev/null; then
        say "!! another benchmark ran during: $label"
        echo "overlap during: $label: $(pgrep -af "$OTHER_BENCH" | head -3 | tr '\n' ';')" >>"$OUT/overlap.log"
        overlap=1
    fi
    procs_cpu >"$OUT/.cpu-after"
    local report
    report=$(awk -v me="$$" -v daemon="$daemon" -v hz="$hz" '
        FNR == NR { t[$1] = $3; next }
        ($1 in t) && $1 != me && $2 != me && $1 != daemon && $2 != daemon {
            d = $3 - t[$1]; if (d > 0) { sum += d; users[$4 "[" $1 "]"] += d } }
        END {
            top = ""
            for (k = 0; k < 3; k++) { best = ""; bv = 0
                for (u in users) if (users[u] > bv) { bv = users[u]; best = u }
                if (best == "") break
                top = top sprintf("%s%s=%dms", top == "" ? "" : ",", best, bv * 1000 / hz); delete users[best] }
            printf "%d %s", sum * 1000 / hz, top == "" ? "-" : top }' "$OUT/.cpu-before" "$OUT/.cpu-after")
    OTHERS_MS=${report%% *}
    echo "$label others_ms=$OTHERS_MS top=${report#* }" >>"$OUT/others.txt"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
epoch_of() { date -u -d "$1" +%s.%N; }   # ISO or "YYYY-MM-DD HH:MM:SS.mmm" (UTC) to epoch

# Waits (at most $2 s) for pid $1 to exit; SIGKILL if it does not.
wait_exit() {
    local pid=$1 limit=$2 i=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$i" -ge $((limit * 10)) ]; then
            say "!! pid $pid still alive after ${limit}s; SIGKILL"
            echo "pid $pid did not exit within ${limit}s" >>"$OUT/problems.log"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.1
        i=$((i + 1))
    done
    wait "$pid" 2>/dev/null || true
}

# After a daemon stopped: none of our sleeps may remain (they are killed and reported if they do).
check_no_sleeps() {
    local left i
    for i in $(seq 50); do
        left=$(our_sleeps | wc -l)
        [ "$left" -eq 0 ] && return 0
        sleep 0.1
    done
    say "!! $left sleep processes left after $1; killing them"
    echo "$left sleep processes left after $1: $(our_sleeps | head -5 | tr '\n' ' ')" >>"$OUT/problems.log"
    for p in $(our_sleeps); do kill -KILL "$p" 2>/dev/null || true; done
}

# make_jobs DIR N [NAME]: N blivetd job files (or one named NAME).
make_jobs() {
    local dir=$1 n=$2 name=${3:-} i
    mkdir -p "$dir"
    if [ -n "$name" ]; then
        printf '{"name":"%s","command":["/bin/sleep","%s"],"autostart":true}\n' "$name" "$SLEEP_ARG" >"$dir/$name.json"
        return
    fi
    for i in $(seq -f %04g 1 "$n"); do
        printf '{"name":"s%s","command":["/bin/sleep","%s"],"autostart":true}\n' "$i" "$SLEEP_ARG" >"$dir/s$i.json"
    done
}

. "$here/supervisord.sh"   # make_supervisor_conf

# start_blivetd DIR: runs blivetd on DIR/jobs; sets B_PID and B_T0 ($EPOCHREALTIME just before).
start_blivetd() {
    local dir=$1
    mkdir -p "$dir/jobs" "$dir/state"
    B_T0=$EPOCHREALTIME
    "$BLIVETD" --socket "$dir/b.sock" --jobs-dir "$dir/jobs" --state-dir "$dir/state" 2>"$dir/blivetd.log" &
    B_PID=$!
    started+=("$B_PID")
}
stop_blivetd() {
    local dir=$1
    kill -TERM "$B_PID" 2>/dev/null || true
    wait_exit "$B_PID" 60
    check_no_sleeps "blivetd in $dir"
    if grep -E ' (WARN|ERROR) ' "$dir/blivetd.log" >/dev/null; then
        echo "blivetd log $dir/blivetd.log has WARN/ERROR lines:" >>"$OUT/problems.log"
        grep -E ' (WARN|ERROR) ' "$dir/blivetd.log" | head -5 >>"$OUT/problems.log"
    fi
}
# start_supervisord DIR: sets S_PID and S_T0.
start_supervisord() {
    local dir=$1
    S_T0=$EPOCHREALTIME
    supervisord -n -c "$dir/supervisord.conf" >"$dir/supervisord.out" 2>&1 &
    S_PID=$!
    started+=("$S_PID")
}
stop_supervisord() {
    local dir=$1
    timeout 60 supervisorctl -c "$dir/supervisord.conf" shutdown >>"$dir/supervisord.out" 2>&1 || kill -TERM "$S_PID" 2>/dev/null || true
    wait_exit "$S_PID" 120
    check_no_sleeps "supervisord in $dir"
}
wait_blivetd_running() { # DIR N -> "first_answer_ms=.. all_running_ms=.. polls=.."
    timeout 180 "$CLIENT" wait-running "$1/b.sock" "$2" "$B_T0" 150 20 \
        || { echo "blivetd: not all $2 jobs running (see $1/blivetd.log)" >>"$OUT/problems.log"; echo "all_running_ms=nan"; }
}
wait_supervisord_running() {
    timeout 330 "$PY" "$here/sup-wait.py" "$1/supervisor.sock" "$2" "$S_T0" 300 20 \
        || { echo "supervisord: not all $2 programs RUNNING (see $1/supervisord.log)" >>"$OUT/problems.log"; echo "all_running_ms=nan"; }
}
# `supervisorctl status` itself, once, as the cross-check: prints "RUNNING-count seconds-taken".
supervisorctl_running() {
    local t=$EPOCHREALTIME n
    n=$(timeout 120 supervisorctl -c "$1/supervisord.conf" status 2>/dev/null | awk '$2 == "RUNNING"' | wc -l)
    echo "$n $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')"
}

# idle_window PID SECONDS LABEL: CPU and context switches of every thread over the window.
idle_window() {
    local pid=$1 secs=$2 label=$3 hz before after
    hz=$(getconf CLK_TCK)
    snapshot() { # "tid comm voluntary nonvoluntary on-cpu-ns" per thread, then "total ticks"
        local t ns
        for t in /proc/"$pid"/task/*; do
            # One read of status per thread; a thread that ended meanwhile prints nothing.
            # schedstat's first field: the thread's time on a CPU in ns (exact, not sampled).
            read -r ns _ <"$t/schedstat" || continue
            awk -v tid="${t##*/}" -v ns="$ns" '/^Name:/ {sub(/^Name:[ \t]*/, ""); gsub(/ /, "_"); name = $0}
                /^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2}
                END {if (name != "" && v != "" && n != "") print tid, name, v, n, ns}' "$t/status"
        done 2>/dev/null
        # /proc/PID/stat: fields after the ")" start at 3; utime and stime are 14 and 15.
        sed 's/.*) //' "/proc/$pid/stat" | awk '{print "total", $12 + $13}'
    }
    before=$(snapshot)
    sleep "$secs"
    after=$(snapshot)
    printf '%s\n' "$before" >"$OUT/idle-$label.before"
    printf '%s\n' "$after" >"$OUT/idle-$label.after"
    awk -v hz="$hz" -v secs="$secs" -v label="$label" -v pid="$pid" '
        # Switches are summed per thread name; a thread that ended inside the window is not counted.
        FNR == NR { if ($1 == "total") t0 = $2; else { v0[$1] = $3; n0[$1] = $4; c0[$1] = $5; tb++ }; next }
        $1 == "total" { t1 = $2; next }
        { ta++
          if ($1 in v0) { dv = $3 - v0[$1]; dn = $4 - n0[$1]; vol += dv; inv += dn; oncpu += $5 - c0[$1]
                          if (dv + dn > 0) { if (!($2 in w)) order[++k] = $2; w[$2] += dv + dn } }
          else newt++ }
        END {
            ticks = t1 - t0
            for (i = 1; i <= k; i++) woke = woke sprintf(" %s=%d", order[i], w[order[i]])
            printf "label=%s pid=%d seconds=%d cpu_ticks=%d cpu_ms=%.0f cpu_pct=%.3f oncpu_ms=%.1f oncpu_pct=%.4f vol_cs=%d invol_cs=%d threads=%d->%d new_threads=%d woke:%s\n",
                label, pid, secs, ticks, ticks * 1000 / hz, ticks * 100 / hz / secs, oncpu / 1e6, oncpu / 1e7 / secs, vol, inv, tb, ta, newt + 0, woke
        }' "$OUT/idle-$label.before" "$OUT/idle-$label.after"
}

# blivetd's own timeline from its log: JVM start to first log line, to the first "starting",
# to "listening", to the last "running" (all in ms after T0).
blivetd_timeline() {
    local log=$1 t0=$2 first start listen last
    first=$(epoch_of "$(head -n 1 "$log" | cut -d' ' -f1)")
    start=$(epoch_of "$(grep -m 1 ': starting \[' "$log" | cut -d' ' -f1)")
    listen=$(epoch_of "$(grep -m 1 ' listening on ' "$log" | cut -d' ' -f1)")
    last=$(epoch_of "$(grep ': running, pid ' "$log" | tail -n 1 | cut -d' ' -f1)")
    awk -v t0="$t0" -v a="$first" -v b="$start" -v c="$listen" -v d="$last" \
        'BEGIN {printf "log_first_ms=%.0f first_start_ms=%.0f listening_ms=%.0f last_running_log_ms=%.0f\n", (a-t0)*1000, (b-t0)*1000, (c-t0)*1000, (d-t0)*1000}'
}
# supervisord's: first log line, first and last "spawned:", last "entered RUNNING state".
supervisord_timeline() {
    local log=$1 t0=$2 first spawn1 spawnN last
    sup_time() { epoch_of "$(cut -d' ' -f1,2 | tr ',' '.')"; }
    first=$(head -n 1 "$log" | sup_time)
    spawn1=$(grep -m 1 ' spawned: ' "$log" | sup_time)
    spawnN=$(grep ' spawned: ' "$log" | tail -n 1 | sup_time)
    last=$(grep 'entered RUNNING state' "$log" | tail -n 1 | sup_time)
    awk -v t0="$t0" -v a="$first" -v b="$spawn1" -v c="$spawnN" -v d="$last" \
        'BEGIN {printf "log_first_ms=%.0f first_spawn_ms=%.0f last_spawn_ms=%.0f last_running_log_ms=%.0f\n", (a-t0)*1000, (b-t0)*1000, (c-t0)*1000, (d-t0)*1000}'
}

cat >"$OUT/machine.txt" <<EOF
nproc: $(nproc)
cpu: $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
kernel: $(uname -r)
memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
jdk: $(java -version 2>&1 | sed -n 2p)
maven: $(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g')
supervisor: $(supervisord --version) ($(dpkg-query -W -f '${Version}' supervisor 2>/dev/null)), python $("$PY" -V 2>&1 | cut -d' ' -f2)
blivet: $(cd "$BLIVET_HOME" && git log -1 --format='%h %s' 2>/dev/null)
blivetd JVM options: ${BLIVETD_JAVA_OPTS:-(bin/blivetd default) $(cat "$BLIVET_HOME/blivetd/target/jvm-flags")}
EOF
say "== machine"; cat "$OUT/machine.txt" >&2

# ---------------------------------------------------------------------------------------------
say "== 1. status round trip ($RUNS runs x {1, 32} clients x $RTT_REQUESTS requests, $RTT_WARMUP warm-up each)"
d="$OUT/rtt"
make_jobs "$d/jobs" 1 x
start_blivetd "$d"
wait_blivetd_running "$d" 1 >"$d/up.txt"
# A first warm-up for the JIT, unmeasured.
"$CLIENT" rtt "$d/b.sock" 1 "$RTT_WARMUP" 0 x >"$d/warmup.txt"
"$CLIENT" rtt "$d/b.sock" 32 "$RTT_WARMUP" 0 x >>"$d/warmup.txt"
for run in $(seq "$RUNS"); do
    for c in 1 32; do
        wait_quiet "rtt run $run c=$c"
        line=$(timeout 300 "$CLIENT" rtt "$d/b.sock" "$c" "$RTT_REQUESTS" "$RTT_WARMUP" x) \
            || echo "rtt run $run c=$c: client failed: $line" >>"$OUT/problems.log"
        check_quiet "rtt run $run c=$c" "$B_PID"
        echo "run=$run $line others_ms=$OTHERS_MS" | tee -a "$OUT/rtt.txt" >&2
    done
done
echo "rss_after_rtt_kb=$(rss_kb "$B_PID") threads=$(threads_of "$B_PID")" >>"$OUT/rtt.txt"
stop_blivetd "$d"

# ---------------------------------------------------------------------------------------------
say "== 2. $JOBS sleep jobs until all running: blivetd and supervisord, $RUNS runs"
make_jobs "$OUT/jobs-$JOBS" "$JOBS"
make_jobs "$OUT/jobs-100" 100
# Each daemon gets a copy: blivetd refuses a jobs directory reached through a symlink.
for run in $(seq "$RUNS"); do
    d="$OUT/start-$run-blivetd"
    mkdir -p "$d"
    cp -r "$OUT/jobs-$JOBS" "$d/jobs"
    wait_quiet "start run $run blivetd"
    start_blivetd "$d"
    r=$(wait_blivetd_running "$d" "$JOBS")
    check_quiet "start run $run blivetd" "$B_PID"
    sleep "$SETTLE"
    echo "tool=blivetd run=$run $r rss_kb=$(rss_kb "$B_PID") threads=$(threads_of "$B_PID") fds=$(ls "/proc/$B_PID/fd" | wc -l) others_ms=$OTHERS_MS $(blivetd_timeline "$d/blivetd.log" "$B_T0")" \
        | tee -a "$OUT/start.txt" >&2
    if [ "$run" = 1 ]; then
        # Diagnostics after the measurement: what the heap holds, and how much of the RSS is
        # memory glibc's malloc keeps after the JVM freed it (System.trim_native_heap gives it back).
        jcmd "$B_PID" GC.heap_info >"$d/heap_info.txt" 2>&1 || true
        jcmd "$B_PID" System.trim_native_heap >"$d/trim.txt" 2>&1 || true
        echo "tool=blivetd-trimmed jobs=$JOBS rss_kb=$(rss_kb "$B_PID")" | tee -a "$OUT/rss.txt" >&2
    fi
    stop_blivetd "$d"

    d="$OUT/start-$run-supervisord"
    make_supervisor_conf "$d" "$JOBS"
    wait_quiet "start run $run supervisord"
    start_supervisord "$d"
    r=$(wait_supervisord_running "$d" "$JOBS")
    check_quiet "start run $run supervisord" "$S_PID"
    ctl=$(supervisorctl_running "$d")
    sleep "$SETTLE"
    echo "tool=supervisord run=$run $r supervisorctl_running=${ctl% *} supervisorctl_s=${ctl#* } rss_kb=$(rss_kb "$S_PID") fds=$(ls "/proc/$S_PID/fd" | wc -l) others_ms=$OTHERS_MS $(supervisord_timeline "$d/supervisord.log" "$S_T0")" \
        | tee -a "$OUT/start.txt" >&2
    stop_supervisord "$d"
done

# ---------------------------------------------------------------------------------------------
say "== 3 and 4. RSS with 0 and 100 jobs; idle CPU with 100 jobs over ${IDLE_SECONDS}s"
for n in 0 100; do
    d="$OUT/rss-$n-blivetd"
    mkdir -p "$d"
    if [ "$n" = 0 ]; then mkdir -p "$d/jobs"; else cp -r "$OUT/jobs-100" "$d/jobs"; fi
    wait_quiet "rss $n blivetd"
    start_blivetd "$d"
    wait_blivetd_running "$d" "$n" >"$d/up.txt"
    sleep "$SETTLE"
    echo "tool=blivetd jobs=$n rss_kb=$(rss_kb "$B_PID") threads=$(threads_of "$B_PID")" | tee -a "$OUT/rss.txt" >&2
    if [ "$n" = 100 ]; then
        # Two windows back to back: the first starts SETTLE s after all are running (the launch
        # threads, kept 30 s, exit in it, and the JIT may still compile); the second is steady state.
        for w in 1 2; do
            wait_quiet "idle blivetd $w"
            r=$(idle_window "$B_PID" "$IDLE_SECONDS" "blivetd-window$w")
            check_quiet "idle blivetd $w" "$B_PID"
            echo "${r/ woke:/ others_ms=$OTHERS_MS woke:}" | tee -a "$OUT/idle.txt" >&2
        done
    fi
    stop_blivetd "$d"

    d="$OUT/rss-$n-supervisord"
    make_supervisor_conf "$d" "$n"
    wait_quiet "rss $n supervisord"
    start_supervisord "$d"
    wait_supervisord_running "$d" "$n" >"$d/up.txt"
    sleep "$SETTLE"
    echo "tool=supervisord jobs=$n rss_kb=$(rss_kb "$S_PID") threads=$(threads_of "$S_PID")" | tee -a "$OUT/rss.txt" >&2
    if [ "$n" = 100 ]; then
        for w in 1 2; do
            wait_quiet "idle supervisord $w"
            r=$(idle_window "$S_PID" "$IDLE_SECONDS" "supervisord-window$w")
            check_quiet "idle supervisord $w" "$S_PID"
            echo "${r/ woke:/ others_ms=$OTHERS_MS woke:}" | tee -a "$OUT/idle.txt" >&2
        done
    fi
    stop_supervisord "$d"
done

if [ "$EXTRA" = 1 ]; then
    # BLIVETD_JAVA_OPTS replaces bin/blivetd's flags and its class-data sharing archive (bin/blivetd).
    say "== 3b. diagnostic: blivetd with the old JVM flags ($OLD_FLAGS): $JOBS jobs, RSS"
    d="$OUT/rss-$JOBS-blivetd-oldflags"
    mkdir -p "$d"
    cp -r "$OUT/jobs-$JOBS" "$d/jobs"
    wait_quiet "start blivetd oldflags"
    BLIVETD_JAVA_OPTS="$OLD_FLAGS" start_blivetd "$d"
    r=$(wait_blivetd_running "$d" "$JOBS")
    sleep "$SETTLE"
    echo "tool=blivetd-oldflags jobs=$JOBS $r rss_kb=$(rss_kb "$B_PID") threads=$(threads_of "$B_PID")" | tee -a "$OUT/rss.txt" >&2
    stop_blivetd "$d"

    say "== 4b. diagnostic: idle blivetd with 100 jobs and the old JVM flags"
    d="$OUT/idle-100-blivetd-oldflags"
    mkdir -p "$d"
    cp -r "$OUT/jobs-100" "$d/jobs"
    BLIVETD_JAVA_OPTS="$OLD_FLAGS" start_blivetd "$d"
    wait_blivetd_running "$d" 100 >"$d/up.txt"
    sleep 40   # past the launch threads' 30 s keep-alive: steady state, like window 2
    wait_quiet "idle blivetd oldflags"
    r=$(idle_window "$B_PID" "$IDLE_SECONDS" "blivetd-old-flags")
    check_quiet "idle blivetd oldflags" "$B_PID"
    echo "${r/ woke:/ others_ms=$OTHERS_MS woke:}" | tee -a "$OUT/idle.txt" >&2
    stop_blivetd "$d"
fi

# ---------------------------------------------------------------------------------------------
# Summary (markdown).
{
    echo "## Machine"
    echo
    sed 's/^/    /' "$OUT/machine.txt"
    echo
    echo "## 1. status round trip (median of $RUNS runs, $RTT_REQUESTS requests each)"
    echo
    echo "| clients | p50 ms | p90 ms | p99 ms | max ms | requests/s | errors | p50 ms (runs) | requests/s (runs) | other processes' CPU ms (runs) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
    for c in 1 32; do
        rows=$(grep " clients=$c " "$OUT/rtt.txt")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" \
            "$(kv p50_ms <<<"$rows" | median)" "$(kv p90_ms <<<"$rows" | median)" "$(kv p99_ms <<<"$rows" | median)" \
            "$(kv max_ms <<<"$rows" | median)" "$(kv rps <<<"$rows" | median)" "$(kv errors <<<"$rows" | awk '{s+=$1} END {print s}')" \
            "$(kv p50_ms <<<"$rows" | paste -sd' ')" "$(kv rps <<<"$rows" | paste -sd' ')" "$(kv others_ms <<<"$rows" | paste -sd' ')"
    done
    echo
    echo "## 2. $JOBS sleep jobs: from starting the daemon until all are running (median of $RUNS runs)"
    echo
    b=$(grep '^tool=blivetd ' "$OUT/start.txt"); s=$(grep '^tool=supervisord ' "$OUT/start.txt")
    bm=$(kv all_running_ms <<<"$b" | median); sm=$(kv all_running_ms <<<"$s" | median)
    echo "| | blivetd | supervisord |"
    echo "|---|---:|---:|"
    echo "| all running, s (median) | $(awk -v x="$bm" 'BEGIN {printf "%.2f", x/1000}') | $(awk -v x="$sm" 'BEGIN {printf "%.2f", x/1000}') |"
    echo "| all running, s (runs) | $(kv all_running_ms <<<"$b" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1/1000}') | $(kv all_running_ms <<<"$s" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1/1000}') |"
    echo "| first answer to a poll, s | $(kv first_answer_ms <<<"$b" | median | awk '{printf "%.2f", $1/1000}') | $(kv first_answer_ms <<<"$s" | median | awk '{printf "%.2f", $1/1000}') |"
    echo "| first log line, s | $(kv log_first_ms <<<"$b" | median | awk '{printf "%.2f", $1/1000}') | $(kv log_first_ms <<<"$s" | median | awk '{printf "%.2f", $1/1000}') |"
    echo "| first job spawned, s | $(kv first_start_ms <<<"$b" | median | awk '{printf "%.2f", $1/1000}') | $(kv first_spawn_ms <<<"$s" | median | awk '{printf "%.2f", $1/1000}') |"
    echo "| last job running (its log), s | $(kv last_running_log_ms <<<"$b" | median | awk '{printf "%.2f", $1/1000}') | $(kv last_running_log_ms <<<"$s" | median | awk '{printf "%.2f", $1/1000}') |"
    echo "| other processes' CPU while timed, ms (runs) | $(kv others_ms <<<"$b" | paste -sd' ') | $(kv others_ms <<<"$s" | paste -sd' ') |"
    echo "| RSS $SETTLE s later, MB | $(kv rss_kb <<<"$b" | median | awk '{printf "%.1f", $1/1024}') | $(kv rss_kb <<<"$s" | median | awk '{printf "%.1f", $1/1024}') |"
    echo "| supervisorctl status: RUNNING / seconds it took | | $(kv supervisorctl_running <<<"$s" | tr '\n' ' ')/ $(kv supervisorctl_s <<<"$s" | tr '\n' ' ') |"
    echo
    echo "Speed-up (supervisord / blivetd, medians): $(awk -v a="$sm" -v b="$bm" 'BEGIN {printf "%.2fx", a/b}')"
    echo
    echo "## 3. RSS (VmRSS, $SETTLE s after all are running)"
    echo
    echo "| jobs | blivetd MB | supervisord MB |"
    echo "|---:|---:|---:|"
    for n in 0 100; do
        echo "| $n | $(grep "^tool=blivetd jobs=$n " "$OUT/rss.txt" | kv rss_kb | awk '{printf "%.1f", $1/1024}') | $(grep "^tool=supervisord jobs=$n " "$OUT/rss.txt" | kv rss_kb | awk '{printf "%.1f", $1/1024}') |"
    done
    echo "| $JOBS (median of $RUNS) | $(kv rss_kb <<<"$b" | median | awk '{printf "%.1f", $1/1024}') | $(kv rss_kb <<<"$s" | median | awk '{printf "%.1f", $1/1024}') |"
    echo "| $JOBS, run 1 after \`jcmd PID System.trim_native_heap\` (diagnostic) | $(grep '^tool=blivetd-trimmed ' "$OUT/rss.txt" | kv rss_kb | awk '{printf "%.1f", $1/1024}') | |"
    if [ "$EXTRA" = 1 ]; then
        old=$(grep '^tool=blivetd-oldflags ' "$OUT/rss.txt")
        echo "| $JOBS, blivetd with the old JVM flags, one run (diagnostic; all running after $(kv all_running_ms <<<"$old") ms) | $(kv rss_kb <<<"$old" | awk '{printf "%.1f", $1/1024}') | |"
    fi
    echo
    echo "## 4. idle with 100 running jobs, ${IDLE_SECONDS} s windows (window 1 starts $SETTLE s after all are running, window 2 right after it)"
    echo
    echo "| | utime+stime ms | % of a core | on-CPU ms (schedstat) | % of a core | voluntary switches (all threads) | involuntary | threads (start->end) | threads that woke (switches) | other processes' CPU ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    while read -r line; do
        woke=${line#*woke:}
        echo "| $(kv label <<<"$line") | $(kv cpu_ms <<<"$line") | $(kv cpu_pct <<<"$line") | $(kv oncpu_ms <<<"$line") | $(kv oncpu_pct <<<"$line") | $(kv vol_cs <<<"$line") | $(kv invol_cs <<<"$line") | $(kv threads <<<"$line") | ${woke:- none} | $(kv others_ms <<<"$line") |"
    done <"$OUT/idle.txt"
    echo
    if [ "$overlap" = 1 ]; then echo "Overlap with other benchmarks: see $OUT/overlap.log"; else echo "No other benchmark ran during any measurement."; fi
    if [ -s "$OUT/problems.log" ]; then echo; echo "Problems:"; sed 's/^/    /' "$OUT/problems.log"; fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ ! -s "$OUT/problems.log" ]
