#!/bin/sh
# Start-up cost of the client, side by side in one run: `blivetctl status` against
# `supervisorctl status`, each talking to its own daemon that runs the same number of jobs
# (sleeps), plus two references: blivetctl without its class-data sharing archive, and a bare
# `java -version` with the same flags (the JVM's floor). Writes bench/ctl/RESULTS.md.
#
#   bench/ctl/run.sh                 # build, then 40 timed runs each (RUNS=, JOBS=, SKIP_BUILD=1)
#
# Needs root only to install what is missing (supervisor, hyperfine) with apt-get; uses
# hyperfine when it can, else a loop timed with date +%s%N.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-40}
jobs=${JOBS:-5}
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

install_missing() {
    missing=
    command -v supervisord >/dev/null 2>&1 || missing="$missing supervisor"
    command -v hyperfine >/dev/null 2>&1 || missing="$missing hyperfine"
    if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >/dev/null || true
    fi
    command -v supervisord >/dev/null 2>&1 || { echo "run.sh: needs supervisor (apt-get install supervisor)" >&2; exit 1; }
}

install_missing
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$here" && mvn -B -q package -DskipTests)
fi
ctl="$here/bin/blivetctl"
target="$here/blivetctl/target"
jar=$(ls "$target"/blivetctl-*.jar | head -n 1)
[ -f "$target/blivetctl.jsa" ] || { echo "run.sh: $target/blivetctl.jsa is missing: build with mvn package" >&2; exit 1; }

# The same jobs for both daemons.
mkdir -p "$work/jobs" "$work/sup"
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

set -f # the class path's lib/* is java's to expand, not the shell's
read -r flags <"$target/jvm-flags"   # bin/blivetctl's, from blivetctl/pom.xml
ours="$ctl --socket $socket status"
theirs="supervisorctl -c $work/sup/supervisord.conf status"
nocds="java $flags -Xshare:auto -cp $jar:$target/lib/* dev.blivet.ctl.Main --socket $socket status"
floor="java $flags -Xshare:auto -version"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# label|median|mean|stddev|min|max in ms, one line per command
if command -v hyperfine >/dev/null 2>&1; then
    tool="hyperfine $(hyperfine --version | cut -d' ' -f2), --warmup 10 --runs $runs, no intermediate shell (-N)"
    hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/times.json" \
        -n "blivetctl status" "$ours" -n "supervisorctl status" "$theirs" \
        -n "blivetctl status, no AppCDS archive" "$nocds" -n "java -version (same JVM flags)" "$floor" >"$work/hyperfine.txt"
    python3 - "$work/times.json" >"$work/rows" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = [x * 1000 for x in r["times"]]
    print("%s|%.0f|%.0f|%.0f|%.0f|%.0f" % (r["command"], statistics.median(t), statistics.mean(t), statistics.stdev(t), min(t), max(t)))
PY
else
    tool="a shell loop timed with date +%s%N, 10 warm-up runs, $runs timed runs"
    : >"$work/rows"
    for pair in "blivetctl status|$ours" "supervisorctl status|$theirs" "blivetctl status, no AppCDS archive|$nocds" \
            "java -version (same JVM flags)|$floor"; do
        label=${pair%%|*}; cmd=${pair#*|}
        for i in 1 2 3 4 5 6 7 8 9 10; do $cmd >/dev/null 2>&1; done
        : >"$work/t"
        i=0
        while [ "$i" -lt "$runs" ]; do
            s=$(date +%s%N); $cmd >/dev/null 2>&1; e=$(date +%s%N)
            echo $(( (e - s) / 1000 )) >>"$work/t"
            i=$((i + 1))
        done
        sort -n "$work/t" | awk -v label="$label" '{ t[NR] = $1 / 1000; sum += t[NR]; sq += t[NR] * t[NR] }
            END { m = sum / NR; printf "%s|%.0f|%.0f|%.0f|%.0f|%.0f\n", label, (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2), m, sqrt(sq / NR - m * m), t[1], t[NR] }' >>"$work/rows"
    done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { grep "^$1|" "$work/rows" | cut -d'|' -f2; }
ours_ms=$(median "blivetctl status")
theirs_ms=$(median "supervisorctl status")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
jdk=$(java -version 2>&1 | head -n 2 | tail -n 1)

{
    echo "# blivetctl start-up: \`blivetctl status\` vs \`supervisorctl status\`"
    echo
    echo "Measured by \`bench/ctl/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), both daemons running the same $jobs jobs"
    echo "(\`/bin/sleep\`), each client asking its own daemon for the status of all of them."
    echo
    echo "**Median: blivetctl ${ours_ms} ms, supervisorctl ${theirs_ms} ms.**"
    echo
    echo "| command | median ms | mean ms | stddev ms | min ms | max ms |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$work/rows"
    echo
    echo "Machine: $(nproc) CPUs, $cpu; Linux $(uname -r); $jdk."
    echo "Load average before: $load_before; after: $load_after. Timing: $tool."
    echo
    echo "What the commands are:"
    echo
    echo "- \`blivetctl status\`: \`bin/blivetctl --socket SOCKET status\`, the launcher as users run it (sh, then \`exec java\`"
    echo "  with \`$flags -Xshare:auto -XX:SharedArchiveFile=blivetctl/target/blivetctl.jsa\`)."
    echo "- \`supervisorctl status\`: supervisor $(supervisord --version 2>/dev/null) with Python $(python3 -c 'import sys; print(sys.version.split()[0])')."
    echo "- no AppCDS archive: the same JVM flags and class path, only the JDK's default CDS archive."
    echo "- \`java -version\`: the JVM's start and exit alone, the floor any Java client pays."
    echo
    cat <<'NOTES'
What the client does to start fast (each measured while it was built, on this machine; the
steps overlap, so the savings do not add up exactly):

- A class-data sharing archive (`blivetctl/target/blivetctl.jsa`), dumped at package time by
  `dev.blivet.ctl.CdsTraining`, which runs the everyday commands against a stand-in blivetd:
  the "no AppCDS archive" row above against the first.
- picocli compiled from its own sources into blivetctl's jar: its published jar is Java 5
  bytecode, which the JDK 17 archive cannot hold ("Pre JDK 6 class not supported by CDS") and
  which needs the old verifier (about a quarter of a run's CPU time).
- Only the model of the subcommand being run is built, and the help option is inherited
  rather than mixed into every command (together about 30 ms).
- No Jackson ObjectMapper: replies are read with Jackson's streaming parser into its tree
  nodes (the mapper's set-up alone took about 50 ms).
- A second thread builds the subcommand's model and opens the socket (the JDK's first Unix
  socket initializes a SecureRandom) while the main thread builds the top command; one C1
  compiler thread instead of the default, so that the JIT does not compete with it (about
  15 ms each).
- picocli's reflective converters for java.sql and java.time types are skipped, string
  concatenation is compiled to StringBuilder calls, java.time parsing is avoided on the
  status path, and the launcher runs no program before `exec java`.
NOTES
} >"$out"
cat "$out"
