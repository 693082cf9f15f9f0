#!/bin/sh
# Start-up cost of the client, side by side in one interleaved run: the JVM floor (`java
# -Xshare:auto` running an empty main), `blivetctl status` and `supervisorctl status`, each
# client talking to its own daemon that runs the same number of jobs (sleeps), plus references:
# an empty main with blivetctl's JVM flags, and with those and a static archive of its own (what
# blivetctl's queries do, applied to the floor); blivetctl without its class-data sharing
# archives, with the archive of every command instead of the queries' own, without its socket
# library, and with its archive mapped unrelocated; and, with BEFORE=DIR, the `blivetctl status`
# of another built tree (e.g. the commit before a change, checked out with git worktree and built
# with mvn -B package -DskipTests).
# Writes bench/ctl/RESULTS.md.
#
#   bench/ctl/run.sh          # build, then 40 rounds (RUNS=, JOBS=, SKIP_BUILD=1, BEFORE=DIR)
#
# Each round runs every command once, in an order that rotates from round to round, so that
# all of them are measured over the same stretch of time on a machine whose load changes; each
# command's median is reported, and its ratio to the floor and to supervisorctl as the median
# of the per-round ratios (each round's commands ran seconds apart). Needs root only to install
# what is missing (supervisor) with apt-get; needs javac (the JDK) for the empty main.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-40}
jobs=${JOBS:-5}
before=${BEFORE:-}
out="$here/bench/ctl/RESULTS.md"
work=$(mktemp -d /tmp/blivet-ctl-bench.XXXXXX)
blivetd_pid=
supervisord_pid=

cleanup() {
    [ -n "$supervisord_pid" ] && kill "$supervisord_pid" 2>/dev/null && wait "$supervisord_pid" 2>/dev/null
    [ -n "$blivetd_pid" ] && kill "$blivetd_pid" 2>/dev/null && wait "$blivetd_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls a command until it succeeds, for at most $1 seconds.
await() {
    limit=$1; shift
    deadline=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "run.sh: gave up after ${limit}s waiting for: $*" >&2
            return 1
        fi
        sleep 0.1
    done
}

if ! command -v supervisord >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y supervisor >/dev/null || true
fi
command -v supervisord >/dev/null 2>&1 || { echo "run.sh: needs supervisor (apt-get install supervisor)" >&2; exit 1; }
command -v javac >/dev/null 2>&1 || { echo "run.sh: needs javac (a JDK) for the empty main" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$here" && mvn -B -q package -DskipTests)
fi
ctl="$here/bin/blivetctl"
target="$here/blivetctl/target"
jar=$(ls "$target"/blivetctl-*.jar | head -n 1)
for a in blivetctl.jsa blivetctl-queries.jsa; do
    [ -f "$target/$a" ] || { echo "run.sh: $target/$a is missing: build with mvn package" >&2; exit 1; }
done
archive="$target/blivetctl.jsa"          # every command's, on top of the JDK's default archive
queries="$target/blivetctl-queries.jsa"  # what bin/blivetctl maps for status (its archive.sh)
native="$target/libblivetctl-socket.so"   # what bin/blivetctl names with -Dblivetctl.native
[ -f "$native" ] || { echo "run.sh: $native is missing: build with mvn package" >&2; exit 1; }
if [ -n "$before" ]; then
    [ -x "$before/bin/blivetctl" ] && [ -f "$before/blivetctl/target/blivetctl.jsa" ] \
        || { echo "run.sh: BEFORE=$before is no built blivet tree (bin/blivetctl, blivetctl/target/blivetctl.jsa)" >&2; exit 1; }
    before_commit=$(git -C "$before" rev-parse --short HEAD 2>/dev/null || echo "$before")
fi

# The floor: a class whose main does nothing, on the JDK's own class-data sharing archive.
mkdir -p "$work/floor"
printf 'public final class Empty {\n    public static void main(String[] args) {\n    }\n}\n' >"$work/floor/Empty.java"
javac -d "$work/floor" "$work/floor/Empty.java"
read -r flags <"$target/jvm-flags"   # bin/blivetctl's, from blivetctl/pom.xml
# The floor with blivetctl's flags and a static archive of its own classes, dumped as blivetctl's
# queries' archive is (blivetctl/pom.xml, cds-queries-*): what the same means give an empty main.
# Its class in a jar: an archive's class path may hold no directory with classes in it.
mkdir -p "$work/floor-cds"
jar cf "$work/floor-cds/empty.jar" -C "$work/floor" Empty.class
# shellcheck disable=SC2086 # the flags are words
java $flags -Xshare:off -XX:DumpLoadedClassList="$work/floor-cds/empty.classlist" -cp "$work/floor-cds/empty.jar" Empty
# shellcheck disable=SC2086
java $flags -Xlog:cds=off -Xshare:dump -XX:SharedClassListFile="$work/floor-cds/empty.classlist" \
    -XX:SharedArchiveFile="$work/floor-cds/empty.jsa" -cp "$work/floor-cds/empty.jar" >/dev/null

# The same jobs for both daemons.
mkdir -p "$work/jobs" "$work/sup"
chmod 700 "$work/jobs"
cat > "$work/sup/supervisord.conf" <<CONF
[unix_http_server]
file=$work/sup/supervisor.sock
[supervisord]
nodaemon=true
logfile=$work/sup/supervisord.log
pidfile=$work/sup/supervisord.pid
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$work/sup/supervisor.sock
CONF
i=1
while [ "$i" -le "$jobs" ]; do
    printf '{"name":"job%d","command":["/bin/sleep","%d"],"autostart":true}\n' "$i" $((900000 + i)) > "$work/jobs/job$i.json"
    printf '[program:job%d]\ncommand=/bin/sleep %d\nstartsecs=0\n' "$i" $((900000 + i)) >> "$work/sup/supervisord.conf"
    i=$((i + 1))
done

socket="$work/blivetd.sock"
"$here/bin/blivetd" --socket "$socket" --jobs-dir "$work/jobs" --state-dir "$work/state" >"$work/blivetd.log" 2>&1 &
blivetd_pid=$!
supervisord -c "$work/sup/supervisord.conf" >/dev/null 2>&1 &
supervisord_pid=$!

all_running_blivet() {
    [ "$("$ctl" --socket "$socket" list | grep -c ' running ')" -eq "$jobs" ]
}
all_running_supervisor() {
    [ "$(supervisorctl -c "$work/sup/supervisord.conf" status | grep -c RUNNING)" -eq "$jobs" ]
}
await 60 all_running_blivet || { cat "$work/blivetd.log" >&2; exit 1; }
await 60 all_running_supervisor

# label TAB command, one per line; the first is the floor, the ratios' reference.
{
    printf 'JVM floor: java -Xshare:auto, empty main\tjava -Xshare:auto -cp %s Empty\n' "$work/floor"
    printf 'blivetctl status\t%s --socket %s status\n' "$ctl" "$socket"
    printf 'supervisorctl status\tsupervisorctl -c %s status\n' "$work/sup/supervisord.conf"
    printf 'empty main, blivetctl JVM flags\tjava %s -Xshare:auto -cp %s Empty\n' "$flags" "$work/floor"
    printf 'empty main, blivetctl JVM flags, a static archive of its own\tjava %s -Xshare:auto -XX:SharedArchiveFile=%s -Xlog:cds=off -cp %s Empty\n' \
        "$flags" "$work/floor-cds/empty.jsa" "$work/floor-cds/empty.jar"
    printf 'blivetctl status, no AppCDS archive\tjava %s -Dblivetctl.native=%s -Xshare:auto -cp %s:%s/lib/* dev.blivet.ctl.Main --socket %s status\n' \
        "$flags" "$native" "$jar" "$target" "$socket"
    printf 'blivetctl status, the archive of every command (as before the queries had their own)\tjava %s -Dblivetctl.native=%s -Xshare:auto -XX:SharedArchiveFile=%s -Xlog:cds=off -Xlog:cds+dynamic=off -cp %s:%s/lib/* dev.blivet.ctl.Main --socket %s status\n' \
        "$flags" "$native" "$archive" "$jar" "$target" "$socket"
    printf 'blivetctl status, JDK socket channel (no socket library)\tjava %s -Xshare:auto -XX:SharedArchiveFile=%s -Xlog:cds=off -Xlog:cds+dynamic=off -cp %s:%s/lib/* dev.blivet.ctl.Main --socket %s status\n' \
        "$flags" "$queries" "$jar" "$target" "$socket"
    printf 'blivetctl status, archive mapped unrelocated (not adopted)\tjava %s -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -Dblivetctl.native=%s -Xshare:auto -XX:SharedArchiveFile=%s -Xlog:cds=off -Xlog:cds+dynamic=off -cp %s:%s/lib/* dev.blivet.ctl.Main --socket %s status\n' \
        "$flags" "$native" "$queries" "$jar" "$target" "$socket"
    if [ -n "$before" ]; then
        printf 'blivetctl status, before (%s)\t%s/bin/blivetctl --socket %s status\n' "$before_commit" "$before" "$socket"
    fi
} >"$work/commands"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Rounds: every command once per round, the order rotated each round; wall time of each
# process from spawn to exit (stdout and stderr to /dev/null) and its CPU time, in ms.
python3 - "$work/commands" "$runs" >"$work/rows" <<'PY'
import os, statistics, sys, time
commands = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
runs = int(sys.argv[2])
null = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]

def once(argv):
    """Wall and CPU (user + system, all threads) ms of one run."""
    # Class paths such as lib/* are java's to expand: no shell, and so no globbing, in between.
    start = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("run.sh: failed: " + " ".join(argv))
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000

argvs = [command.split(" ") for _, command in commands]
for argv in argvs:            # warm-up: page cache, the daemons' first answers
    for _ in range(3):
        once(argv)
times = [[] for _ in commands]
cpus = [[] for _ in commands]
for r in range(runs):
    for k in range(len(commands)):
        i = (r + k) % len(commands)
        wall, cpu = once(argvs[i])
        times[i].append(wall)
        cpus[i].append(cpu)
floor, peer = times[0], times[2]
for (label, _), t, c in zip(commands, times, cpus):
    to_floor = statistics.median(x / f for x, f in zip(t, floor))
    to_peer = statistics.median(x / p for x, p in zip(t, peer))
    q = statistics.quantiles(t, n=4)
    print("%s|%.1f|%.1f|%.1f|%.1f|%.2f|%.2f|%.1f|%.2f" % (label, statistics.median(t), q[0], q[2], min(t), to_floor,
                                                       to_peer, statistics.median(c), statistics.median(c) / statistics.median(cpus[0])))
PY
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

field() { grep "^$1|" "$work/rows" | cut -d'|' -f"$2"; }
floor_ms=$(field "JVM floor: java -Xshare:auto, empty main" 2)
ours_ms=$(field "blivetctl status" 2)
ours_floor=$(field "blivetctl status" 6)
ours_peer=$(field "blivetctl status" 7)
ours_cpu_floor=$(field "blivetctl status" 9)
theirs_ms=$(field "supervisorctl status" 2)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
jdk=$(java -version 2>&1 | head -n 2 | tail -n 1)

{
    echo "# blivetctl start-up: \`blivetctl status\` beside the JVM floor and \`supervisorctl status\`"
    echo
    echo "Measured by \`bench/ctl/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), both daemons running the same $jobs jobs"
    echo "(\`/bin/sleep\`), each client asking its own daemon for the status of all of them; $runs rounds, each"
    echo "running every command once in a rotating order."
    echo
    echo "**Median: blivetctl status ${ours_ms} ms, JVM floor ${floor_ms} ms, supervisorctl status ${theirs_ms} ms;"
    echo "blivetctl is ${ours_floor}x the floor and ${ours_peer}x supervisorctl (CPU time: ${ours_cpu_floor}x the floor's).**"
    echo
    echo "| command | median ms | p25 ms | p75 ms | min ms | x floor | x supervisorctl | CPU ms | CPU x floor |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$work/rows"
    echo
    echo "The wall-time ratios are medians of the per-round ratios (each round's commands ran within"
    echo "a second or so of each other), so they are steadier than the absolute times when the load"
    echo "changes. CPU ms is the median of user plus system time of the process, all its threads"
    echo "together (getrusage of the child): what a run costs the machine, less sensitive to load."
    echo
    echo "Machine: $(nproc) CPUs, $cpu; Linux $(uname -r); $jdk."
    echo "Load average before: $load_before; after: $load_after."
    echo
    echo "What the commands are:"
    echo
    echo "- JVM floor: \`java -Xshare:auto -cp DIR Empty\`, a main that does nothing, default JVM flags: what"
    echo "  any Java client pays to start and exit."
    echo "- \`blivetctl status\`: \`bin/blivetctl --socket SOCKET status\`, the launcher as users run it (sh, then"
    echo "  \`exec java $flags -Xshare:auto -XX:SharedArchiveFile=blivetctl/target/blivetctl-queries.jsa\`)."
    echo "- \`supervisorctl status\`: supervisor $(supervisord --version 2>/dev/null) with Python $(python3 -c 'import sys; print(sys.version.split()[0])')."
    echo "- empty main, blivetctl JVM flags: the floor with blivetctl's flags (\`$flags\`)."
    echo "- empty main, ..., a static archive of its own: and with a static class-data sharing archive of"
    echo "  the classes an empty main loads, dumped as blivetctl's queries' archive is: the floor with"
    echo "  all the means blivetctl uses."
    echo "- no AppCDS archive: blivetctl's flags, class path and socket library, only the JDK's default CDS archive."
    echo "- the archive of every command: blivetctl.jsa, on top of the JDK's default archive (what the"
    echo "  launcher mapped for status before the queries had an archive of their own)."
    echo "- JDK socket channel: blivetctl as the launcher runs it but without its socket library"
    echo "  (-Dblivetctl.native), as where the library does not load: the JDK's AF_UNIX channel."
    echo "- archive mapped unrelocated: the launcher's JVM plus -XX:ArchiveRelocationMode=0, which maps"
    echo "  the class-data sharing archive at its fixed base address instead of a random one. Shown"
    echo "  for what it would save; not adopted: it gives up address-space randomization of the archives."
    if [ -n "$before" ]; then
        echo "- before: \`bin/blivetctl\` of the tree at $before_commit, built the same way, against the same blivetd."
    fi
    echo
    cat <<'NOTES'
What the client does to start fast (each measured while it was built; the steps overlap, so
the savings do not add up exactly; docs/benchmarks.md, "blivetctl: start-up", has the figures):

- `status`, `list` and `ping` with only `--socket`, `--json` and job names run without picocli
  (`Shortcut`); every other command line, help and usage errors included, goes through picocli.
- Two class-data sharing archives, dumped at package time: `blivetctl/target/blivetctl.jsa`, on
  top of the JDK's default archive, from `dev.blivet.ctl.CdsTraining`, which runs the everyday
  commands against a stand-in blivetd; and `blivetctl-queries.jsa`, a static archive (the JDK's
  classes included, in place of its default archive) of what `status`, `list` and `ping` load,
  from the class list of a JVM that ran only those (`CdsQueries`). Mapping relocates every
  pointer in an archive (11 MB instead of 27), so the launcher maps the queries' own for them
  (`archive.sh`): the "no AppCDS archive" and "archive of every command" rows against the second.
- G1 with one GC thread of each kind: JDK 17 maps the default archive's heap objects (the module
  graph) only with G1. C1 only, one compiler thread.
- picocli compiled from its own sources into blivetctl's jar (its published jar is Java 5
  bytecode, which the archive cannot hold); only the model of the subcommand being run is
  built, with an inherited help option; picocli's reflective java.sql and java.time
  converters are skipped.
- No Jackson ObjectMapper: replies are read by common's StrictJson (Jackson's streaming parser)
  into tree nodes, requests and --json output written with Jackson's generator.
- The socket is blivetctl's own small JNI library (`NativeSocket`, `blivetctl-socket.c`), named
  by the launcher: the JDK's AF_UNIX channel sets up a SecureRandom (the security properties, the
  SUN provider) and its selector provider's lambda in its first use. Where the library does not
  load, the JDK's channel does the same work (the "JDK socket channel" row).
- While the main thread connects, a second thread sets up the JSON writer (Json's initializer
  first) and then the reader; once connected, the main thread sets up jackson-core's number
  parser (two regexes, the JVM's first lambda) rather than wait for the writer.
- No regex of blivetctl's own, no lambda, no FutureTask, no java.time and no invokedynamic string
  concatenation on the status path, and the launcher runs no program before `exec java`.
NOTES
} >"$out"
cat "$out"
