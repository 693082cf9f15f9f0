#!/usr/bin/python3
"""A self-daemonizing test program for "readiness": "forking" (issue 10).

forking-daemon.py PIDFILE MODE [ARG]
  daemon [CODE]  double-fork and setsid; the daemon writes its pid to PIDFILE, forks one worker
                 (which sleeps), and exits with CODE (default 0) on SIGTERM. The initial process
                 exits 0 at once, before the pidfile is written, as nginx's does.
  write TEXT     write TEXT and a newline to PIDFILE, then exit 0 (no daemon at all)
  symlink TARGET make PIDFILE a symlink to TARGET, then exit 0
  none           write nothing, exit 0
  fail CODE      exit CODE at once
"""
import os
import signal
import sys
import time

pidfile, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None

if mode == "write":
    with open(pidfile, "w") as f:
        f.write(arg + "\n")
    sys.exit(0)
if mode == "symlink":
    os.symlink(arg, pidfile)
    sys.exit(0)
if mode == "none":
    sys.exit(0)
if mode == "fail":
    sys.exit(int(arg))

code = int(arg) if arg else 0
if os.fork() > 0:
    os._exit(0)  # the initial process: its exit 0 is the go-ahead
os.setsid()
if os.fork() > 0:
    os._exit(0)  # the intermediate: the daemon is reparented to blivetd, a subreaper
worker = os.fork()
if worker == 0:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        time.sleep(3600)
signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(code))
tmp = pidfile + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(tmp, pidfile)
while True:
    signal.pause()
