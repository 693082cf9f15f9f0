# What bench/daemon/issue13.sh, memory.sh and start-curve.sh share, sourced after they set OUT, RUNTIME,
# BLIVET_HOME and SLEEP_ARG: the run's machine described, the processes it started and its
# sleeps killed on exit (with RUNTIME removed), PSS, and a median.

# describe_machine FLAGS PEERS: date, cores, kernel, JDK, blivet's commit and JVM flags, the
# peers' versions (PEERS, a line) and the load, to OUT/machine.txt and stderr.
describe_machine() {
    {
        echo "date: $(date -u +%FT%TZ)"
        echo "nproc: $(nproc); cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
        echo "kernel: $(uname -sr); jdk: $(java -version 2>&1 | sed -n 2p)"
        echo "blivet: $(git -C "$BLIVET_HOME" rev-parse --short HEAD 2>/dev/null || echo '?'); flags: $1"
        echo "$2"
        echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$OUT/machine.txt" >&2
}

started=()
our_sleeps() { pgrep -f "^/bin/sleep $SLEEP_ARG\$" || true; }
cleanup() {
    local p
    for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $(our_sleeps); do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'cleanup; rm -rf "$RUNTIME"' EXIT
status=0
# pss_kb PID...: their PSS summed, kB.
pss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }
# median: the median of the numbers on stdin, one per line ("nan" for none).
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
