#!/usr/bin/env python3
"""Start-to-ready latency through blivetd's socket, several daemons interleaved start by start.

    start-latency.py MODE STARTS SOCKET_A [SOCKET_B ...]

MODE new: each round starts one new job (a unique name: a client's first start, so the ledger
writes and fsyncs its spec record), then stops and removes it. MODE again: one job per daemon,
started by name again after each stop (the ledger writes only runtime records and the desired
state, no fsync). Each round starts the job on every daemon, in an order shuffled per round so that drift hits all
alike, waiting for "running" (wait: true, exec readiness); the reply's arrival is the sample.
Then the job is stopped and removed (not measured). Warm-up rounds first (blivetd is a
long-running daemon, its JIT is warm). Prints one RESULT line per daemon: p50, p90, mean in
microseconds. Exit status 1 if any start failed.
"""
import json
import random
import socket
import sys
import time

WARMUP = 200  # rounds before the measured ones: blivetd is long-running, its JIT warm


def call(sock_file, sock, request):
    sock.sendall((json.dumps(request) + "\n").encode())
    reply = json.loads(sock_file.readline())
    if not reply.get("ok"):
        raise SystemExit("failed: %s -> %s" % (request, reply))
    return reply["result"]


def main():
    mode = sys.argv[1]
    starts = int(sys.argv[2])
    paths = sys.argv[3:]
    if mode not in ("new", "again"):
        raise SystemExit("MODE is new or again")
    conns = []
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        conns.append((s, s.makefile("r")))
    samples = {path: [] for path in paths}
    order = list(range(len(paths)))
    for round_no in range(WARMUP + starts):
        random.shuffle(order)
        for i in order:
            sock, f = conns[i]
            name = "lat%d" % round_no if mode == "new" else "again"
            spec = {"name": name, "command": ["/bin/sleep", "100000"]}
            request = {"id": 1, "op": "start", "wait": True}
            if mode == "new" or round_no == 0:
                request["spec"] = spec
            else:
                request["name"] = name
            t0 = time.perf_counter_ns()
            result = call(f, sock, request)
            t1 = time.perf_counter_ns()
            if result["state"] != "running":
                raise SystemExit("not running: %s" % result)
            call(f, sock, {"id": 2, "op": "stop", "name": name})
            if mode == "new":
                call(f, sock, {"id": 3, "op": "remove", "name": name})
            if round_no >= WARMUP:
                samples[paths[i]].append((t1 - t0) / 1000)
    for path in paths:
        values = sorted(samples[path])
        n = len(values)
        print("RESULT socket=%s mode=%s starts=%d p50_us=%.0f p90_us=%.0f mean_us=%.0f" % (
            path, mode, n, values[n // 2], values[int(n * 0.9)], sum(values) / n))


if __name__ == "__main__":
    main()
