#!/usr/bin/python3
"""Polls a supervisord until COUNT programs are RUNNING (bench/daemon/run.sh).

    sup-wait.py SOCKET COUNT T0 TIMEOUT_S INTERVAL_MS

Makes the call `supervisorctl status` makes (supervisor.getAllProcessInfo over supervisord's
XML-RPC Unix socket, with supervisor's own transport), in-process, so a poll does not pay for
starting a Python interpreter. T0 is the CLOCK_REALTIME instant supervisord was started, as
bash's $EPOCHREALTIME. Prints: first answer (ms after T0), all running (ms after T0), polls.
Exits 1 on timeout. Needs Debian's python3 (the supervisor package lives in its dist-packages).
"""
import socket
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport


def main():
    path, want, t0, timeout, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        float(sys.argv[4]), int(sys.argv[5]) / 1000.0
    transport = SupervisorTransport(None, None, "unix://" + path)
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    first, polls, running = None, 0, 0
    while True:
        if time.time() - t0 > timeout:
            print(f"sup-wait: timeout: {running} of {want} RUNNING after {timeout:.0f} s", file=sys.stderr)
            return 1
        try:
            infos = proxy.supervisor.getAllProcessInfo()
        except (OSError, socket.error, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            # Not listening yet, or still starting ("SHUTDOWN_STATE"/"ALREADY_STARTED" faults).
            transport.close()
            time.sleep(0.001)
            continue
        polls += 1
        if first is None:
            first = time.time() - t0
        running = sum(1 for p in infos if p["statename"] == "RUNNING")
        if running >= want:
            done = time.time() - t0
            print(f"first_answer_ms={first * 1000:.1f} all_running_ms={done * 1000:.1f} polls={polls}")
            return 0
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
