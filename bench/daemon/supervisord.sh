# supervisord with JOBS /bin/sleep programs, timed until all run and measured SETTLE s later:
# the peer of blivetd's mass start, one code path for bench/daemon/issue13.sh and memory.sh
# (bench/daemon/run.sh takes its configuration from here too).
# Sourced; uses the caller's JOBS, SLEEP_ARG, SETTLE, OUT, PY, here, started (an array of pids
# to kill on exit), status, pss_kb PID... and wait_exit PID.

# make_supervisor_conf DIR N: supervisord.conf for N programs, everything inside DIR. minfds is the
# least that works (3 pipe fds per program, and the default 1024 at least): every child supervisord
# forks closes fds 3..minfds one by one, so a larger value slows supervisord's starts down.
make_supervisor_conf() {
    local dir=$1 n=$2 i
    mkdir -p "$dir/logs"
    cat >"$dir/supervisord.conf" <<CONF
[unix_http_server]
file=$dir/supervisor.sock

[supervisord]
nodaemon=true
user=root
logfile=$dir/supervisord.log
pidfile=$dir/supervisord.pid
childlogdir=$dir/logs
minfds=$((3 * n + 64 > 1024 ? 3 * n + 64 : 1024))
minprocs=$((n + 256))

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$dir/supervisor.sock
CONF
    for i in $(seq -f %04g 1 "$n"); do
        printf '\n[program:s%s]\ncommand=/bin/sleep %s\nautostart=true\nstartsecs=0\nautorestart=false\nstdout_logfile=NONE\nstderr_logfile=NONE\n' \
            "$i" "$SLEEP_ARG" >>"$dir/supervisord.conf"
    done
}
# mass_supervisord RUN: prints "tool=supervisord run=RUN first_answer_ms=.. all_running_ms=.. polls=.. pss_kb=.. rss_kb=.."
mass_supervisord() {
    local d=$OUT/mass-$1-supervisord r p
    make_supervisor_conf "$d" "$JOBS"
    t0=$EPOCHREALTIME
    supervisord -n -c "$d/supervisord.conf" >"$d/out" 2>&1 &
    p=$!; started+=("$p")
    r=$(timeout 330 "$PY" "$here/sup-wait.py" "$d/supervisor.sock" "$JOBS" "$t0" 300 20) || { status=1; r="all_running_ms=nan"; }
    sleep "$SETTLE"
    echo "tool=supervisord run=$1 $r pss_kb=$(pss_kb "$p") rss_kb=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")"
    kill -TERM "$p"; wait_exit "$p"
}
