"""Streams: every timestep as it is computed, over a WebSocket or Server-Sent Events.

Both take the view state of GET /api/trace. The WebSocket reads it from its
query string (or, if that is empty, from its first message), answers with a
JSON header, binary step frames (see app/wire.py; frames=json for JSON) and a
JSON summary, then stays open: each {"type": "append", "input": "..."} it
receives runs only the new steps, from the state the last step left. The SSE
twin sends the same header, steps (JSON) and summary as events.

Work is done in chunks that start small (the first step reaches the wire at
once) and grow; between chunks the stream notices a client that has gone and
stops computing.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Annotated

import anyio
import numpy as np
import orjson
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

import cells

from .. import wire
from ..deps import SettingsDep, StoreDep
from ..errors import AppError
from ..inputs import parse
from ..resolve import Resolved, resolve
from ..schemas import ViewBody, ViewState

router = APIRouter(tags=["stream"])
MAX_CHUNK = 512


class Streams:
    """Open streams per client address in this process, and the steps they have computed."""

    def __init__(self):
        self.open: dict[str, int] = {}
        self.steps_computed = 0

    def full(self, client: str, limit: int) -> bool:
        return self.open.get(client, 0) >= limit

    @contextmanager
    def slot(self, client: str):
        self.open[client] = self.open.get(client, 0) + 1
        try:
            yield
        finally:
            self.open[client] -= 1
            if not self.open[client]:
                del self.open[client]


class Runner:
    """Runs a resolved view chunk by chunk, carrying the recurrent state between chunks."""

    def __init__(self, r: Resolved, streams: Streams):
        self.r, self.streams, self.state, self.steps = r, streams, None, 0
        m = r.model
        cost = max(1, m.hidden_size * (m.hidden_size + m.input_size) * m.num_layers * m.directions)
        self.chunk = max(1, min(MAX_CHUNK, 2**21 // cost))  # about 10 ms of work per chunk whatever the size

    def run(self, xs: np.ndarray) -> np.ndarray:
        trace = self.r.model.run(xs, state=self.state)
        self.state, self.steps = trace.final, self.steps + len(xs)
        self.streams.steps_computed += len(xs)
        return wire.step_rows(self.r, trace)

    async def chunks(self, xs):
        """(t0, rows) for each chunk of ``xs``, computed in a worker thread one chunk at a time."""
        if self.r.model.bidirectional:  # the reverse direction needs the whole sequence first
            rows, t0 = await run_in_threadpool(self.run, xs), self.steps
            for i in range(0, len(rows), MAX_CHUNK):
                yield t0 + i, rows[i:i + MAX_CHUNK]
            return
        size, i = min(8, self.chunk), 0
        while i < len(xs):
            t0 = self.steps
            rows = await run_in_threadpool(self.run, xs[i:i + size])
            yield t0, rows
            i += len(rows)
            size = min(size * 2, self.chunk)


def error_body(e: Exception) -> dict:
    if isinstance(e, ValidationError):
        return {"type": "error", "status": 422, "detail": orjson.loads(e.json(include_url=False))}
    if isinstance(e, AppError):
        return {"type": "error", "status": e.status, "detail": e.detail, "field": e.field}
    return {"type": "error", "status": 422, "detail": str(e)}


def summary(runner: Runner, started: float, first: float | None, sent_bytes: int, snapshots: int) -> dict:
    """Server-side figures: total time, time to the first step frame (from the request), bytes per snapshot."""
    return {"type": "summary", "steps": runner.steps, "elapsed_ms": round((time.perf_counter() - started) * 1e3, 2),
            "first_frame_ms": None if first is None else round((first - started) * 1e3, 2),
            "bytes_per_snapshot": round(sent_bytes / max(1, snapshots), 1)}


# -- WebSocket ---------------------------------------------------------------------------

@router.websocket("/ws/trace")
async def ws_trace(ws: WebSocket, settings: SettingsDep, store: StoreDep):
    await ws.accept()
    streams: Streams = ws.app.state.streams
    client = ws.client.host if ws.client else "unknown"
    if streams.full(client, settings.max_streams_per_client):
        await ws.send_text(wire.dumps({"type": "error", "status": 429, "detail":
                           f"streams: this client has {settings.max_streams_per_client} open; the limit is "
                           f"{settings.max_streams_per_client} (setting GATESCOPE_MAX_STREAMS_PER_CLIENT)"}).decode())
        await ws.close(code=1013)
        return
    with streams.slot(client):
        try:
            await _serve(ws, settings, store, streams)
        except WebSocketDisconnect:
            pass


async def _serve(ws: WebSocket, settings, store, streams: Streams) -> None:
    started, first = time.perf_counter(), None
    params = dict(ws.query_params)
    frames = params.pop("frames", "binary")
    try:
        if frames not in ("binary", "json"):
            raise AppError(422, f"frames: got {frames!r}; expected 'binary' or 'json'", "frames")
        if params:
            view = ViewState.model_validate(params)  # the query string: text, read as the URL is
        else:
            with anyio.fail_after(30):
                body = orjson.loads(await ws.receive_text())
            started = time.perf_counter()
            if not isinstance(body, dict):
                raise AppError(422, "request: the first message must be a JSON object of view parameters")
            view = ViewBody.model_validate(body)  # JSON: typed as its schema says
        r = await run_in_threadpool(resolve, view, settings, store)
    except (ValidationError, AppError, cells.CellsError, orjson.JSONDecodeError, TimeoutError) as e:
        await ws.send_text(wire.dumps(error_body(e)).decode())
        await ws.close(code=1008)
        return
    runner = Runner(r, streams)
    sent, count, fields = 0, 0, wire.stream_fields(r)

    async def send_rows(t0, rows):
        nonlocal sent, count, first
        if frames == "binary":
            data = wire.steps_binary(t0, rows)
            await ws.send_bytes(data)
        else:
            data = wire.dumps(wire.steps_json(t0, rows, view.digits, fields))
            await ws.send_text(data.decode())
        first = first or time.perf_counter()
        sent, count = sent + len(data), count + len(rows)

    async with anyio.create_task_group() as tg:
        inbox_send, inbox = anyio.create_memory_object_stream[dict](16)

        async def reader():  # notices a client that has gone, at once, even mid-stream
            try:
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        break
                    text = msg.get("text") or (msg.get("bytes") or b"").decode("utf-8", "replace")
                    try:
                        body = orjson.loads(text)
                    except orjson.JSONDecodeError:
                        body = {"type": "invalid", "raw": text[:100]}
                    await inbox_send.send(body if isinstance(body, dict) else {"type": "invalid"})
            finally:
                tg.cancel_scope.cancel()

        tg.start_soon(reader)
        await ws.send_text(wire.dumps(wire.header(r, frames)).decode())
        async for t0, rows in runner.chunks(r.parsed.xs):
            await send_rows(t0, rows)
        await ws.send_text(wire.dumps(summary(runner, started, first, sent, count)).decode())
        async for msg in inbox:
            parsed = await _parse_append(msg, r, runner, settings)
            if isinstance(parsed, dict):
                await ws.send_text(wire.dumps(parsed).decode())
                continue
            r.parsed.tokens.extend(parsed.tokens)
            await ws.send_text(wire.dumps({"type": "tokens", "t0": runner.steps, "tokens": parsed.tokens}).decode())
            async for t0, rows in runner.chunks(parsed.xs):
                await send_rows(t0, rows)


async def _parse_append(msg: dict, r: Resolved, runner: Runner, settings):
    """The new steps of {"type": "append", "input": ...}, or an error message to send back."""
    if msg.get("type") != "append" or not isinstance(msg.get("input"), str):
        return {"type": "error", "status": 422, "detail": 'message: expected {"type": "append", "input": "..."}'}
    if r.model.bidirectional:
        return {"type": "error", "status": 422,
                "detail": "append: typing needs a unidirectional model; the reverse direction would change every step"}
    if r.input_type == "signal":
        return {"type": "error", "status": 422, "detail": "append: a signal cannot be extended; change the signal instead"}
    text = msg["input"]
    if len(text) > settings.max_input_chars:
        return {"type": "error", "status": 413, "detail": f"input: {len(text)} characters is over the limit of {settings.max_input_chars}"}
    try:
        parsed = await run_in_threadpool(parse, text, r.input_type, None if "kind" in r.source else r.model,
                                         seed=r.view.seed, unknown=r.view.unknown, max_steps=settings.max_steps)
    except AppError as e:
        return error_body(e)
    if parsed.xs.shape[1] != r.model.input_size:
        return {"type": "error", "status": 422,
                "detail": f"input: each step has {parsed.xs.shape[1]} value(s); this model takes {r.model.input_size}"}
    if runner.steps + len(parsed.xs) > settings.max_steps:
        return {"type": "error", "status": 413, "detail": f"input: {runner.steps + len(parsed.xs)} steps in all is over the limit of "
                f"{settings.max_steps} (setting GATESCOPE_MAX_STEPS)"}
    return parsed


# -- Server-Sent Events -------------------------------------------------------------------

def sse(event: str, body: dict) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + wire.dumps(body) + b"\n\n"


@router.get("/api/trace/stream", summary="The trace as Server-Sent Events: header, steps, summary",
            responses={200: {"content": {"text/event-stream": {}}}, 404: {"description": "Unknown model or preset"},
                       413: {"description": "Over a limit"}, 422: {"description": "Invalid parameters"},
                       429: {"description": "Too many streams"}})
async def trace_stream(request: Request, view: Annotated[ViewState, Query()], settings: SettingsDep, store: StoreDep):
    streams: Streams = request.app.state.streams
    client = request.client.host if request.client else "unknown"
    if streams.full(client, settings.max_streams_per_client):
        raise AppError(429, f"streams: the limit is {settings.max_streams_per_client} open streams per client "
                            "(setting GATESCOPE_MAX_STREAMS_PER_CLIENT)")
    started = time.perf_counter()
    r = await run_in_threadpool(resolve, view, settings, store)

    async def events():
        with streams.slot(client):
            runner, first, sent, count = Runner(r, streams), None, 0, 0
            fields = wire.stream_fields(r)
            yield sse("header", wire.header(r, "json"))
            async for t0, rows in runner.chunks(r.parsed.xs):
                data = sse("steps", wire.steps_json(t0, rows, view.digits, fields))
                first = first or time.perf_counter()
                sent, count = sent + len(data), count + len(rows)
                yield data
            yield sse("summary", summary(runner, started, first, sent, count))

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
