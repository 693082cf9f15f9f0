#!/usr/bin/env bash
# Where blivetd's memory goes at 1000 jobs, and what JVM flags change it (issue 13; results in
# docs/benchmarks.md, "Round 4: where blivetd's memory goes at 1000 jobs"). Run as root from the
# repo root, after a build (mvn -B package -DskipTests):
#
#     bench/daemon/memory.sh
#
# Each round starts, one after another, supervisord (bench/daemon/supervisord.sh, as issue13.sh)
# and one blivetd per variant (bin/blivetd: keeper + JVM), each with JOBS /bin/sleep jobs from a
# jobs directory, and waits until all run (as issue13.sh's mass start). SETTLE s later it takes
# the PSS (smaps_rollup: blivetd's keeper plus its JVM, as issue13.sh), then, attaching with jcmd
# only after that sample: the JVM's mappings sorted into classes (bench/daemon/smaps-classes.py:
# Java heap, the class-data sharing archives, class space, code cache, thread stacks, libjvm,
# other files, malloc arenas, other anonymous memory), the thread count, the CPU time the JVM
# spent until then (the start's cost: a variant must not slow starts), what one malloc_trim
# gives back (jcmd System.trim_native_heap), and after a full GC (jcmd GC.run) the old
# generation's live set and the RSS again. With NMT=1 one more blivetd
# (the default flags plus -XX:NativeMemoryTracking=summary, which costs memory itself: its PSS is
# not a variant's) gives `jcmd VM.native_memory summary`.
#
# A variant is a line "NAME|ENV|FLAGS": ENV is assignments for bin/blivetd's environment
# (e.g. MALLOC_ARENA_MAX=2) or empty; FLAGS are added after blivetd.jvm.flags (the last of two
# JVM flags wins), the class-data sharing archive mapped as bin/blivetd maps it, unless FLAGS
# holds the word NOCDS (then no blivetd archive; the JDK's default one still maps). Two pseudo
# variables in ENV: IDLE_JVMS=N runs N idle JVMs of the same java beside that blivetd (what
# other programs mapping libjvm.so do to its PSS), JOBS=N another job count.
#
# Needs java 17 (with jcmd), cc, python3 and Debian's supervisor (installed if missing). Knobs
# (environment): RUNS=2 JOBS=1000 SETTLE=12 NMT=1 VARIANTS=(below) BLIVET_HOME=DIR (default this
# repo) RUNTIME_PARENT=/dev/shm OUT=DIR (default a new /tmp/blivet-memory.XXXXXX). Prints a
# markdown summary, also in OUT/summary.md; raw per-run lines in OUT/mem.txt, each run's smaps,
# VM.info, threads and NMT summary under OUT/mass-RUN-NAME/.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
RUNS=${RUNS:-2}
JOBS=${JOBS:-1000}
SETTLE=${SETTLE:-12}   # past the first malloc_trim of the trim variant's 10 s interval
NMT=${NMT:-1}
RUNTIME_PARENT=${RUNTIME_PARENT:-/dev/shm}
# Relative to blivetd.jvm.flags as adopted in round 4 (docs/benchmarks.md).
DEFAULT_VARIANTS='default||
round-3-flags||-Xms16m -Xmn8m
trim-10s||-XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=10000
young-8m||-Xms16m -Xmn8m
young-2m||-Xms10m -Xmn2m
no-blivetd-archive||NOCDS
archives-unrelocated||-XX:ArchiveRelocationMode=0
malloc-arena-max-2|MALLOC_ARENA_MAX=2|
stacks-256k||-Xss256k
3-idle-jvms-beside|IDLE_JVMS=3|
no-jobs|JOBS=0|'
VARIANTS=${VARIANTS:-$DEFAULT_VARIANTS}
SLEEP_ARG=8640053   # our sleeps, and nobody else's (issue13.sh: 8640043, first-start.sh: 8640047)
PY=/usr/bin/python3

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "memory.sh: $*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v java >/dev/null || die "java (17+) not found"
command -v jcmd >/dev/null || die "jcmd not found (the JDK's)"
command -v cc >/dev/null || die "cc not found"
target=$BLIVET_HOME/blivetd/target
[ -x "$BLIVET_HOME/bin/blivetd" ] && [ -f "$target/jvm-flags" ] || die "blivetd is not built in $BLIVET_HOME (mvn -B package -DskipTests)"
read -r FLAGS <"$target/jvm-flags"
command -v supervisord >/dev/null || { say "== installing supervisor (apt-get)"; apt-get install -y -q supervisor >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q supervisor >/dev/null; } || die "could not install supervisor"; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

OUT=${OUT:-$(mktemp -d /tmp/blivet-memory.XXXXXX)}
mkdir -p "$OUT"
RUNTIME=$(mktemp -d "$RUNTIME_PARENT/blivet-memory.XXXXXX")
say "== raw output in $OUT"
CLIENT=$OUT/blivet-client
cc -O2 -Wall -Wextra -Werror -pthread -o "$CLIENT" "$here/blivet-client.c"
. "$here/harness.sh"   # describe_machine, started, cleanup on exit, pss_kb
describe_machine "$FLAGS" "supervisor $(dpkg-query -W -f '${Version}' supervisor)"

# rss_kb and dirty_kb PID...: summed over the processes. Dirty pages (anonymous memory, the
# archives' relocated pages) are the process's own whatever else runs; PSS divides clean file
# pages (libjvm.so's code, the JDK's lib/modules) among every process mapping them, so it moves
# with what else runs on the machine (other JVMs of the same java), and RSS is what the PSS is
# when nothing else maps them (a quiet machine).
rollup_sum() { local f=$1 s=0 p; shift; for p in "$@"; do s=$((s + $(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }
rss_kb() { rollup_sum Rss "$@"; }
dirty_kb() { echo $(( $(rollup_sum Private_Dirty "$@") + $(rollup_sum Shared_Dirty "$@") )); }
wait_exit() { local i; for i in $(seq 600); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return; }; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
. "$here/supervisord.sh"   # make_supervisor_conf, mass_supervisord: issue13.sh's peer

make_jobs() { # DIR N: N /bin/sleep jobs, autostart
    local i
    mkdir -p "$1"; chmod 755 "$1"
    for i in $(seq -f %04g 1 "$2"); do
        printf '{"name":"s%s","command":["/bin/sleep","%s"],"autostart":true}\n' "$i" "$SLEEP_ARG" >"$1/s$i.json"
    done
}
make_jobs "$OUT/jobs" "$JOBS"
# An idle JVM of the same java, for IDLE_JVMS: it maps libjvm.so, lib/modules and the C++
# runtime as every JVM does, and does nothing.
mkdir -p "$OUT/idle"
printf 'public class Idle { public static void main(String[] a) throws Exception { Thread.sleep(Long.MAX_VALUE); } }\n' >"$OUT/idle/Idle.java"
javac -d "$OUT/idle" "$OUT/idle/Idle.java"

# mass_variant RUN NAME ENV FLAGS [nmt]: one blivetd; prints its line for mem.txt.
mass_variant() {
    local run=$1 name=$2 envs=$3 extra=$4 nmt=${5:-} d jobs=$OUT/jobs n=$JOBS idle=0 cds opts e p j t0 r
    d=$OUT/mass-$run-$name; mkdir -p "$d/state"
    local env_args=()
    for e in $envs; do
        case $e in
            IDLE_JVMS=*) idle=${e#*=} ;;
            JOBS=*) n=${e#*=}; jobs=$OUT/jobs-$n; [ -d "$jobs" ] || make_jobs "$jobs" "$n" ;;
            *) env_args+=("$e") ;;
        esac
    done
    local idlers=() i
    for i in $(seq 1 "$idle"); do java -Xshare:auto -XX:+UseSerialGC -Xmx16m -cp "$OUT/idle" Idle & idlers+=("$!"); started+=("$!"); done
    cds="-XX:SharedArchiveFile=$target/blivetd.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
    case " $extra " in *" NOCDS "*) cds=""; extra=${extra//NOCDS/} ;; esac
    opts="$FLAGS $extra $cds${nmt:+ -XX:NativeMemoryTracking=summary}"
    local sock; sock=$(mktemp -d "$RUNTIME/b.XXXXXX")/b.sock
    t0=$EPOCHREALTIME
    env "${env_args[@]}" BLIVETD_JAVA_OPTS="$opts" "$BLIVET_HOME/bin/blivetd" --socket "$sock" --jobs-dir "$jobs" --state-dir "$d/state" 2>"$d/blivetd.log" &
    p=$!; started+=("$p")
    if [ "$n" -gt 0 ]; then
        r=$(timeout 300 "$CLIENT" wait-running "$sock" "$n" "$t0" 290 20) || { status=1; r="all_running_ms=nan"; }
    else
        until "$CLIENT" request "$sock" '{"id":0,"op":"ping"}' >/dev/null 2>&1; do sleep 0.01; done; r="all_running_ms=0"
    fi
    sleep "$SETTLE"
    j=$(pgrep -P "$p" -x java | head -1)
    # The sample first: jcmd's attach adds a thread and loads classes.
    local pss rss dirty threads cpu ticks
    pss=$(pss_kb "$p" "$j"); rss=$(rss_kb "$p" "$j"); dirty=$(dirty_kb "$p" "$j")
    threads=$(( 1 + $(awk '/^Threads:/ {print $2}' "/proc/$j/status") ))
    ticks=$(getconf CLK_TCK)
    cpu=$(awk -v t="$ticks" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t}' "/proc/$j/stat")
    cp "/proc/$j/smaps" "$d/smaps"
    for t in /proc/"$j"/task/*; do
        echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{print ($1 == "running" || NF < 9) ? "-" : $(NF-1)}' "$t/syscall" 2>/dev/null || echo -)"
    done >"$d/threads.txt"
    # Who else maps libjvm.so now (its pages' PSS is divided among them).
    local sharers
    sharers=0
    for i in $(pgrep -x java); do grep -q '/libjvm\.so$' "/proc/$i/maps" 2>/dev/null && sharers=$((sharers + 1)); done
    jcmd "$j" VM.info >"$d/vminfo.txt" 2>&1 || true
    [ -z "$nmt" ] || jcmd "$j" VM.native_memory summary >"$d/nmt.txt" 2>&1 || true
    "$PY" "$here/smaps-classes.py" "$d/smaps" "$d/vminfo.txt" "$d/threads.txt" >"$d/classes.txt"
    local jsa=no; grep -q '/blivetd\.jsa$' "$d/smaps" && jsa=yes
    # What one malloc_trim(0) gives back now (glibc keeps freed memory, e.g. the compiler's
    # arenas): measured around it, as jcmd's attach itself has added a thread and classes.
    local trim_rss trim_dirty; trim_rss=$(rss_kb "$p" "$j"); trim_dirty=$(dirty_kb "$p" "$j")
    jcmd "$j" System.trim_native_heap >"$d/trim.txt" 2>&1 || true
    trim_rss=$((trim_rss - $(rss_kb "$p" "$j"))); trim_dirty=$((trim_dirty - $(dirty_kb "$p" "$j")))
    jcmd "$j" GC.run >/dev/null 2>&1 || true
    jcmd "$j" GC.heap_info >"$d/heap-after-gc.txt" 2>&1 || true
    local live; live=$(awk '/tenured generation/ {for (i = 1; i <= NF; i++) if ($i == "used") {sub(/K,?/, "", $(i+1)); print $(i+1)}}' "$d/heap-after-gc.txt")
    local rss_gc; rss_gc=$(rss_kb "$p" "$j")
    echo "tool=blivetd variant=$name run=$run jobs=$n $r pss_kb=$pss rss_kb=$rss dirty_kb=$dirty keeper_pss_kb=$(pss_kb "$p") threads=$threads jvm_cpu_s=$cpu blivetd_jsa=$jsa libjvm_mappers=$sharers trim_gave_rss_kb=$trim_rss trim_gave_dirty_kb=$trim_dirty live_old_kb=${live:-nan} rss_after_gc_kb=$rss_gc $(awk '{printf "%s_rss_kb=%s %s_pss_kb=%s ", $1, $3, $1, $2}' "$d/classes.txt")${nmt:+nmt=1}"
    kill -TERM "$p"; wait_exit "$p"
    for i in "${idlers[@]}"; do kill -KILL "$i" 2>/dev/null || true; wait "$i" 2>/dev/null || true; done
    for _ in $(seq 100); do [ -z "$(our_sleeps)" ] && break; sleep 0.1; done
}

mapfile -t variants < <(grep -v '^[[:space:]]*$' <<<"$VARIANTS")
for run in $(seq 1 "$RUNS"); do
    # supervisord first in odd rounds, last in even ones.
    # The order rotates by one each round, so no variant always meets the same load.
    order=(supervisord "${variants[@]}")
    for _ in $(seq 1 $(( (run - 1) % ${#order[@]} ))); do order=("${order[@]:1}" "${order[0]}"); done
    for v in "${order[@]}"; do
        say "== round $run: ${v%%|*} ($JOBS jobs; load average $(cut -d' ' -f1 /proc/loadavg))"
        # Not in a pipe: the exit trap must see every pid they start.
        if [ "$v" = supervisord ]; then mass_supervisord "$run" >>"$OUT/mem.txt"
        else IFS='|' read -r name envs extra <<<"$v"; mass_variant "$run" "$name" "$envs" "$extra" >>"$OUT/mem.txt"; fi
        tail -1 "$OUT/mem.txt" >&2
        for _ in $(seq 100); do [ -z "$(our_sleeps)" ] && break; sleep 0.1; done
        left=$(our_sleeps | wc -l); [ "$left" -eq 0 ] || { echo "$left sleeps left after ${v%%|*}" >>"$OUT/problems.log"; cleanup; }
    done
done
if [ "$NMT" = 1 ]; then
    say "== native memory tracking (default flags + NMT)"
    mass_variant 1 nmt "" "" nmt >>"$OUT/mem.txt"; tail -1 "$OUT/mem.txt" >&2
fi

# ---- summary ----
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0 && a != "nan") printf "%.2f", a / b; else print "nan"}'; }
mb() { awk -v x="$1" 'BEGIN {if (x == "nan" || x == "") print "nan"; else printf "%.1f", x/1024}'; }
classes="java-heap cds-jdk cds-app class-space code-cache thread-stacks libjvm other-files malloc other-anon"
{
    echo "Machine:"; echo; sed 's/^/    /' "$OUT/machine.txt"; echo "    load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo
    ps=$(grep '^tool=supervisord ' "$OUT/mem.txt" | kv pss_kb | median)
    echo "supervisord, $JOBS jobs: PSS $(mb "$ps") MB (median of $RUNS; runs: $(grep '^tool=supervisord ' "$OUT/mem.txt" | kv pss_kb | while read -r x; do printf '%s ' "$(mb "$x")"; done | sed 's/ $//')), RSS $(mb "$(grep '^tool=supervisord ' "$OUT/mem.txt" | kv rss_kb | median)") MB."
    echo
    echo "PSS moves with what else maps the same files (other JVMs of this java: the libjvm.so mappers column); RSS is the PSS with nothing else mapping them (a quiet machine); dirty is the process's own memory whatever else runs. blivetd = keeper + JVM; MB, medians of the runs."
    echo
    echo "| variant (added to blivetd.jvm.flags) | PSS (runs) | PSS / supervisord | RSS (runs) | RSS / supervisord PSS | dirty | one malloc_trim gives back (RSS) | RSS after a full GC | live old gen after it | threads | JVM CPU until all ran, s | all running, s | blivetd.jsa mapped | libjvm.so mappers |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    for v in "${variants[@]}"; do
        IFS='|' read -r name envs extra <<<"$v"
        rows=$(grep "^tool=blivetd variant=$name " "$OUT/mem.txt" || true)
        p=$(kv pss_kb <<<"$rows" | median); r=$(kv rss_kb <<<"$rows" | median)
        runs() { kv "$1" <<<"$rows" | while read -r x; do printf '%s, ' "$(mb "$x")"; done | sed 's/, $//'; }
        echo "| $name: \`${envs:+$envs }${extra:-(none)}\` | $(mb "$p") ($(runs pss_kb)) | $(ratio "$p" "$ps") | $(mb "$r") ($(runs rss_kb)) | $(ratio "$r" "$ps") | $(mb "$(kv dirty_kb <<<"$rows" | median)") | $(mb "$(kv trim_gave_rss_kb <<<"$rows" | median)") | $(mb "$(kv rss_after_gc_kb <<<"$rows" | median)") | $(mb "$(kv live_old_kb <<<"$rows" | median)") | $(kv threads <<<"$rows" | median) | $(kv jvm_cpu_s <<<"$rows" | median) | $(awk -v x="$(kv all_running_ms <<<"$rows" | median)" 'BEGIN {printf "%.2f", x/1000}') | $(kv blivetd_jsa <<<"$rows" | sort -u | tr '\n' ' ')| $(kv libjvm_mappers <<<"$rows" | median) |"
    done
    echo
    echo "Where the JVM's RSS goes, MB (medians; bench/daemon/smaps-classes.py):"
    echo
    printf '| variant |'; for c in $classes; do printf ' %s |' "$c"; done; echo
    printf '|---|'; for c in $classes; do printf -- '---:|'; done; echo
    for v in "${variants[@]}"; do
        name=${v%%|*}
        rows=$(grep "^tool=blivetd variant=$name " "$OUT/mem.txt" || true)
        printf '| %s |' "$name"; for c in $classes; do printf ' %s |' "$(mb "$(kv "$c"_rss_kb <<<"$rows" | median)")"; done; echo
    done
    if [ "$NMT" = 1 ] && [ -s "$OUT/mass-1-nmt/nmt.txt" ]; then
        echo; echo "Native memory tracking (default flags + NMT; committed, not resident):"; echo
        grep -E '^(Total|-)' "$OUT/mass-1-nmt/nmt.txt" | sed 's/^/    /'
    fi
    if [ -s "$OUT/problems.log" ]; then echo; echo "Problems:"; sed 's/^/    /' "$OUT/problems.log"; fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ "$status" -eq 0 ] && [ ! -s "$OUT/problems.log" ]
