#!/usr/bin/env bash
# Launcher benchmarks (docs/benchmarks.md): start-to-ready latency of blivet's launcher side by side
# with Debian's daemonize(1), then a stress run under GC pressure. Run as root from the repo root:
#
#     bench/run-launch.sh
#
# Root is needed for the daemonize harness (it listens to the kernel's proc connector) and to
# install daemonize. Takes about 5 minutes on 2 cores. Knobs (environment):
#   RUNS=5                latency runs; the summary gives the median of the runs
#   STARTS=1000           measured starts per tool (and per blivet variant) in each run
#   WARMUP=300            unmeasured starts first (per tool, and per blivet variant)
#   STRESS_STARTS=10000   starts in the stress run
#   STRESS_THREADS=3      launching threads in the stress run
#   TIMELINE=1            then one more run of each tool, watched by spawn-timeline (kernel-side
#                         breakdown of the time; reported apart, not in the medians); 0 skips it
#   SKIP_BUILD=1          reuse the jars and binaries already built
#   WORK_PARENT=DIR       where the pidfiles go; default: /run or /dev/shm, whichever is tmpfs
#   LATENCY_JAVA_OPTS     default: bin/blivetd's JVM flags (blivetd/target/jvm-flags, from blivetd/pom.xml)
#   STRESS_JAVA_OPTS      default: the same plus -Xmx64m
# Raw output goes to bench/out/<time>/ (git-ignored). Exit status 0 only if no start failed,
# hung or lost its exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/bench"
RUNS=${RUNS:-5}
STARTS=${STARTS:-1000}
WARMUP=${WARMUP:-300}
STRESS_STARTS=${STRESS_STARTS:-10000}
STRESS_THREADS=${STRESS_THREADS:-3}
TIMELINE=${TIMELINE:-1}

say() { printf '%s\n' "$*" >&2; }
die() { say "run-launch.sh: $*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (the daemonize harness uses the kernel's proc connector)"
command -v java >/dev/null || die "java (17+) not found"
command -v mvn >/dev/null || die "mvn not found"
command -v cc >/dev/null || die "a C compiler (cc) is needed for the harness"
command -v musl-gcc >/dev/null || die "musl-gcc (Debian: musl-tools) is needed to build blivet-spawn"

if ! command -v daemonize >/dev/null; then
    say "== installing daemonize (apt-get)"
    apt-get install -y -q daemonize >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q daemonize >/dev/null; } \
        || die "could not install daemonize"
fi
DAEMONIZE=$(command -v daemonize)

# Outside bench/target, which a clean build would remove.
out="$root/bench/out/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "== building blivet (mvn install -DskipTests) and the benchmarks (log: $out/build.log)"
    (cd "$root" && mvn -B -q install -DskipTests) >>"$out/build.log" 2>&1 \
        || { tail -n 30 "$out/build.log" >&2; die "the blivet build failed"; }
    (cd "$bench" && mvn -B -q package) >>"$out/build.log" 2>&1 \
        || { tail -n 30 "$out/build.log" >&2; die "the bench build failed"; }
fi
helper="$root/blivetd/target/blivet-spawn"
harness="$bench/target/daemonize-bench"
timeline="$bench/target/spawn-timeline"
for binary in "$helper" "$harness" "$timeline"; do
    [ -x "$binary" ] || die "no $binary: build first (without SKIP_BUILD=1)"
done
[ -f "$root/blivetd/target/jvm-flags" ] || die "no blivetd/target/jvm-flags: build first (without SKIP_BUILD=1)"
read -r BLIVETD_OPTS <"$root/blivetd/target/jvm-flags"
LATENCY_JAVA_OPTS=${LATENCY_JAVA_OPTS:-$BLIVETD_OPTS}
STRESS_JAVA_OPTS=${STRESS_JAVA_OPTS:-$BLIVETD_OPTS -Xmx64m}
cp="$bench/target/classes:$bench/target/lib/*"

# Pidfiles (both tools write one per start) go to tmpfs, as in production (/run). On ext4,
# truncating and rewriting a file makes the kernel allocate and start writing its blocks at
# close (auto_da_alloc), which adds about 0.4 ms to every start of either tool.
if [ -z "${WORK_PARENT:-}" ]; then
    WORK_PARENT=/tmp
    for dir in /run /dev/shm; do
        if [ "$(stat -f -c %T "$dir" 2>/dev/null)" = tmpfs ]; then WORK_PARENT=$dir; break; fi
    done
fi
work=$(mktemp -d "$WORK_PARENT/blivet-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

{
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel: $(uname -sr)"
    echo "jdk: $(java -version 2>&1 | head -n 2 | paste -sd ' ' -)"
    echo "daemonize: $(dpkg-query -W -f '${Version}' daemonize 2>/dev/null || echo '?') ($DAEMONIZE)"
    echo "latency: RUNS=$RUNS STARTS=$STARTS WARMUP=$WARMUP LATENCY_JAVA_OPTS='$LATENCY_JAVA_OPTS'"
    echo "pidfiles in: $work ($(stat -f -c %T "$work"))"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every number)"
    echo "stress: STRESS_STARTS=$STRESS_STARTS STRESS_THREADS=$STRESS_THREADS STRESS_JAVA_OPTS='$STRESS_JAVA_OPTS'"
} | tee "$out/machine.txt" >&2

status=0
# The two latency programs as argument lists; each writes RESULT lines on stdout. daemonize gets
# as many warm-up starts as each blivet variant, so both have the same number of blocks below.
# shellcheck disable=SC2206 # LATENCY_JAVA_OPTS is a list of words
blivet_cmd=(java $LATENCY_JAVA_OPTS -cp "$cp" dev.blivet.bench.LaunchLatency --helper "$helper"
    --starts "$STARTS" --warmup "$WARMUP" --work "$work/latency")
daemonize_cmd=("$harness" -n "$STARTS" -w "$WARMUP" -d "$DAEMONIZE" -p "$work/daemonize.pid")
BLOCK=100

# One latency run: both programs at once, taking turns block by block (BLOCK starts of each blivet
# variant, then BLOCK daemonize starts, ...) over two FIFOs, so that both are measured across the
# same stretch of time and never run at the same moment. $1 = who goes first.
latency_run() {
    local first=$1 to_blivet="$work/turn-blivet.$RANDOM" to_daemonize="$work/turn-daemonize.$RANDOM"
    mkfifo "$to_blivet" "$to_daemonize"
    # Held open read-write here, so that neither program blocks opening them or sees EOF.
    exec 7<>"$to_blivet" 8<>"$to_daemonize"
    local blivet_first=false daemonize_first=()
    if [ "$first" = blivet ]; then blivet_first=true; else daemonize_first=(-f); fi
    "${blivet_cmd[@]}" --turns "$to_blivet,$to_daemonize" --block "$BLOCK" --first "$blivet_first" \
        >>"$out/latency.txt" 2>>"$out/latency.err" 7>&- 8>&- &
    local blivet_pid=$!
    "${daemonize_cmd[@]}" -i "$to_daemonize" -o "$to_blivet" -b "$BLOCK" "${daemonize_first[@]}" \
        >>"$out/latency.txt" 2>>"$out/latency.err" 7>&- 8>&- &
    local daemonize_pid=$!
    wait "$blivet_pid" || status=1
    wait "$daemonize_pid" || status=1
    exec 7>&- 8>&-
    rm -f "$to_blivet" "$to_daemonize"
}

# watched LABEL COMMAND...: runs COMMAND (a program, so that $! is its pid) alone, with
# spawn-timeline following the processes it starts.
watched() {
    local label=$1
    shift
    "$@" >>"$out/timeline.txt" 2>>"$out/latency.err" &
    local pid=$!
    "$timeline" "$pid" "$label" >>"$out/timeline.txt" 2>>"$out/latency.err" || true
    wait "$pid" || status=1
}

for run in $(seq 1 "$RUNS"); do
    # Alternate which tool goes first, so neither always gets the warmer (or colder) machine.
    first=blivet
    [ $((run % 2)) -eq 1 ] || first=daemonize
    say "== latency run $run of $RUNS ($STARTS starts each, $first first; load average $(cut -d' ' -f1 /proc/loadavg))"
    latency_run "$first"
done

if [ "$TIMELINE" = 1 ]; then
    say "== timeline: one more run of each, watched from the kernel (not in the medians)"
    watched blivet "${blivet_cmd[@]}" --variant pidfile
    watched daemonize "${daemonize_cmd[@]}"
fi

say "== stress: $STRESS_STARTS starts, $STRESS_THREADS threads, allocating thread, $STRESS_JAVA_OPTS"
# shellcheck disable=SC2086
java $STRESS_JAVA_OPTS -cp "$cp" dev.blivet.bench.LaunchStress --helper "$helper" \
    --starts "$STRESS_STARTS" --threads "$STRESS_THREADS" --ready-timeout 10 --work "$work/stress" \
    >"$out/stress.txt" 2>"$out/stress.err" || status=1

# ---- summary: medians over the runs ----
summary=$(awk -v runs="$RUNS" '
    function field(name,   i, kv) {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
        return ""
    }
    function median(key,   n, i, j, t, v) {
        n = count[key]
        for (i = 1; i <= n; i++) v[i] = vals[key, i]
        for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    function add(key, value) {
        count[key]++; vals[key, count[key]] = value
        if (count[key] == 1 || value < lo[key]) lo[key] = value
        if (count[key] == 1 || value > hi[key]) hi[key] = value
    }
    function range(key) { return sprintf("%.2f-%.2f", lo[key] / 1000, hi[key] / 1000) }
    $1 == "RESULT" && field("tool") != "blivet-stress" {
        k = field("tool") "/" field("variant")
        add(k "/exec50", field("exec_p50_us")); add(k "/exec99", field("exec_p99_us"))
        add(k "/p50", field("p50_us")); add(k "/p99", field("p99_us")); add(k "/rate", field("starts_per_s"))
        bad[k] += field("failed") + field("hung") + field("lost") + field("unmeasured_bad")
        seen[k] = 1
    }
    END {
        printf "Start-to-ready latency in ms, median of %d runs of %s measured starts per row.\n", runs, "'"$STARTS"'"
        printf "exec: until the kernel timestamp of the execve of /bin/sleep (the same instant for both tools);\n"
        printf "notified: until the requester learns it (blivet: launch() returns; daemonize: the harness reads\n"
        printf "the exec event). bad: failed, hung or lost starts, warm-up included, summed (expected 0).\n"
        printf "%-20s %9s %9s %9s %9s %9s %5s  %-11s\n", "", "exec p50", "exec p99", "notif p50", "notif p99",
            "starts/s", "bad", "exec p50 range"
        split("blivet/pidfile blivet/plain daemonize/pidfile", order, " ")
        split("blivet (pidfile)|blivet (no pidfile)|daemonize -p", label, "|")
        for (i = 1; i <= 3; i++) {
            k = order[i]
            if (!seen[k]) continue
            printf "%-20s %9.2f %9.2f %9.2f %9.2f %9.0f %5d  %-11s\n", label[i], median(k "/exec50") / 1000,
                median(k "/exec99") / 1000, median(k "/p50") / 1000, median(k "/p99") / 1000, median(k "/rate"),
                bad[k], range(k "/exec50")
        }
        if (seen["blivet/pidfile"] && seen["daemonize/pidfile"]) {
            r = median("blivet/pidfile/exec50") / median("daemonize/pidfile/exec50")
            printf "blivet/daemonize exec p50 (both with pidfile): %.2fx, target within 2x: %s\n", r,
                r <= 2 ? "met" : "MISSED"
            printf "blivet p50 under 2 ms: exec %s, notified %s\n",
                median("blivet/pidfile/exec50") < 2000 ? "met" : "MISSED",
                median("blivet/pidfile/p50") < 2000 ? "met" : "MISSED"
        }
    }' "$out/latency.txt")
stress=$(grep '^RESULT' "$out/stress.txt" || echo "stress: no result (see $out/stress.err)")
{
    echo
    echo "$summary"
    grep '^CHECK' "$out/latency.txt" | sed 's/^CHECK tool=blivet /  blivet JVM after its run: /'
    echo
    echo "Stress under GC pressure:"
    echo "$stress" | sed 's/^RESULT tool=blivet-stress /  /'
    if [ -s "$out/timeline.txt" ]; then
        echo
        echo "Where the time goes (p50 in ms; one more run of each, alone, watched by spawn-timeline):"
        echo "  t0: start requested; spawn: first fork; exec1: helper (blivet-spawn or daemonize) exec'd;"
        echo "  fork2: daemon forked; exec2: daemon exec'd /bin/sleep. Kernel timestamps, except t0 and notified."
        awk '
            function field(name,   i, kv) {
                for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
                return ""
            }
            $1 == "RESULT" { notified[field("tool")] = field("p50_us"); exec[field("tool")] = field("exec_p50_us") }
            $1 == "TIMELINE" { line[field("label")] = $0 }
            END {
                printf "  %-10s %12s %12s %12s %12s %9s %9s\n", "", "spawn>exec1", "exec1>fork2", "fork2>exec2",
                    "spawn>exec2", "t0>exec2", "notified"
                split("blivet daemonize", labels, " ")
                for (i = 1; i <= 2; i++) {
                    l = labels[i]
                    if (!(l in line)) continue
                    $0 = line[l]
                    printf "  %-10s %12.2f %12.2f %12.2f %12.2f %9.2f %9.2f\n", l, field("fork1_exec1_p50_us") / 1000,
                        field("exec1_fork2_p50_us") / 1000, field("fork2_exec2_p50_us") / 1000,
                        field("fork1_exec2_p50_us") / 1000, exec[l] / 1000, notified[l] / 1000
                }
            }' "$out/timeline.txt"
    fi
    if [ -s "$out/latency.err" ] || [ -s "$out/stress.err" ]; then
        echo "Problems were reported: see $out/latency.err and $out/stress.err"
    fi
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); raw results: $out"
} | tee "$out/summary.txt"
exit "$status"
