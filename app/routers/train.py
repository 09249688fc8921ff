"""Training in the page: WS /ws/train runs one job and streams its progress.

The client sends {"type": "start", "task": ..., "kind": ..., "hidden": ..., "steps": ...,
"learning_rate": ..., "batch_size": ..., "seed": ...}. The server answers
{"type": "started", ...}, then "progress" messages (step, loss, accuracy), "probe"
messages (the gates of the task's example input, every few hundred steps, so
the gates can be watched specializing), and finally "done" with the trained
model's id: from then on it is a model like an uploaded one. {"type": "stop"}
stops the job early and still returns the model; closing the socket stops it
and discards it. Jobs run in their own processes, at most
GATESCOPE_MAX_TRAINING_JOBS at once and one per client.
"""

from __future__ import annotations

import multiprocessing
from functools import partial

import anyio
import orjson
from fastapi import APIRouter, WebSocket
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import cells

from .. import train_worker, wire
from ..deps import SettingsDep

router = APIRouter(tags=["train"])
PROBE_EVERY = 100
GRACE_SECONDS = 5.0


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON: true is not a number, "16" is not a size
    type: str = Field("start", pattern="^start$")
    task: str = Field("remember", max_length=40)
    kind: str = Field("lstm", max_length=20)
    hidden: int = Field(16, ge=1, le=1_000_000)
    steps: int = Field(1500, ge=1, le=10_000_000)
    learning_rate: float = Field(0.01, gt=0, le=1)
    batch_size: int = Field(32, ge=1, le=256)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class Jobs:
    """Training jobs running in this server process."""

    def __init__(self):
        self.running: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.running.values())


def limits(req: TrainRequest, settings) -> str | None:
    for field, value, limit, name in (("hidden", req.hidden, settings.max_train_hidden, "max_train_hidden"),
                                      ("steps", req.steps, settings.max_train_steps, "max_train_steps")):
        if value > limit:
            return f"{field}: {value} is over the limit of {limit} (setting GATESCOPE_{name.upper()})"
    return None


async def send(ws: WebSocket, body: dict) -> None:
    await ws.send_text(wire.dumps(body).decode())


@router.websocket("/ws/train")
async def ws_train(ws: WebSocket, settings: SettingsDep):
    await ws.accept()
    jobs: Jobs = ws.app.state.jobs
    client = ws.client.host if ws.client else "unknown"
    try:
        with anyio.fail_after(60):
            raw = await ws.receive_text()
        req = TrainRequest.model_validate(orjson.loads(raw))
        problem = limits(req, settings)
        if problem is None:
            from cells.training import check_request
            task = await run_in_threadpool(_check, check_request, req, settings)
    except (ValidationError, orjson.JSONDecodeError, TimeoutError, cells.CellsError) as e:
        detail = orjson.loads(e.json(include_url=False)) if isinstance(e, ValidationError) else str(e) or "timed out waiting for the request"
        await send(ws, {"type": "error", "status": 422, "detail": detail})
        await ws.close(code=1008)
        return
    if problem:
        await send(ws, {"type": "error", "status": 413, "detail": problem})
        await ws.close(code=1008)
        return
    if jobs.running.get(client) or jobs.total >= settings.max_training_jobs:
        busy = "this client is already training" if jobs.running.get(client) else \
            f"{jobs.total} jobs are running; the limit is {settings.max_training_jobs} (setting GATESCOPE_MAX_TRAINING_JOBS)"
        await send(ws, {"type": "error", "status": 429, "detail": f"training: {busy}; try again when it finishes"})
        await ws.close(code=1013)
        return
    jobs.running[client] = jobs.running.get(client, 0) + 1
    try:
        await _run(ws, req, task, settings)
    finally:
        jobs.running[client] -= 1
        if not jobs.running[client]:
            del jobs.running[client]


def _check(check_request, req: TrainRequest, settings) -> dict:
    from cells.training import tasks
    check_request(req.kind, req.task, hidden_size=req.hidden, num_layers=1, steps=req.steps, batch_size=req.batch_size,
                  learning_rate=req.learning_rate, seed=req.seed, seq_len=None, clip=1.0,
                  time_budget=settings.max_train_seconds, options=None)
    return tasks.get(req.task).describe()


async def _run(ws: WebSocket, req: TrainRequest, task: dict, settings) -> None:
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    cancel = ctx.Event()
    # the probe shows the learned gates (not 1 - z, which only repeats z) and the states
    names = [n.name for n in cells.vocabulary(req.kind) if (n.role == "gate" and n.op == "sigmoid") or n.role in ("state", "output")]
    request = {**req.model_dump(), "time_budget": settings.max_train_seconds, "probe_names": names}
    proc = ctx.Process(target=train_worker.run, args=(sender, cancel, request, str(settings.upload_dir), PROBE_EVERY), daemon=True)
    proc.start()
    sender.close()
    await send(ws, {"type": "started", "request": req.model_dump(), "task": task, "probe_every": PROBE_EVERY,
                    "limits": {"steps": settings.max_train_steps, "seconds": settings.max_train_seconds}})
    outbox_send, outbox = anyio.create_memory_object_stream[tuple](64)
    portal_loop = anyio.from_thread

    def pump():  # a thread that moves the worker's messages into the event loop
        try:
            while True:
                try:
                    msg = receiver.recv()
                except (EOFError, OSError):
                    break
                portal_loop.run(outbox_send.send, msg)
        finally:
            portal_loop.run(outbox_send.aclose)

    finished = False
    try:
        async with anyio.create_task_group() as tg:
            async def listen():
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        cancel.set()
                        tg.cancel_scope.cancel()
                        return
                    body = orjson.loads(msg.get("text") or "{}") if (msg.get("text") or "").startswith("{") else {}
                    if body.get("type") == "stop":
                        already = cancel.is_set()
                        cancel.set()
                        await send(ws, {"type": "stopping", "again": already})

            tg.start_soon(listen)
            # abandoned on cancel: a worker that hangs must not hold this handler; _reap ends it below
            tg.start_soon(partial(anyio.to_thread.run_sync, pump, abandon_on_cancel=True))
            async for msg in outbox:
                kind = msg[0]
                if kind == "progress":
                    await send(ws, {"type": "progress", "step": msg[1], "loss": msg[2], "accuracy": msg[3]})
                elif kind == "probe":
                    await send(ws, {"type": "probe", "step": msg[1], "values": {k: wire.rounded(v, 4) for k, v in msg[2].items()}})
                elif kind == "done":
                    finished = True
                    await send(ws, {"type": "done", **msg[1]})
                elif kind == "error":
                    await send(ws, {"type": "error", "status": msg[1], "detail": msg[2]})
            tg.cancel_scope.cancel()
    finally:
        cancel.set()
        await anyio.to_thread.run_sync(_reap, proc)
        receiver.close()
    if finished:
        await ws.close()


def _reap(proc) -> None:
    """Give the worker time to stop on its own (it checks cancel before every step), then end it."""
    proc.join(GRACE_SECONDS)
    if proc.is_alive():
        proc.terminate()
        proc.join(2)
    if proc.is_alive():
        proc.kill()
        proc.join()

