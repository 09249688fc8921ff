"""Server speed, measured against a real uvicorn process on a free local port.

    python bench/bench_server.py

Prints, each with a reference measured in the same run:
  1. time to the first snapshot for a 100-step LSTM, hidden 32: server side (the
     summary's first_frame_ms, from the request to the first frame sent) and as a
     client sees it; reference: a GET /healthz round trip.
  2. snapshots per second one local client receives for hidden 32 (binary frames,
     and JSON frames); reference: the engine alone (model.run) in this process.
  3. 50 concurrent WebSocket clients, 1,000 steps each: errors, p50/p99 time to
     the first snapshot, wall time, and the server's peak resident memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "GATESCOPE_UPLOAD_DIR": tempfile.mkdtemp(prefix="gatescope-bench-"),
           "GATESCOPE_MAX_STREAMS_PER_CLIENT": "100", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "gatescope.app.main:create_app", "--port", str(port),
                             "--log-level", "warning", "--ws-max-size", "16777216", "--ws-per-message-deflate", "false"],
                            env=env, cwd=ROOT)  # as `gatescope serve` runs it
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


async def stream(url: str) -> dict:
    """Open a stream, read it to the summary; client-side timings and counts."""
    t0 = time.perf_counter()
    first, snapshots, errors = None, 0, []
    async with websockets.connect(url, max_size=2**24) as ws:
        async for msg in ws:
            if isinstance(msg, bytes):
                first = first or time.perf_counter()
                snapshots += int.from_bytes(msg[4:8], "little")
                continue
            body = json.loads(msg)
            if body["type"] == "steps":
                first = first or time.perf_counter()
                snapshots += body["count"]
            elif body["type"] == "error":
                errors.append(body)
                break
            elif body["type"] == "summary":
                end = time.perf_counter()
                return {"first_ms": (first - t0) * 1e3, "total_s": end - t0, "snapshots": snapshots,
                        "summary": body, "errors": errors}
    return {"errors": errors or ["closed early"], "snapshots": snapshots}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main_async(port: int, pid: int) -> None:
    base = f"ws://127.0.0.1:{port}/ws/trace"
    # -- 1. first snapshot ------------------------------------------------------------
    health = []
    for _ in range(30):
        t = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").read()
        health.append((time.perf_counter() - t) * 1e3)
    url = f"{base}?kind=lstm&hidden=32&input=sine%20100&input_type=signal"
    await stream(url)  # warm the model cache
    runs = [await stream(url) for _ in range(30)]
    server_first = [r["summary"]["first_frame_ms"] for r in runs]
    client_first = [r["first_ms"] for r in runs]
    print("1. first snapshot, 100-step LSTM, hidden 32 (30 runs)")
    print(f"   server side (request -> first frame sent): median {statistics.median(server_first):.2f} ms, max {max(server_first):.2f} ms")
    print(f"   client side (connect -> first frame read): median {statistics.median(client_first):.2f} ms")
    print(f"   reference GET /healthz round trip: median {statistics.median(health):.2f} ms "
          f"(first snapshot / health = {statistics.median(client_first) / statistics.median(health):.1f}x)")

    # -- 2. throughput ------------------------------------------------------------------
    from gatescope import cells
    model = cells.build("lstm", 1, 32)
    xs = np.sin(np.arange(5000) / 8.0)[:, None]
    model.run(xs)
    t = time.perf_counter()
    for _ in range(3):
        model.run(xs)
    engine_rate = 3 * len(xs) / (time.perf_counter() - t)
    print("2. snapshots per second, one local client, LSTM hidden 32, 5,000 steps")
    for frames in ("binary", "json"):
        url = f"{base}?kind=lstm&hidden=32&input=sine%205000&input_type=signal&frames={frames}"
        best = max([await stream(url) for _ in range(5)], key=lambda r: r["snapshots"] / r["total_s"])
        rate = best["snapshots"] / best["total_s"]
        print(f"   {frames:>6} frames: {rate:,.0f} snapshots/s, {best['summary']['bytes_per_snapshot']} bytes per snapshot "
              f"(engine alone: {engine_rate:,.0f} steps/s; stream / engine = {rate / engine_rate:.2f})")

    # -- 3. 50 concurrent clients -------------------------------------------------------
    url = f"{base}?kind=lstm&hidden=32&input=sine%201000&input_type=signal"
    t = time.perf_counter()
    results = await asyncio.gather(*(stream(url) for _ in range(50)))
    wall = time.perf_counter() - t
    errors = [r["errors"] for r in results if r["errors"] or r["snapshots"] != 1000]
    firsts = sorted(r["first_ms"] for r in results if not r["errors"])
    p = lambda q: firsts[min(len(firsts) - 1, int(q * len(firsts)))]
    print("3. 50 concurrent WebSocket clients, LSTM hidden 32, 1,000 steps each")
    print(f"   completed {len(results) - len(errors)}/50 with every step, errors: {len(errors)}; wall {wall:.2f} s; "
          f"{50 * 1000 / wall:,.0f} snapshots/s in all")
    print(f"   time to first snapshot: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms")
    print(f"   server peak resident memory: {peak_rss_mb(pid):.0f} MB")


def main() -> None:
    port = free_port()
    proc = start_server(port)
    try:
        asyncio.run(main_async(port, proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
