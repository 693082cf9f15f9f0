#!/usr/bin/env bash
# What the intake's look at the file system costs a start (issue 13, "one stat per path"; results
# in docs/benchmarks.md, "Round 8"). Run from the repo root, after a build (mvn -B package
# -DskipTests), as any user:
#
#     BEFORE_HOME=<an older built tree> bench/daemon/resolve-cost.sh
#
# 1. Time: each round, for each tree in turn, a fresh JVM with blivetd's JVM flags resolves one
#    spec COUNT times back to back (bench/daemon/ResolveCost.java: a PATH lookup, a chdir, new
#    pidfile, lockfile and stderr, an existing stdout); the first resolve, the median of the first
#    20, of the 31st to the 80th (what a start after blivetd's warm-up sees) and of the last
#    half. Medians over ROUNDS, and this tree / before.
# 2. System calls per resolve, when strace is installed: the file system calls of a JVM resolving
#    101 times minus those of one resolving once, over 100.
#
# Knobs (environment): ROUNDS=10 COUNT=2000 BLIVET_HOME=DIR (default this repo) BEFORE_HOME=DIR
# (optional) OUT=DIR (default a new /tmp/blivet-resolve.XXXXXX).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BLIVET_HOME=${BLIVET_HOME:-$root}
BEFORE_HOME=${BEFORE_HOME:-}
ROUNDS=${ROUNDS:-10}
COUNT=${COUNT:-2000}

die() { echo "resolve-cost.sh: $*" >&2; exit 2; }
[ "$COUNT" -ge 40 ] 2>/dev/null || die "COUNT must be a number of resolves, 40 or more"
for h in "$BLIVET_HOME" $BEFORE_HOME; do
    [ -f "$h/blivetd/target/jvm-flags" ] || die "blivetd is not built in $h (mvn -B package -DskipTests)"
done
OUT=${OUT:-$(mktemp -d /tmp/blivet-resolve.XXXXXX)}
mkdir -p "$OUT/classes"
# Compiled once, against this tree: the program uses only the resolver's public API, which both
# trees share.
javac -d "$OUT/classes" -cp "$BLIVET_HOME/blivetd/target/lib/*" "$here/ResolveCost.java"

trees=(after); [ -z "$BEFORE_HOME" ] || trees=(after before)
home_of() { if [ "$1" = after ]; then echo "$BLIVET_HOME"; else echo "$BEFORE_HOME"; fi; }
# resolve HOME COUNT [WRAPPER...]: one fresh JVM resolving COUNT times in a new scratch directory.
resolve() {
    local home=$1 count=$2 flags scratch
    shift 2
    read -r flags <"$home/blivetd/target/jvm-flags"
    scratch=$(mktemp -d "$OUT/scratch.XXXXXX")
    # shellcheck disable=SC2086 # flags is a list of words
    "$@" java $flags -cp "$OUT/classes:$home/blivetd/target/lib/*" ResolveCost "$scratch" "$count"
    rm -rf "$scratch"
}
{
    echo "date: $(date -u +%FT%TZ); nproc: $(nproc); kernel: $(uname -sr); jdk: $(java -version 2>&1 | sed -n 2p)"
    echo "blivet: $(git -C "$BLIVET_HOME" rev-parse --short HEAD 2>/dev/null || echo '?')${BEFORE_HOME:+; before: $(git -C "$BEFORE_HOME" rev-parse --short HEAD 2>/dev/null || echo '?')}"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

for round in $(seq 1 "$ROUNDS"); do
    line="round=$round"
    for t in "${trees[@]}"; do
        r=$(resolve "$(home_of "$t")" "$COUNT")
        line="$line ${t}_${r// / ${t}_}"
    done
    echo "$line" | tee -a "$OUT/rounds.txt" >&2
done

# The file system calls a resolve makes (strace's summary of those kinds, one JVM).
FS_CALLS=stat,lstat,newfstatat,statx,access,faccessat,faccessat2,readlink,readlinkat,open,openat,getdents64
fs_calls() { # HOME COUNT: the total of those calls in a JVM resolving COUNT times
    resolve "$1" "$2" strace -f -qq -c -e trace="$FS_CALLS" -o "$OUT/strace.$$" >/dev/null
    awk '$NF != "total" && $4 ~ /^[0-9]+$/ {n += $4} END {print n + 0}' "$OUT/strace.$$"
}
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
{
    sed 's/^/    /' "$OUT/machine.txt"; echo "    load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo
    echo "| resolve of one spec, median of $ROUNDS JVMs, us | this tree |$( [ -z "$BEFORE_HOME" ] || echo ' before | this tree / before |')"
    echo "|---|---:|$( [ -z "$BEFORE_HOME" ] || echo '---:|---:|')"
    for metric in first first20 after30 warm; do
        a=$(kv "after_${metric}_us" <"$OUT/rounds.txt" | median)
        row="| $metric | $a |"
        if [ -n "$BEFORE_HOME" ]; then
            b=$(kv "before_${metric}_us" <"$OUT/rounds.txt" | median)
            row="$row $b | $(ratio "$a" "$b") |"
        fi
        echo "$row"
    done
    if command -v strace >/dev/null; then
        for t in "${trees[@]}"; do
            h=$(home_of "$t")
            echo "file system calls per resolve ($t): $(awk -v a="$(fs_calls "$h" 101)" -v b="$(fs_calls "$h" 1)" 'BEGIN {printf "%.1f", (a - b) / 100}')"
        done
    else
        echo "file system calls per resolve: not counted (no strace; apt-get install strace)"
    fi
    echo "Raw lines: $OUT/rounds.txt"
} | tee "$OUT/summary.md"
