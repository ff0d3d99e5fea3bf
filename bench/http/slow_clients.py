#!/usr/bin/env python3
"""Slow clients against an HTTP server while /healthz is probed.

Opens N connections that each send one byte of a request header every
INTERVAL seconds, probes GET /healthz on a fresh connection every 0.5 s for
SECONDS, then prints how the probes fared, the server's thread count (with
--pid) and how each slow connection ended.

  bench/http/slow_clients.py PORT [--connections=300] [--interval=2]
                             [--seconds=24] [--pid=PID]
"""
import os
import socket
import sys
import threading
import time

args = dict(a[2:].split("=", 1) for a in sys.argv[2:])
port = int(sys.argv[1])
count = int(args.get("connections", 300))
interval = float(args.get("interval", 2))
seconds = float(args.get("seconds", 24))
pid = args.get("pid")

header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
stop = threading.Event()


def trickle():
    for i in range(len(header)):
        for s in slow:
            try:
                s.send(header[i:i + 1])
            except OSError:
                pass
        if stop.wait(interval):
            return


def threads():
    return len(os.listdir(f"/proc/{pid}/task")) if pid else -1


sender = threading.Thread(target=trickle)
sender.start()
start = time.time()
probes = failed = 0
slowest = 0.0
most_threads = 0
while time.time() - start < seconds:
    asked = time.time()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=1)
        c.settimeout(1)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        ok = c.recv(4096).startswith(b"HTTP/1.1 200")
        c.close()
    except OSError:
        ok = False
    slowest = max(slowest, time.time() - asked)
    probes += 1
    failed += not ok
    most_threads = max(most_threads, threads())
    time.sleep(0.5)
stop.set()
sender.join()

endings = {}
for s in slow:
    s.settimeout(0.2)
    try:
        data = s.recv(4096)
        how = data.split(b"\r\n")[0].decode() if data else "closed"
    except OSError as e:
        how = type(e).__name__
    endings[how] = endings.get(how, 0) + 1
print(f"healthz: {probes} probes, {failed} failed, slowest {slowest * 1000:.1f} ms; "
      f"server threads at most {most_threads}")
print(f"slow connections ended with: {endings}")
