"""A bounded soak of a real gatescope server: the figures of issue 8.

    python bench/soak.py                                   # every phase at the issue's counts (about 10 minutes)
    python bench/soak.py --phase fuzz --requests 500       # a quick look
    python bench/soak.py --phase fuzz --seed 3 --only 1234 # one fuzz case again, with the server's traceback

Each phase starts its own `gatescope serve` on a free 127.0.0.1 port with the
default settings (plus a temporary GATESCOPE_UPLOAD_DIR and any --env), logs
its output to a file, and stops it by its PID. Phases:

  fuzz          N seeded hostile requests over every route (HTTP, SSE, both
                WebSockets); counts per route, latency; every 5xx, dropped
                connection and slow answer is sent again alone to pair it with
                the traceback it leaves in the log
  schemathesis  `schemathesis run --checks all` over /openapi.json (bench/schemathesis_run.py)
  ws            C concurrent WebSocket clients, each streaming S steps to the summary
  leave         L clients (WebSocket and SSE) that leave abruptly after the
                first frame; RSS, threads and descriptors against a baseline
  memory        the heaviest requests the default limits allow, one at a time,
                each with the peak RSS reset first (/proc/PID/clear_refs)

Clients spread over loopback addresses (127.0.x.y), one per simulated
client, so the per-address stream limit applies as it would to real clients.
Prints a table per phase and the targets; exits 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2 as httpx
import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
import schemathesis_run  # noqa: E402
from fuzz_cases import HEAVY, Case, Fuzzer, heavy_case, letters, tensors_file, torch_weights  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUIET = 2.0  # seconds of silence after which a WebSocket has answered an append
TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # one class from Python 3.11 on, two before
PHASES = ("fuzz", "schemathesis", "ws", "leave", "memory")
MB = 1024 * 1024


# -- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `gatescope serve` process on 127.0.0.1, its log, and what /proc says of it."""

    def __init__(self, name: str, out: Path, env: dict[str, str]):
        self.name, self.out, self.extra_env = name, out, env
        self.proc: subprocess.Popen | None = None
        self.children: set[int] = set()

    def start(self) -> Server:
        self.port = free_port()
        self.base, self.origin = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{self.port}"
        self.upload_dir = tempfile.mkdtemp(prefix=f"gatescope-soak-{self.name}-")
        self.starts = getattr(self, "starts", 0) + 1
        self.log_path = self.out / f"server-{self.name}{'' if self.starts == 1 else f'-{self.starts}'}.log"
        exe = Path(sys.executable).parent / "gatescope"  # this environment's command, never another one on the PATH
        cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "gatescope.app"]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        env = {**os.environ, "GATESCOPE_UPLOAD_DIR": self.upload_dir, "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"no answer on /healthz within 60 s; see {self.log_path}")

    def stats(self) -> dict:
        status = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                status[key] = value.strip()
        self.children |= self._children()
        return {"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "hwm_mb": int(status["VmHWM"].split()[0]) / 1024,
                "threads": int(status["Threads"]), "fds": len(os.listdir(f"/proc/{self.pid}/fd"))}

    def cpu_seconds(self) -> float:
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def _children(self) -> set[int]:
        out = set()
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                out |= {int(p) for p in open(f"/proc/{self.pid}/task/{task}/children").read().split()}
            except OSError:
                pass
        return out

    def fd_kinds(self) -> Counter:
        kinds = Counter()
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                kinds[re.sub(r"\[\d+\]|:\d+$|\d+", "N", os.readlink(f"/proc/{self.pid}/fd/{fd}"))] += 1
            except OSError:
                pass
        return kinds

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs); True if it took."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            return False
        s = self.stats()
        return s["hwm_mb"] <= s["rss_mb"] + 1

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def log_text(self, start: int = 0) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.children |= self._children()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for pid in self.children:  # training workers it spawned, if any outlived it
            try:
                if Path(f"/proc/{pid}").exists() and str(self.pid) in open(f"/proc/{pid}/stat").read().split()[3:4]:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.upload_dir, ignore_errors=True)
        self.proc = None


def tracebacks(text: str, offset: int | None = None) -> list:
    """Each traceback in a log, as its last lines (the deepest frames and the exception); with ``offset``, (position, that)."""
    out = []
    for m in re.finditer(r"Traceback \(most recent call last\):\n((?:[ \t].*\n|\n)*)(.*)", text):
        frames = [ln.strip() for ln in m.group(1).splitlines() if ln.strip().startswith("File ")]
        ours = [f for f in frames if "/app/" in f or "/cells/" in f]
        line = " | ".join((ours or frames)[-2:] + [m.group(2).strip()[:300]])
        out.append(line if offset is None else (offset + len(text[:m.start()].encode()), line))
    return out


def exception_of(traceback_line: str) -> str:
    return traceback_line.split(" | ")[-1].split(":")[0]


# -- one request -------------------------------------------------------------------------------

def client_address(i: int, block: int = 1) -> str:
    """A loopback source address of its own for simulated client i (Linux routes all of 127/8 to lo)."""
    return f"127.{block}.{1 + i // 250}.{1 + i % 250}"


@dataclass
class Outcome:
    case: Case
    status: int | str                   # HTTP status, the status of a WS error message, 101 for a clean stream, or a failure name
    seconds: float
    detail: str = ""
    traceback: list = field(default_factory=list)
    span: tuple = (0, 0)                # the server log's size when it was sent and when it was answered

    @property
    def bucket(self) -> str:
        s = self.status
        if isinstance(s, int):
            return "5xx" if s >= 500 else "4xx" if s >= 400 else "3xx" if s >= 300 else "2xx"
        return "client" if s.startswith("client:") else "broken"


async def http_case(client: httpx.AsyncClient, base: str, case: Case, timeout: float) -> Outcome:
    t0 = time.perf_counter()
    try:
        headers = {k: v if v.isascii() else v.encode() for k, v in case.headers.items()}  # raw UTF-8 bytes in a header, as sent
        r = await asyncio.wait_for(client.request(case.method, base + case.path, headers=headers, content=case.body), timeout)
        status, detail = r.status_code, r.text[:300] if r.status_code >= 400 else ""
    except asyncio.TimeoutError:
        status, detail = "timeout", f"no answer within {timeout} s"
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError) as e:
        status, detail = "dropped", f"{type(e).__name__}: {e}"
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError, TypeError) as e:
        status, detail = f"client:{type(e).__name__}", str(e)[:200]
    return Outcome(case, status, time.perf_counter() - t0, detail)


async def ws_case(base: str, case: Case, timeout: float, local: str = "127.0.0.1") -> Outcome:
    """Run a WebSocket case: read to the summary (or error), send what it says, read what comes back."""
    t0 = time.perf_counter()
    url = "ws" + base[4:] + case.path
    status, detail, stage = None, "", "no answer to the handshake within 10 s"
    idle = [0.0]  # time spent making sure the server had nothing more to say: not the server's latency
    origin = case.headers.get("Origin")
    if origin and not origin.isascii():  # websockets sends ASCII headers only
        origin = origin.encode("idna").decode() if "://" not in origin else "http://xn--9ca.example"
    try:
        with anyio.fail_after(timeout):  # (asyncio.timeout is 3.11+)
            async with websockets.connect(url, origin=origin, open_timeout=10, close_timeout=2, max_size=64 * MB,
                                          compression=None, local_addr=(local, 0), ping_interval=None) as ws:
                stage = f"no summary within {timeout:g} s"
                status, detail = await _ws_dialogue(ws, case, idle)
    except TIMEOUTS:
        status, detail = "timeout", stage
    except websockets.InvalidStatus as e:
        status = e.response.status_code
    except websockets.ConnectionClosed as e:
        code = e.rcvd.code if e.rcvd else 1006
        status = 500 if code == 1011 else "dropped" if code == 1006 else 101 if code in (1000, 1001) else 400
        detail = f"closed {code} {e.rcvd.reason if e.rcvd else ''}"
        if code in (1006, 1007) and any(not utf8(m) for m in case.messages if isinstance(m, str)):
            # RFC 6455 8.1: text that is not UTF-8 fails the connection; the protocol layer drops it (wsproto sends no close frame)
            status, detail = 400, f"closed {code}: a text frame that is not UTF-8 fails the connection (RFC 6455 8.1)"
    except (OSError, websockets.InvalidHandshake) as e:
        status, detail = "dropped", f"{type(e).__name__}: {e}"
    except (ValueError, TypeError, UnicodeError) as e:
        status, detail = f"client:{type(e).__name__}", str(e)[:200]
    return Outcome(case, status, time.perf_counter() - t0 - idle[0], detail)


def utf8(text: str) -> bool:
    """Whether a frame of these characters is valid UTF-8 (a lone surrogate is not)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


async def send_raw(ws, msg: str | bytes) -> None:
    """A text frame of exactly these characters (a lone surrogate goes as the invalid UTF-8 it encodes to), or a binary frame."""
    if isinstance(msg, str):
        await ws.send(msg.encode("utf-8", "surrogatepass"), text=True)
    else:
        await ws.send(msg)


async def _ws_dialogue(ws, case: Case, idle: list) -> tuple[int | str, str]:
    training = case.path.startswith("/ws/train")
    pending = list(case.messages)
    if pending and (training or "?" not in case.path):  # the view (or the training request) comes as the first message
        await send_raw(ws, pending.pop(0))
    status, detail = await _read_until_end(ws, training)
    if status not in (101, "started"):
        return status, detail
    for msg in pending:
        if msg == "DROP":
            ws.transport.abort()
            return 101, "left abruptly"
        await send_raw(ws, msg)
        if training:
            continue
        try:  # an append answers with tokens and steps, or an error; read until the server is quiet
            while True:
                reply = await asyncio.wait_for(ws.recv(), QUIET)
                if isinstance(reply, str):
                    body = json.loads(reply)
                    if body.get("type") == "error" and body.get("status", 0) >= 500:
                        return body["status"], reply[:300]
        except TIMEOUTS:
            idle[0] += QUIET
    if training:
        return await _read_until_end(ws, True, after_start=True)
    await ws.close()
    return 101, detail


async def _read_until_end(ws, training: bool, after_start: bool = False) -> tuple[int | str, str]:
    while True:
        msg = await ws.recv()
        if isinstance(msg, bytes):
            continue
        body = json.loads(msg)
        kind = body.get("type")
        if kind == "error":
            return body.get("status", 422), msg[:300]
        if kind == "summary" or kind == "done":
            return 101, ""
        if training and kind == "started" and not after_start:
            return "started", ""


async def run_case(client, base: str, case: Case, timeout: float, local: str = "127.0.0.1") -> Outcome:
    if case.method == "WS":
        out = await ws_case(base, case, timeout, local)
        if out.status == "started":
            out.status = 101
        return out
    return await http_case(client, base, case, timeout)


def is_slow(o: Outcome, limit: float) -> bool:
    """Slower than ``limit``, leaving out the server's own 408 for a client that never sent its request (a wait by design)."""
    return o.seconds > limit and o.status != 408


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# -- phase: fuzz ------------------------------------------------------------------------------

async def fuzz_setup(server: Server, seed: int, heavy_rate: float) -> dict:
    """What the fuzzer needs from the server: the view fields, presets, and a few uploaded models."""
    async with httpx.AsyncClient(timeout=30) as c:
        fields = (await c.get(server.base + "/api/view")).json()
        presets = [p["name"] for p in (await c.get(server.base + "/api/presets")).json()]
        models = []
        vocab = list("abcdefghijklmnopqrstuvwxyz .")
        uploads = [
            ("lstm", tensors_file(torch_weights("lstm", 3, 6, seed=seed))),
            ("gru", tensors_file(torch_weights("gru", 1, 4, 2, seed=seed))),
            ("lstm", tensors_file(torch_weights("lstm", 2, 3, fill=float("nan")))),
            (None, tensors_file({**torch_weights("lstm", 4, 8, seed=seed), "embedding.weight": np.ones((len(vocab), 4), "float32"),
                                 "decoder.weight": np.ones((len(vocab), 8), "float32"), "decoder.bias": np.zeros(len(vocab), "float32")},
                                {"gatescope": "1", "kind": "lstm", "vocab": json.dumps(vocab)})),
        ]
        for kind, body in uploads:
            r = await c.post(server.base + "/api/models" + (f"?kind={kind}" if kind else ""), content=body,
                             headers={"Content-Type": "application/octet-stream", "Origin": server.origin})
            if r.status_code == 201:
                models.append(r.json()["id"])
            else:
                print(f"  setup: uploading a {kind or 'bundle'} answered {r.status_code}: {r.text[:200]}")
    return {"fields": fields, "presets": presets, "models": sorted(models), "origin": server.origin, "heavy_rate": heavy_rate}


async def phase_fuzz(server: Server, args) -> dict:
    info = await fuzz_setup(server, args.seed, args.heavy_rate)
    fuzzer = Fuzzer(args.seed, info)
    numbers = args.only or list(range(args.requests))
    deadline = time.monotonic() + args.phase_timeout
    outcomes: list[Outcome] = []
    queue = iter(numbers)
    done = 0
    log_start = server.log_size()

    async def worker(client):
        nonlocal done
        for n in queue:
            if time.monotonic() > deadline:
                return
            case = fuzzer.case(n)
            start = server.log_size()
            outcome = await run_case(client, server.base, case, args.request_timeout)
            outcome.span = (start, server.log_size())
            outcomes.append(outcome)
            done += 1
            if done % 1000 == 0:
                print(f"  ... {done} requests, {time.monotonic() - started:.0f} s", flush=True)

    started = time.monotonic()
    # a fresh connection per request: a connection the server closed cannot be reused by mistake, so 'dropped' is the server's doing
    fresh = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=None, limits=fresh) as client:
        await asyncio.gather(*(worker(client) for _ in range(min(args.concurrency, len(numbers)))))
    elapsed = time.monotonic() - started
    positioned = tracebacks(server.log_text(log_start), offset=log_start)
    all_tracebacks = [line for _, line in positioned]

    # every 5xx, dropped connection and slow answer, sent again alone: its status then, and the traceback it leaves
    bad = [o for o in outcomes if o.bucket in ("5xx", "broken") or is_slow(o, args.slow)]
    replayed, orphans = [], []
    async with httpx.AsyncClient(timeout=None, limits=fresh) as client:
        async def alone(o: Outcome) -> tuple[Outcome, list]:
            mark = server.log_size()
            again = await run_case(client, server.base, o.case, args.request_timeout)
            await asyncio.sleep(0.3)
            return again, tracebacks(server.log_text(mark))

        kinds = Counter()
        for o in sorted(bad, key=lambda o: o.case.n):
            kind = (o.case.route, o.status, o.detail[:40])
            if server.proc.poll() is not None or len(replayed) >= args.replay or kinds[kind] >= 3:
                continue  # three of a kind are enough to see it; the rest are in summary.json
            kinds[kind] += 1
            again, o.traceback = await alone(o)
            replayed.append((o, again))
        # a traceback no bad answer explains (e.g. logged after a normal close): find the request that leaves it
        explained = {exception_of(tb) for o, _ in replayed for tb in o.traceback}
        for pos, line in positioned:
            sig = exception_of(line)
            if sig in explained or len(orphans) >= 10 or server.proc.poll() is not None:
                continue
            explained.add(sig)
            near = [o for o in outcomes if o.span[0] <= pos <= o.span[1]]
            near += sorted((o for o in outcomes if o.span[1] < pos), key=lambda o: pos - o.span[1])[:4]
            found = None
            for o in near[:10]:
                again, tbs = await alone(o)
                if any(exception_of(tb) == sig for tb in tbs):
                    found = (o, again, tbs)
                    break
            orphans.append((line, found, [o.case.n for o in near[:10]]))

    routes = defaultdict(list)
    for o in outcomes:
        routes[o.case.route].append(o)
    rows = []
    for route, group in sorted(routes.items()):
        b = Counter(o.bucket for o in group)
        times = [o.seconds for o in group if o.status != 408] or [0.0]
        rows.append((route, len(group), b["2xx"] + b["3xx"], b["4xx"], b["5xx"], b["broken"], b["client"], max(times), pct(times, 0.99)))
    times = [o.seconds for o in outcomes if o.status != 408]
    return {"rows": rows, "waits": sum(1 for o in outcomes if o.status == 408 and o.seconds > args.slow), "sent": len(outcomes),
            "planned": len(numbers), "elapsed": elapsed, "outcomes": outcomes, "replayed": replayed,
            "tracebacks": all_tracebacks, "orphans": orphans, "max": max(times, default=0), "p99": pct(times, 0.99), "seed": args.seed,
            "statuses": Counter(o.status for o in outcomes), "models": info["models"]}


def print_fuzz(r: dict, args) -> None:
    print(f"\nfuzz: {r['sent']} of {r['planned']} requests in {r['elapsed']:.0f} s (seed {r['seed']}, concurrency {args.concurrency})")
    print(f"  {'route':26} {'sent':>6} {'2xx/3xx':>7} {'4xx':>6} {'5xx':>5} {'broken':>6} {'client':>6} {'max s':>7} {'p99 s':>7}")
    for route, n, ok, c4, c5, broken, client, mx, p99 in r["rows"]:
        print(f"  {route:26} {n:6} {ok:7} {c4:6} {c5:5} {broken:6} {client:6} {mx:7.2f} {p99:7.3f}")
    print(f"  statuses: {dict(sorted(r['statuses'].items(), key=str))}")
    print("  ('broken': connection dropped or closed abnormally, or no answer in time; 'client': the request could not be sent)")
    if r["replayed"]:
        print(f"  5xx, broken and slow (> {args.slow:g} s) answers, up to 3 of a kind, each sent again alone "
              f"(python bench/soak.py --phase fuzz --seed {r['seed']} --only N; all are in summary.json):")
    for o, again in r["replayed"]:
        print(f"   - {o.case.describe(200)}")
        print(f"       -> {o.status} in {o.seconds:.2f} s {o.detail[:200]!r}; again: {again.status} in {again.seconds:.2f} s")
        for tb in o.traceback[:2]:
            print(f"       traceback: {tb}")
    clients = [o for o in r["outcomes"] if o.bucket == "client"]
    for o in clients[:5]:
        print(f"   - (not sent) {o.case.describe(120)}: {o.status} {o.detail[:120]}")
    distinct = Counter(tb.split(" | ")[-1][:160] for tb in r["tracebacks"])
    print(f"  tracebacks in the log during the phase: {len(r['tracebacks'])}")
    for line, n in distinct.most_common(15):
        print(f"   - {n:5} x {line}")
    for line, found, near in r["orphans"]:
        print(f"  a traceback no 5xx explains: {line[:300]}")
        if found:
            o, again, tbs = found
            print(f"       left by {o.case.describe(200)}")
            print(f"       which was answered {o.status} ({o.detail[:100]!r}); alone again: {again.status}")
        else:
            print(f"       not reproduced by sending alone any of the requests around it: cases {near}")


# -- phase: schemathesis ----------------------------------------------------------------------

def phase_schemathesis(server: Server, args) -> dict:
    mark = server.log_size()
    result = schemathesis_run.run(server.base, args.out, args.st_max_examples, args.st_max_time, args.seed, args.slow)
    result["tracebacks"] = tracebacks(server.log_text(mark))
    return result


def print_schemathesis(r: dict) -> int:
    lines, failed = schemathesis_run.summarize(r)
    print()
    print("\n".join(lines))
    distinct = Counter(tb.split(" | ")[-1][:160] for tb in r["tracebacks"])
    print(f"  tracebacks in the log during the phase: {len(r['tracebacks'])}")
    for line, n in distinct.most_common(10):
        print(f"   - {n:5} x {line}")
    return failed


# -- phase: ws --------------------------------------------------------------------------------

async def stream_client(server: Server, i: int, steps: int, timeout: float, seed: int, hidden: int = 8) -> dict:
    """One WebSocket client reading a whole stream of ``steps`` steps: first-frame time, total time, steps received."""
    url = (f"ws://127.0.0.1:{server.port}/ws/trace?kind=lstm&hidden={hidden}&frames=binary"
           f"&input={letters(steps, seed + i).replace(' ', '%20')}")
    t0, first, got, expect, problem = time.perf_counter(), None, 0, 0, None
    try:
        with anyio.fail_after(timeout):  # (asyncio.timeout is 3.11+)
            async with websockets.connect(url, origin=server.origin, local_addr=(client_address(i), 0), open_timeout=timeout,
                                          compression=None, max_size=16 * MB, ping_interval=None) as ws:
                async for msg in ws:
                    if isinstance(msg, bytes):
                        t_start, count = struct.unpack_from("<II", msg)
                        if t_start != expect:
                            problem = problem or f"frame t0 {t_start}, expected {expect}"
                        expect, got = t_start + count, got + count
                        first = first or time.perf_counter()
                        continue
                    body = json.loads(msg)
                    if body["type"] == "error":
                        problem = f"error {body.get('status')}: {str(body.get('detail'))[:100]}"
                        break
                    if body["type"] == "summary":
                        if body.get("steps") != steps:
                            problem = problem or f"summary says {body.get('steps')} steps"
                        break
                else:
                    problem = problem or "closed before the summary"
    except TIMEOUTS:
        problem = f"no summary within {timeout:.0f} s"
    except websockets.InvalidStatus as e:
        problem = f"handshake answered {e.response.status_code}"
    except (OSError, websockets.WebSocketException) as e:
        problem = f"{type(e).__name__}: {str(e)[:100]}"
    if problem is None and got != steps:
        problem = f"{got} steps received"
    return {"ok": problem is None, "problem": problem, "first": None if first is None else first - t0, "total": time.perf_counter() - t0}


async def sample(server: Server, stop: asyncio.Event, into: list) -> None:
    while not stop.is_set():
        try:
            into.append(server.stats())
        except OSError:
            return
        await asyncio.sleep(0.5)


async def phase_ws(server: Server, args) -> dict:
    mark = server.log_size()
    server.reset_peak()
    before = server.stats()
    samples, stop = [], asyncio.Event()
    sampler = asyncio.create_task(sample(server, stop, samples))
    t0 = time.perf_counter()
    results = await asyncio.gather(*(stream_client(server, i, args.ws_steps, args.phase_timeout, args.seed) for i in range(args.ws_clients)))
    wall = time.perf_counter() - t0
    stop.set()
    await sampler
    after = server.stats()
    firsts = [r["first"] for r in results if r["first"] is not None]
    return {"clients": args.ws_clients, "steps": args.ws_steps, "completed": sum(r["ok"] for r in results), "wall": wall,
            "problems": Counter(r["problem"] for r in results if not r["ok"]), "first_p50": pct(firsts, 0.5), "first_p99": pct(firsts, 0.99),
            "total_max": max(r["total"] for r in results), "before": before, "after": after,
            "peak_threads": max((s["threads"] for s in samples), default=0), "peak_fds": max((s["fds"] for s in samples), default=0),
            "tracebacks": tracebacks(server.log_text(mark))}


def print_ws(r: dict) -> None:
    print(f"\nws: {r['clients']} concurrent clients x {r['steps']} steps (lstm, hidden 8, binary frames), each from its own 127.x address")
    print(f"  completed {r['completed']} / {r['clients']} in {r['wall']:.1f} s; first frame p50 {r['first_p50'] * 1e3:.0f} ms, "
          f"p99 {r['first_p99'] * 1e3:.0f} ms; slowest client {r['total_max']:.1f} s")
    print(f"  server: RSS {r['before']['rss_mb']:.0f} -> {r['after']['rss_mb']:.0f} MB, peak {r['after']['hwm_mb']:.0f} MB; "
          f"threads peak {r['peak_threads']}, descriptors peak {r['peak_fds']}")
    for problem, n in r["problems"].most_common(10):
        print(f"   - {n:4} x {problem}")
    print(f"  tracebacks in the log during the phase: {len(r['tracebacks'])}")
    for line, n in Counter(tb.split(" | ")[-1][:160] for tb in r["tracebacks"]).most_common(10):
        print(f"   - {n:5} x {line}")


# -- phase: leave -----------------------------------------------------------------------------

async def settle(server: Server, client: httpx.AsyncClient) -> dict:
    """Let idle worker threads expire (anyio keeps them 10 s and prunes on the next call), then measure."""
    await asyncio.sleep(11)
    for _ in range(3):
        await client.get(server.base + "/healthz")
    await asyncio.sleep(1)
    return server.stats()


async def leaver(server: Server, i: int, address: str, steps: int, sse: bool, rst: bool, timeout: float) -> str:
    query = f"kind=lstm&hidden=64&input={letters(steps, i).replace(' ', '%20')}"
    try:
        with anyio.fail_after(timeout):  # (asyncio.timeout is 3.11+)
            if sse:
                transport = httpx.AsyncHTTPTransport(local_address=address)
                async with httpx.AsyncClient(transport=transport, timeout=timeout) as c:
                    async with c.stream("GET", f"{server.base}/api/trace/stream?{query}") as r:
                        if r.status_code != 200:
                            return f"SSE answered {r.status_code}"
                        seen = b""
                        async for chunk in r.aiter_raw():
                            seen += chunk
                            if b"event: steps" in seen:
                                return "left"  # leaving the block closes the connection mid-stream
                        return "SSE ended before a step"
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/trace?{query}", origin=server.origin, local_addr=(address, 0),
                                          compression=None, ping_interval=None, max_size=16 * MB) as ws:
                async for msg in ws:
                    if isinstance(msg, bytes):
                        if rst:  # a reset, as a crashed client or a vanished network leaves it
                            ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        ws.transport.abort()
                        return "left"
                    body = json.loads(msg)
                    if body["type"] == "error":
                        return f"error {body.get('status')}: {str(body.get('detail'))[:80]}"
                return "closed before a frame"
    except TIMEOUTS:
        return "no first frame in time"
    except websockets.InvalidStatus as e:
        return f"handshake answered {e.response.status_code}"
    except (OSError, httpx.HTTPError, websockets.WebSocketException) as e:
        return f"{type(e).__name__}: {str(e)[:80]}"


async def phase_leave(server: Server, args) -> dict:
    async with httpx.AsyncClient(timeout=60) as client:
        cold = await settle(server, client)
        # warm up with one round of the same load (whole streams, then one leaver per worker at once), so that the
        # threads, allocator arenas and caches that load makes once exist before the baseline; what grows after it is kept
        await asyncio.gather(*(stream_client(server, i, 200, 60, args.seed) for i in range(8)))
        workers = max(1, min(args.leave_concurrency, args.leavers))
        await asyncio.gather(*(leaver(server, 100_000 + w, client_address(w, 5), args.leave_steps, sse=w % 5 == 0, rst=w % 2 == 1, timeout=60)
                               for w in range(workers)))
        cpu0 = server.cpu_seconds()  # what one whole stream of a leaver's length costs the server
        whole = await stream_client(server, 0, args.leave_steps, 120, args.seed, hidden=64)
        one_stream_cpu = server.cpu_seconds() - cpu0
        baseline = await settle(server, client)
        mark = server.log_size()
        cpu_start = server.cpu_seconds()
        per = -(-args.leavers // workers)
        outcomes: list[str] = []
        samples, stop = [], asyncio.Event()
        sampler = asyncio.create_task(sample(server, stop, samples))

        async def run_worker(w: int, first: int, last: int):  # one address per worker, its leavers one after another
            for k in range(first, last):
                i = w * per + k
                if i >= args.leavers:
                    return
                outcomes.append(await leaver(server, i, client_address(w, 4), args.leave_steps, sse=i % 5 == 0, rst=i % 2 == 1, timeout=60))

        t0 = time.perf_counter()
        await asyncio.gather(*(run_worker(w, 0, per // 2) for w in range(workers)))
        halfway = await settle(server, client)  # growth that stops by half way is a plateau, not a leak
        await asyncio.gather(*(run_worker(w, per // 2, per) for w in range(workers)))
        wall = time.perf_counter() - t0 - 12
        stop.set()
        await sampler
        right_after = server.stats()
        await asyncio.sleep(2)
        leave_cpu = server.cpu_seconds() - cpu_start
        after = await settle(server, client)
        fd_after = server.fd_kinds()
    text = server.log_text(mark)
    return {"leavers": args.leavers, "steps": args.leave_steps, "wall": wall, "outcomes": Counter(outcomes), "cold": cold,
            "baseline": baseline, "halfway": halfway,
            "right_after": right_after, "after": after, "peak_threads": max((s["threads"] for s in samples), default=0),
            "peak_rss": max((s["rss_mb"] for s in samples), default=0), "fds": fd_after, "tracebacks": tracebacks(text),
            "errors": len(re.findall(r"^ERROR:", text, re.M)), "one_stream_cpu": one_stream_cpu, "whole_ok": whole["ok"],
            "whole_seconds": whole["total"], "leave_cpu": leave_cpu}


def print_leave(r: dict) -> None:
    b, a = r["baseline"], r["after"]
    print(f"\nleave: {r['leavers']} clients (4 in 5 WebSocket, half of those by TCP reset; 1 in 5 SSE) left after the first frame of a "
          f"{r['steps']}-step stream (lstm, hidden 64), in {r['wall']:.1f} s")
    for what, n in r["outcomes"].most_common(10):
        print(f"   - {n:5} x {what}")
    print(f"  {'':22} {'RSS MB':>8} {'threads':>8} {'fds':>6}")
    print(f"  {'started, idle':22} {r['cold']['rss_mb']:8.1f} {r['cold']['threads']:8} {r['cold']['fds']:6}")
    print(f"  {'baseline (warmed up)':22} {b['rss_mb']:8.1f} {b['threads']:8} {b['fds']:6}   (after one round of the same load)")
    h = r["halfway"]
    print(f"  {'half way (settled)':22} {h['rss_mb']:8.1f} {h['threads']:8} {h['fds']:6}")
    print(f"  {'at the end':22} {r['right_after']['rss_mb']:8.1f} {r['right_after']['threads']:8} {r['right_after']['fds']:6}   "
          f"(peak during: RSS {r['peak_rss']:.0f} MB, {r['peak_threads']} threads)")
    print(f"  {'settled (12 s later)':22} {a['rss_mb']:8.1f} {a['threads']:8} {a['fds']:6}   (RSS {100 * (a['rss_mb'] / b['rss_mb'] - 1):+.1f} %)")
    if a["fds"] > b["fds"]:
        print(f"  descriptors after: {dict(r['fds'])}")
    per = r["leave_cpu"] / max(1, r["leavers"])
    print(f"  server CPU: {per * 1e3:.0f} ms per leaver; one whole {r['steps']}-step stream costs {r['one_stream_cpu'] * 1e3:.0f} ms "
          f"({r['whole_seconds']:.1f} s wall{'' if r['whole_ok'] else ', did not complete'}): a leaver costs "
          f"{100 * per / max(r['one_stream_cpu'], 1e-9):.0f} % of a whole stream")
    print(f"  tracebacks in the log during the phase: {len(r['tracebacks'])}; ERROR lines: {r['errors']}")
    for line, n in Counter(tb.split(" | ")[-1][:160] for tb in r["tracebacks"]).most_common(10):
        print(f"   - {n:5} x {line}")


# -- phase: memory ----------------------------------------------------------------------------

def restart(server: Server, tries: int = 3) -> bool:
    """Start again; the tree is under active change, so a failed start is retried a few times."""
    for i in range(tries):
        try:
            server.start()
            return True
        except RuntimeError:
            time.sleep(5 * (i + 1))
    return False


def smaller(steps: int, detail: str) -> int:
    """Fewer steps for a request answered 413: scaled by limit / value when the message states both, else by 0.7."""
    m = re.search(r"= (\d+)[^\d]*?is over the limit of (\d+)", detail) or re.search(r"would hold (\d+) values, over the limit of (\d+)", detail)
    ratio = int(m.group(2)) / int(m.group(1)) if m else 0.7
    return max(1, min(steps - 1, int(steps * min(ratio, 0.99))))


async def phase_memory(server: Server, args) -> dict:
    """Each heavy request on a fresh server (memory an earlier request left in the heap would hide its cost), peak reset first."""
    works = server.reset_peak()
    rows = []
    async with httpx.AsyncClient(timeout=None) as client:
        for k, spec in enumerate(HEAVY):
            if args.only_heavy and k not in args.only_heavy:
                continue
            if rows and (not args.memory_shared or not works or server.proc.poll() is not None):
                server.stop()
                if not restart(server):
                    print(f"  the server no longer starts (see {server.log_path}); stopping the phase after {len(rows)} requests")
                    break
            steps = spec.get("steps")
            for _ in range(8):  # past a limit, shrink the request until it fits (a 413 is answered before any work)
                case = heavy_case(spec, 900_000 + k, server.origin, steps=steps)
                server.reset_peak()
                await asyncio.sleep(0.3)
                before = server.stats()
                tb_mark = server.log_size()
                out = await run_case(client, server.base, case, args.heavy_timeout)
                await asyncio.sleep(0.3)
                after = server.stats() if server.proc.poll() is None else {**before, "hwm_mb": float("nan"), "rss_mb": float("nan")}
                if out.status == 413 and steps and steps > 1:
                    steps = smaller(steps, out.detail)
                    continue
                break
            rows.append({"name": spec["name"], "steps": steps, "status": out.status, "seconds": out.seconds, "rss_before": before["rss_mb"],
                         "peak": after["hwm_mb"], "increase": after["hwm_mb"] - before["rss_mb"], "rss_after": after["rss_mb"],
                         "detail": out.detail, "traceback": tracebacks(server.log_text(tb_mark)), "request": case.describe(160),
                         "log": str(server.log_path)})
            print(f"  ... {spec['name']}: {out.status}, +{rows[-1]['increase']:.0f} MB in {out.seconds:.1f} s", flush=True)
    return {"reset_works": works, "shared": args.memory_shared, "rows": rows,
            "tracebacks": [tb for row in rows for tb in row["traceback"]]}


def print_memory(r: dict, bound: float, slow: float) -> None:
    how = ("one server" if r["shared"] else "a fresh server for each") + (
        ", VmHWM reset before each request by writing 5 to /proc/PID/clear_refs" if r["reset_works"] else ", peak not resettable here")
    print(f"\nmemory: the heaviest requests the default limits allow, one at a time ({how})")
    print(f"  {'request':62} {'steps':>6} {'status':>7} {'s':>6} {'RSS before':>10} {'peak':>7} {'+peak MB':>8}")
    for row in r["rows"]:
        flag = ("  OVER" if row["increase"] > bound else "") + (f"  slower than {slow:g} s" if row["seconds"] > slow else "")
        print(f"  {row['name'][:62]:62} {row['steps'] or '':>6} {str(row['status']):>7} {row['seconds']:6.1f} {row['rss_before']:10.0f} "
              f"{row['peak']:7.0f} {row['increase']:8.0f}{flag}")
    for row in r["rows"]:
        if not (isinstance(row["status"], int) and row["status"] < 400):
            print(f"   - {row['name']}: {row['status']} {row['detail'][:200]!r}")
            print(f"       {row['request']}")
        for tb in row["traceback"][:1]:
            print(f"   - {row['name']}: traceback: {tb}")


# -- targets and main -------------------------------------------------------------------------

def targets(results: dict, args) -> list[tuple[str, str, bool]]:
    out = []
    if "fuzz" in results:
        r = results["fuzz"]
        n5 = sum(1 for o in r["outcomes"] if o.bucket == "5xx")
        broken = sum(1 for o in r["outcomes"] if o.bucket == "broken")
        slow = sum(1 for o in r["outcomes"] if is_slow(o, args.slow))
        out.append((f"fuzz: {r['planned']} requests over every route, 0 answers 5xx", f"{r['sent']} sent, {n5} 5xx, {broken} broken",
                    r["sent"] == r["planned"] and n5 == 0 and broken == 0))
        out.append((f"fuzz: none slower than {args.slow:g} s", f"max {r['max']:.2f} s, p99 {r['p99']:.3f} s, {slow} slower"
                    + (f" ({r['waits']} by-design 408 waits left out)" if r["waits"] else ""), slow == 0))
        out.append(("fuzz: no traceback in the log", f"{len(r['tracebacks'])}", not r["tracebacks"]))
    if "schemathesis" in results:
        r = results["schemathesis"]
        counted = [f for f in r.get("failures", []) if f["rule"] is None]
        excepted = len(r.get("failures", [])) - len(counted)
        ok = "error" not in r and not counted and not r.get("errors") and not r.get("stopped")
        out.append(("schemathesis --checks all: 0 failures but cross-field rejections",
                    f"{len(counted)} failing checks, {len(r.get('errors', []))} errors ({excepted} excepted)", ok))
    if "ws" in results:
        r = results["ws"]
        out.append((f"ws: {r['clients']} concurrent clients x {r['steps']} steps all complete", f"{r['completed']} complete",
                    r["completed"] == r["clients"]))
    if "leave" in results:
        r = results["leave"]
        b, a = r["baseline"], r["after"]
        left = r["outcomes"]["left"]
        out.append((f"leave: {r['leavers']} clients got a first frame and left", f"{left}", left == r["leavers"]))
        out.append(("leave: RSS back within 20 % of before", f"{b['rss_mb']:.0f} -> {a['rss_mb']:.0f} MB", a["rss_mb"] <= 1.2 * b["rss_mb"]))
        out.append(("leave: threads and descriptors at baseline", f"threads {b['threads']} -> {a['threads']}, fds {b['fds']} -> {a['fds']}",
                    a["threads"] <= b["threads"] and a["fds"] <= b["fds"]))
        out.append(("leave: no traceback in the log", f"{len(r['tracebacks'])}", not r["tracebacks"]))
    if "memory" in results:
        rows = results["memory"]["rows"]
        worst = max(rows, key=lambda row: row["increase"], default=None)
        fails = [row for row in rows if not (isinstance(row["status"], int) and row["status"] < 500)]
        out.append((f"memory: no request raises peak RSS by more than {args.memory_bound_mb:g} MB",
                    f"worst +{worst['increase']:.0f} MB ({worst['name']})" if worst else "none run",
                    worst is not None and worst["increase"] <= args.memory_bound_mb))
        out.append(("memory: every heavy request answered (no 5xx, none dropped)", f"{len(fails)} not", not fails))
    return out


def save(results: dict, path: Path, args) -> None:
    def plain(o):
        if isinstance(o, Outcome):
            return {"case": o.case.describe(2000), "status": o.status, "seconds": round(o.seconds, 3), "detail": o.detail, "traceback": o.traceback}
        if isinstance(o, Counter):
            return {str(k): v for k, v in o.items()}
        return str(o)
    keep = {k: {kk: vv for kk, vv in v.items() if kk != "outcomes"} for k, v in results.items()}
    if "fuzz" in results:
        keep["fuzz"]["bad"] = [o for o in results["fuzz"]["outcomes"] if o.bucket in ("5xx", "broken") or is_slow(o, args.slow)]
    path.write_text(json.dumps(keep, default=plain, indent=1))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="A bounded soak of a real gatescope server (issue 8).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--phase", default=",".join(PHASES), help=f"comma-separated phases, of: {', '.join(PHASES)}")
    ap.add_argument("--seed", type=int, default=0, help="seed of the fuzz cases and of schemathesis")
    ap.add_argument("--requests", type=int, default=10_000, help="fuzz: how many requests")
    ap.add_argument("--concurrency", type=int, default=4, help="fuzz: requests in flight at once")
    ap.add_argument("--only", type=lambda s: [int(x) for x in s.split(",")], default=None, help="fuzz: send only these case numbers")
    ap.add_argument("--heavy-rate", type=float, default=0.002, help="fuzz: share of cases that are heavy requests within the limits")
    ap.add_argument("--replay", type=int, default=40, help="fuzz: how many bad answers to send again alone for their tracebacks")
    ap.add_argument("--slow", type=float, default=5.0, help="seconds over which an answer counts as slow")
    ap.add_argument("--request-timeout", type=float, default=60.0, help="seconds a fuzz request may take before it counts as broken")
    ap.add_argument("--st-max-examples", type=int, default=30, help="schemathesis: examples per operation")
    ap.add_argument("--st-max-time", type=float, default=150, help="schemathesis: seconds of fuzzing")
    ap.add_argument("--ws-clients", type=int, default=200, help="ws: concurrent clients")
    ap.add_argument("--ws-steps", type=int, default=1000, help="ws: steps each client streams")
    ap.add_argument("--leavers", type=int, default=1000, help="leave: clients that leave after the first frame")
    ap.add_argument("--leave-steps", type=int, default=5000, help="leave: length of the stream each leaver starts")
    ap.add_argument("--leave-concurrency", type=int, default=50, help="leave: leavers at once (one loopback address each)")
    ap.add_argument("--memory-bound-mb", type=float, default=512, help="memory: the bound on one request's peak RSS increase")
    ap.add_argument("--only-heavy", type=lambda s: [int(x) for x in s.split(",")], default=None, help="memory: only these heavy requests (0-based)")
    ap.add_argument("--memory-shared", action="store_true", help="memory: one server for all heavy requests (faster; heap reuse hides costs)")
    ap.add_argument("--heavy-timeout", type=float, default=180.0, help="memory: seconds one heavy request may take")
    ap.add_argument("--phase-timeout", type=float, default=600.0, help="seconds any one phase may run")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the server (e.g. GATESCOPE_MAX_WORK=1000)")
    ap.add_argument("--out", type=Path, default=None, help="where logs and reports go (default: a new /tmp/gatescope-soak-* folder)")
    args = ap.parse_args(argv)
    args.phases = [p.strip() for p in args.phase.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        ap.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    args.out = args.out or Path(tempfile.mkdtemp(prefix=f"gatescope-soak-{time.strftime('%Y%m%d-%H%M%S')}-", dir="/tmp"))
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    env = dict(e.split("=", 1) for e in args.env)
    print(f"gatescope soak: phases {', '.join(args.phases)}; logs and reports in {args.out}")
    results, servers = {}, []

    def stop_all(*_):
        for s in servers:
            s.stop()
        raise SystemExit(130)

    signal.signal(signal.SIGTERM, stop_all)
    try:
        for phase in args.phases:
            server = Server(phase, args.out, env)
            servers.append(server)
            try:
                server.start()
            except RuntimeError as e:
                print(f"\n{phase}: the server did not start: {e}")
                continue
            print(f"\n== {phase}: server pid {server.pid} on {server.base}, log {server.log_path}", flush=True)
            try:
                if phase == "fuzz":
                    results[phase] = asyncio.run(phase_fuzz(server, args))
                    print_fuzz(results[phase], args)
                elif phase == "schemathesis":
                    results[phase] = phase_schemathesis(server, args)
                    print_schemathesis(results[phase])
                elif phase == "ws":
                    results[phase] = asyncio.run(phase_ws(server, args))
                    print_ws(results[phase])
                elif phase == "leave":
                    results[phase] = asyncio.run(phase_leave(server, args))
                    print_leave(results[phase])
                elif phase == "memory":
                    results[phase] = asyncio.run(phase_memory(server, args))
                    print_memory(results[phase], args.memory_bound_mb, args.slow)
            except Exception as e:  # a phase that cannot run is reported, and the others still run
                import traceback
                print(f"\n{phase}: the phase could not run: {type(e).__name__}: {e}")
                traceback.print_exc(limit=4)
                results.setdefault("broken_phases", {})[phase] = f"{type(e).__name__}: {e}"
            finally:
                alive = server.proc is not None and server.proc.poll() is None
                server.stop()
                if not alive:
                    print(f"  note: the {phase} server was not running at the end of the phase (it crashed or was restarted); see its log")
    except KeyboardInterrupt:
        print("\ninterrupted")
    finally:
        for s in servers:
            s.stop()
    broken = results.pop("broken_phases", {})
    rows = targets(results, args)
    rows += [(f"{phase}: the phase ran", detail, False) for phase, detail in broken.items()]
    print("\ntargets")
    for what, figure, ok in rows:
        print(f"  {'PASS' if ok else 'MISS'}  {what:62} {figure}")
    save(results, args.out / "summary.json", args)
    print(f"\nsummary: {args.out / 'summary.json'}")
    return 0 if rows and all(ok for _, _, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
