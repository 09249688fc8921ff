"""Kept-alive requests against `gatescope serve` with one process and with --workers 2, as a proxy sends them.

    python bench/bench_workers.py

Prints the median and the largest of 50 GET /healthz round trips on one kept-alive connection (the first left
out), for each. With Nagle's algorithm on in the workers (a listening socket bound with proto 0: uvicorn's
--workers path before its issue 3149 was fixed; app/cli.py run_workers marks it TCP) each request after the
first waited ~40 ms for the client's delayed ACK; both medians should be a few milliseconds, and alike.
tests/test_deploy.py checks the socket option itself; the time is measured here, not asserted there.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, *args: str) -> subprocess.Popen:
    env = {**os.environ, "GATESCOPE_UPLOAD_DIR": tempfile.mkdtemp(prefix="gatescope-bench-"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gatescope.app", "serve", "--port", str(port), "--log-level", "warning", *args],
                            env=env, cwd=ROOT, start_new_session=True)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"nothing answered on port {port}")


def round_trips(port: int, n: int = 50) -> list[float]:
    """Milliseconds of each GET /healthz on one kept-alive connection, the first (the connection's setup) left out."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for _ in range(n + 1):
            started = time.perf_counter()
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            times.append((time.perf_counter() - started) * 1e3)
    finally:
        conn.close()
    return times[1:]


def main() -> None:
    for label, args in (("one process", ()), ("--workers 2", ("--workers", "2"))):
        port = free_port()
        proc = serve(port, *args)
        try:
            times = round_trips(port)
            print(f"{label:>12}: kept-alive GET /healthz median {statistics.median(times):.2f} ms, max {max(times):.2f} ms")
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
