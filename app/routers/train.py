"""Training in the page: WS /ws/train runs one job and streams its progress.

The client sends {"type": "start", "task": ..., "kind": ..., "hidden": ..., "steps": ...,
"learning_rate": ..., "batch_size": ..., "seed": ...}. The server answers
{"type": "started", ...}, then "progress" messages (step, loss, accuracy), "probe"
messages (the gates of the task's example input, untrained, about 40 times in a run
and at its last step, so the gates can be watched specializing), and finally "done"
with the trained model's id: from then on it is a model like an uploaded one, and
GET /api/models/{id}/training replays the probes, which are stored with it. {"type": "stop"}
stops the job early and still returns the model; closing the socket stops it
and discards it. Jobs run in their own processes, at most
GATESCOPE_MAX_TRAINING_JOBS at once and one per client. An open training
socket, idle or training, is a stream: it counts against
GATESCOPE_MAX_STREAMS_PER_CLIENT like /ws/trace. The socket closes with 1000
after "done", and after an error with the code its status calls for (1011 for a
worker that failed; its traceback goes to the server's log).
"""

from __future__ import annotations

import multiprocessing
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, WebSocket
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from gatescope import cells

from .. import train_worker, wire
from ..deps import SettingsDep, state
from ..errors import AppError, over_limit, setting
from ..origin import SameOrigin
from ..schemas import TrainRequest
from ..sockets import Slots, client_address, close_code, fail, first_message, json_object, log, only_gone, send
from ..train_worker import probe_cadence, probe_tokens
from .stream import StreamsDep, held

router = APIRouter(tags=["train"])
GRACE_SECONDS = 5.0
FIRST_MESSAGE_SECONDS = 60.0


class Jobs(Slots):
    """Training jobs running in this server process, per client address (``running``)."""

    @property
    def running(self) -> dict[str, int]:
        return self.held


JobsDep = Annotated[Jobs, state("jobs")]


def limits(req: TrainRequest, settings) -> None:
    for field, value, limit, name in (("hidden", req.hidden, settings.max_train_hidden, "max_train_hidden"),
                                      ("steps", req.steps, settings.max_train_steps, "max_train_steps")):
        if value > limit:
            raise over_limit(field, value, limit, name)


@router.websocket("/ws/train", dependencies=[SameOrigin])
async def ws_train(ws: WebSocket, settings: SettingsDep, jobs: JobsDep, streams: StreamsDep):
    async with held(ws, streams, settings, "ws/train") as accepted:
        if not accepted:
            return
        try:
            await _serve(ws, settings, jobs)
        except Exception as e:  # a bug here: logged once, the client told, the socket closed with 1011
            if only_gone(e) or ws.client_state != WebSocketState.CONNECTED or ws.application_state != WebSocketState.CONNECTED:
                raise
            await fail(ws, e, "ws/train")


async def _serve(ws: WebSocket, settings, jobs: Jobs) -> None:
    client = client_address(ws)
    try:
        body = await first_message(ws, FIRST_MESSAGE_SECONDS, 'the job, {"type": "start", "task": ..., "kind": ..., ...},')
        req = TrainRequest.model_validate(body)
        limits(req, settings)
        from gatescope.cells.training import check_request
        task = await run_in_threadpool(_check, check_request, req, settings)
    except (ValidationError, AppError, cells.CellsError) as e:
        await fail(ws, e, "ws/train")
        return
    slot = jobs.take(client, 1, settings.max_training_jobs)  # checked and taken in one step
    if slot is None:
        busy = "this client is already training" if jobs.running.get(client) else \
            f"{jobs.total} jobs are running; the limit is {settings.max_training_jobs} ({setting('max_training_jobs')})"
        await fail(ws, AppError(429, f"training: {busy}; try again when it finishes"), "ws/train")
        return
    with slot:
        await _run(ws, req, task, settings, slot.release)


def _check(check_request, req: TrainRequest, settings) -> dict:
    from gatescope.cells.training import tasks
    check_request(req.kind, req.task, hidden_size=req.hidden, num_layers=1, steps=req.steps, batch_size=req.batch_size,
                  learning_rate=req.learning_rate, seed=req.seed, seq_len=None, clip=1.0,
                  time_budget=settings.max_train_seconds, options=None)
    return tasks.get(req.task).describe()


async def _run(ws: WebSocket, req: TrainRequest, task: dict, settings, release) -> None:
    """Start the worker, relay its messages, and reap it on every way out: done, stopped, the client gone, an error."""
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    cancel = ctx.Event()
    # the probe shows the learned gates (not 1 - z, which only repeats z) and the states
    names = [n.name for n in cells.glossary(req.kind) if (n.role == "gate" and n.op == "sigmoid") or n.role in ("state", "output")]
    request = {**req.model_dump(), "time_budget": settings.max_train_seconds, "probe_names": names}
    from gatescope.cells.training import tasks
    task_spec = tasks.get(req.task)
    probe_every, per = probe_cadence(task_spec, names, req.hidden, req.steps)
    proc = ctx.Process(target=train_worker.run, args=(sender, cancel, request, str(settings.upload_dir), probe_every), daemon=True)
    outcome = {"finished": False, "status": None, "gone": False}  # done; the status of the worker's error; the client left
    try:
        await anyio.to_thread.run_sync(proc.start)  # spawning an interpreter takes a while; not on the event loop
        sender.close()
        await send(ws, {"type": "started", "request": req.model_dump(), "task": task, "probe_every": probe_every,
                        "probe_names": names, "tokens": probe_tokens(task_spec), "snapshot_values": per,
                        "limits": {"steps": settings.max_train_steps, "seconds": settings.max_train_seconds}})
        outbox_send, outbox = anyio.create_memory_object_stream[tuple](64)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_listen, ws, cancel, tg.cancel_scope, outcome)
            # abandoned on cancel: a worker that hangs must not hold this handler; _reap ends it below
            tg.start_soon(partial(anyio.to_thread.run_sync, _pump, receiver, outbox_send, abandon_on_cancel=True))
            async for msg in outbox:
                await _relay(ws, msg, release, outcome)
            tg.cancel_scope.cancel()
    finally:
        cancel.set()
        with anyio.CancelScope(shield=True):  # a cancelled handler (server shutdown) still reaps its worker
            await anyio.to_thread.run_sync(_reap, proc)
        sender.close()
        receiver.close()
    finished, status = outcome["finished"], outcome["status"]
    if outcome["gone"]:
        return
    if not finished and status is None:  # the worker ended without a word: killed (out of memory?) or crashed
        status = 500
        detail = f"training failed: the training process ended without a result (exit code {proc.exitcode}); it is in the server's log"
        log.error("ws/train: %s", detail)
        await send(ws, {"type": "error", "status": status, "detail": detail})
    await ws.close(code=1000 if finished else close_code(status))


async def _listen(ws: WebSocket, cancel, scope: anyio.CancelScope, outcome: dict) -> None:
    """The client's messages while its job runs: "stop" stops the job, leaving cancels it, anything else is answered."""
    while True:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            outcome["gone"] = True
            cancel.set()
            scope.cancel()
            return
        try:
            body = json_object(msg.get("text"), "message")
        except AppError as e:  # answered; the job goes on
            await send(ws, {"type": "error", "status": 422, "detail": e.detail})
            continue
        if body.get("type") == "stop":
            already = cancel.is_set()
            cancel.set()
            await send(ws, {"type": "stopping", "again": already})
        else:
            await send(ws, {"type": "error", "status": 422, "detail": 'message: expected {"type": "stop"}; the job goes on'})


async def _relay(ws: WebSocket, msg: tuple, release, outcome: dict) -> None:
    """One message of the worker (its type first) sent on to the client."""
    what = msg[0]
    if what == "progress":
        await send(ws, {"type": "progress", "step": msg[1], "loss": msg[2], "accuracy": msg[3]})
    elif what == "probe":
        await send(ws, {"type": "probe", "step": msg[1], "values": {k: wire.rounded(v, 4) for k, v in msg[2].items()}})
    elif what == "done":
        outcome["finished"] = True
        release()  # the model is stored: the client may start another job as soon as it reads "done"
        await send(ws, {"type": "done", **msg[1]})
    elif what == "error":
        outcome["status"] = msg[1]
        if len(msg) > 3:  # the worker's traceback: for the log, once, not for the client
            log.error("ws/train: %s\n%s", msg[2], msg[3].rstrip())
        await send(ws, {"type": "error", "status": msg[1], "detail": msg[2]})


def _pump(receiver, outbox_send) -> None:
    """In a thread: move the worker's messages into the event loop until the worker's end of the pipe closes."""
    try:
        while True:
            try:
                msg = receiver.recv()
            except (EOFError, OSError):
                break
            anyio.from_thread.run(outbox_send.send, msg)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass  # the handler has gone on without us
    finally:
        try:
            anyio.from_thread.run(outbox_send.aclose)
        except RuntimeError:  # the event loop is gone (server shutdown)
            pass


def _reap(proc) -> None:
    """Give the worker time to stop on its own (it checks cancel before every step), then end it."""
    if proc.pid is None:  # never started
        return
    proc.join(GRACE_SECONDS)
    if proc.is_alive():
        proc.terminate()
        proc.join(2)
    if proc.is_alive():
        proc.kill()
        proc.join()
