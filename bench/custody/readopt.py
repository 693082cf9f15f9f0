#!/usr/bin/env python3
"""Time from a kill -9 of blivetd's JVM until blivetd serves again with every job re-adopted.

    readopt.py SOCKET JOBS RUNS EXITS_LOG

Starts JOBS/2 client jobs over the socket (the other half come from the jobs directory, which
run.sh wrote), waits for all JOBS to run, then RUNS times: kill -9 of the JVM that answers, and at
once a `list` over the socket. The connection waits in the backlog of the keeper's socket; the
new JVM answers nobody before re-adoption, so the reply's arrival is the sample. Each sample
checks that every job is running with its old pid. The keeper's restart backoff (0 ms, then
100 ms doubling, back to 0 after 60 s of uptime) is read from its log and reported apart: the
net time is the new JVM's start plus re-adoption. Prints one line per run and a RESULT line.
"""
import json
import os
import re
import signal
import socket
import statistics
import sys
import time


def call(path, request, timeout=120):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("r")
    s.sendall((json.dumps(request) + "\n").encode())
    reply = json.loads(f.readline())
    s.close()
    if not reply.get("ok"):
        raise SystemExit("failed: %s -> %s" % (request, reply))
    return reply["result"]


def running(path):
    return {j["name"]: j.get("pid") for j in call(path, {"id": 1, "op": "list"})["jobs"] if j["state"] == "running"}


def main():
    path, jobs, runs, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("r")
    for i in range(jobs // 2):
        spec = {"name": "c%d" % i, "command": ["/bin/sleep", "424243"]}
        s.sendall((json.dumps({"id": i, "op": "start", "spec": spec}) + "\n").encode())
        reply = json.loads(f.readline())
        if not reply.get("ok"):
            raise SystemExit("start failed: %s" % reply)
    s.close()
    deadline = time.time() + 300
    while len(running(path)) < jobs:
        if time.time() > deadline:
            raise SystemExit("only %d of %d jobs running" % (len(running(path)), jobs))
        time.sleep(0.2)
    before = running(path)
    samples, nets = [], []
    for run in range(runs):
        jvm = call(path, {"id": 1, "op": "ping"})["pid"]
        with open(log) as l:
            restarts_before = len(re.findall(r"restarting it in (\d+) ms", l.read()))
        t0 = time.monotonic()
        os.kill(jvm, signal.SIGKILL)
        after = running(path)
        elapsed = time.monotonic() - t0
        with open(log) as l:
            delays = [int(d) for d in re.findall(r"restarting it in (\d+) ms", l.read())]
        backoff = delays[restarts_before] / 1000 if len(delays) > restarts_before else 0.0
        if after != before:
            lost = [n for n in before if after.get(n) != before[n]]
            raise SystemExit("run %d: %d jobs not re-adopted with their pid, e.g. %s" % (run, len(lost), lost[:5]))
        samples.append(elapsed)
        nets.append(elapsed - backoff)
        print("run %d: %.3f s (keeper backoff %.3f s, net %.3f s), %d jobs re-adopted" % (
            run + 1, elapsed, backoff, elapsed - backoff, len(after)), flush=True)
    print("RESULT jobs=%d runs=%d median=%.3f s net-median=%.3f s min=%.3f max=%.3f" % (
        jobs, runs, statistics.median(samples), statistics.median(nets), min(samples), max(samples)))


if __name__ == "__main__":
    main()
