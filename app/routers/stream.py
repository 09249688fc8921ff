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
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
import numpy as np
from fastapi import APIRouter, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

import cells

from .. import wire
from ..deps import PoolDep, SettingsDep, StoreDep, state
from ..errors import AppError, setting
from ..origin import SameOrigin
from ..pool import Pool
from ..resolve import Resolved, resolve, resolve_append
from ..schemas import ViewBody, ViewState
from ..sockets import GONE, Slot, Slots, client_address, error_body, fail, first_message, json_object, quiet_when_gone, reported, send

router = APIRouter(tags=["stream"])
MAX_CHUNK = 512
FIRST_MESSAGE_SECONDS = 30.0
EXPECTED = ("the view parameters (a JSON object, e.g. {\"kind\": \"lstm\", \"input\": \"hello\"}), "
            "or put them in the query string")


class Streams(Slots):
    """Open streams per client address in this process (``open``), and the steps they have computed."""

    def __init__(self):
        super().__init__()
        self.steps_computed = 0

    @property
    def open(self) -> dict[str, int]:
        return self.held

    def refused(self, limit: int) -> AppError:
        return AppError(429, f"streams: this client has {limit} open; the limit is {limit} open streams per client "
                             f"({setting('max_streams_per_client')})")


StreamsDep = Annotated[Streams, state("streams")]


class Runner:
    """Runs a resolved view chunk by chunk, carrying the recurrent state between chunks."""

    def __init__(self, r: Resolved, streams: Streams, pool: Pool):
        self.r, self.streams, self.pool, self.state, self.steps = r, streams, pool, None, 0
        self.plain = None  # the state of the run without the clamp, when the view compares the two
        self.typed = r.input  # the whole input so far, with what was appended: errors count positions in it
        m = r.model
        cost = max(1, m.hidden_size * (m.hidden_size + m.input_size) * m.num_layers * m.directions + m.n_outputs * m.out_size)
        self.chunk = max(1, min(MAX_CHUNK, 2**21 // cost))  # about 10 ms of work per chunk whatever the size

    def run(self, xs: np.ndarray) -> np.ndarray:
        trace = self.r.model.run(xs, state=self.state, clamp=self.r.clamp, t0=self.steps)
        rows = wire.step_rows(self.r, trace)
        if self.r.compared:  # the same names of the run without the clamp, after the clamped ones (header.original_fields)
            plain = self.r.model.run(xs, state=self.plain)
            self.plain, rows = plain.final, np.concatenate([rows, wire.step_rows(self.r, plain)], axis=1)
        self.state, self.steps = trace.final, self.steps + len(xs)
        self.streams.steps_computed += len(xs)
        return rows

    async def chunks(self, xs):
        """(t0, rows) for each chunk of ``xs``, each computed in the pool (one of ``heavy_workers`` slots, held briefly);
        AppError(503) when a chunk cannot get a slot in time."""
        if self.r.model.bidirectional:  # the reverse direction needs the whole sequence first
            t0 = self.steps  # read before the run: run() advances self.steps, and t0 read after it put step 0 at T
            rows = await self.pool.run(self.run, xs)
            for i in range(0, len(rows), MAX_CHUNK):
                yield t0 + i, rows[i:i + MAX_CHUNK]
            return
        size, i = min(8, self.chunk), 0
        while i < len(xs):
            t0 = self.steps
            rows = await self.pool.run(self.run, xs[i:i + size])
            yield t0, rows
            i += len(rows)
            size = min(size * 2, self.chunk)


def header(r: Resolved, fmt: str) -> dict:
    """The stream's header; when the view compares, ``original_fields`` are the shown names of the run without the
    clamp, placed after the clamped ones in each row, and ``stride`` counts both."""
    out = wire.header(r, fmt)
    if r.compared:
        out["original_fields"] = [{**f, "offset": f["offset"] + out["stride"]} for f in out["fields"]]
        out["stride"] *= 2
    return out


def fields(head: dict) -> list[dict]:
    """Every field a step row holds, for rounding JSON steps."""
    return head["fields"] + head.get("original_fields", [])


def summary(runner: Runner, started: float, first: float | None, sent_bytes: int, snapshots: int) -> dict:
    """Server-side figures: total time, time to the first step frame (from the request), bytes per snapshot."""
    return {"type": "summary", "steps": runner.steps, "elapsed_ms": round((time.perf_counter() - started) * 1e3, 2),
            "first_frame_ms": None if first is None else round((first - started) * 1e3, 2),
            "bytes_per_snapshot": round(sent_bytes / max(1, snapshots), 1)}


# -- WebSocket ---------------------------------------------------------------------------

@asynccontextmanager
async def held(ws: WebSocket, streams: Streams, settings, route: str):
    """A WebSocket with its client's stream slot: taken before any await, held while the body runs, given back after.
    Yields whether the socket was accepted; without a free slot the client is told (429) and the socket closed (1013)."""
    slot = streams.take(client_address(ws), settings.max_streams_per_client)  # checked and taken before any await
    with quiet_when_gone(route):
        if slot is None:
            await ws.accept()
            await fail(ws, streams.refused(settings.max_streams_per_client), route)
            yield False
            return
        with slot:
            await ws.accept()
            yield True


@router.websocket("/ws/trace", dependencies=[SameOrigin])
async def ws_trace(ws: WebSocket, settings: SettingsDep, store: StoreDep, pool: PoolDep, streams: StreamsDep):
    async with held(ws, streams, settings, "ws/trace") as accepted:
        if accepted:
            await _serve(ws, settings, store, pool, streams)


async def _request(ws: WebSocket, settings, store, pool: Pool) -> tuple[Resolved, str, float]:
    """The resolved view, the frame format and when the request came: from the query string, or the first message."""
    started = time.perf_counter()
    params = dict(ws.query_params)
    frames = params.pop("frames", "binary")
    if frames not in ("binary", "json"):
        raise AppError(422, f"frames: got {frames!r}; expected 'binary' or 'json'", "frames")
    if params:
        view = ViewState.model_validate(params)  # the query string: text, read as the URL is
    else:
        body = await first_message(ws, FIRST_MESSAGE_SECONDS, EXPECTED)
        started = time.perf_counter()
        view = ViewBody.model_validate(body)  # JSON: typed as its schema says
    return await pool.run(resolve, view, settings, store), frames, started


async def _serve(ws: WebSocket, settings, store, pool: Pool, streams: Streams) -> None:
    try:
        r, frames, started = await _request(ws, settings, store, pool)
    except (ValidationError, AppError, cells.CellsError) as e:
        await fail(ws, e, "ws/trace")
        return
    view, first, head = r.view, None, header(r, frames)
    runner = Runner(r, streams, pool)
    sent, count, every = 0, 0, fields(head)

    async def send_rows(t0, rows):
        nonlocal sent, count, first
        if frames == "binary":
            data = wire.steps_binary(t0, rows)
            await ws.send_bytes(data)
        else:
            data = wire.dumps(wire.steps_json(t0, rows, view.digits, every))
            await ws.send_text(data.decode())
        first = first or time.perf_counter()
        sent, count = sent + len(data), count + len(rows)

    async def stream():
        await send(ws, head)
        async for t0, rows in runner.chunks(r.parsed.xs):
            await send_rows(t0, rows)
        await send(ws, summary(runner, started, first, sent, count))
        async for msg in inbox:
            parsed = await _parse_append(msg, r, runner, settings, pool)
            if isinstance(parsed, dict):
                await send(ws, parsed)
                continue
            await send(ws, {"type": "tokens", "t0": runner.steps, "tokens": parsed.tokens})
            async for t0, rows in runner.chunks(parsed.xs):
                await send_rows(t0, rows)

    async with anyio.create_task_group() as tg:
        inbox_send, inbox = anyio.create_memory_object_stream[dict | AppError](16)

        async def reader():  # notices a client that has gone, at once, even mid-stream
            try:
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        break
                    text = msg.get("text") or (msg.get("bytes") or b"").decode("utf-8", "replace")
                    try:
                        await inbox_send.send(json_object(text, "message"))
                    except AppError as e:  # answered in turn, and the stream stays open
                        await inbox_send.send(e)
            finally:
                tg.cancel_scope.cancel()

        tg.start_soon(reader)
        try:
            await stream()
        except GONE:
            raise
        except Exception as e:  # mid-stream: a busy pool (503), a failing model, a bug - the client is told, then the socket closes
            await fail(ws, e, "ws/trace")
        tg.cancel_scope.cancel()


async def _parse_append(msg: dict | AppError, r: Resolved, runner: Runner, settings, pool: Pool):
    """The new steps of {"type": "append", "input": ...}, or an error message to send back."""
    if isinstance(msg, AppError):
        return error_body(msg)
    if msg.get("type") != "append" or not isinstance(msg.get("input"), str):
        return {"type": "error", "status": 422, "detail": 'message: expected {"type": "append", "input": "..."}'}
    try:
        parsed = await pool.run(resolve_append, r, msg["input"], runner.steps, settings, runner.typed)
        runner.typed += msg["input"]
        return parsed
    except AppError as e:
        return error_body(e)


# -- Server-Sent Events -------------------------------------------------------------------

def sse(event: str, body: dict) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + wire.dumps(body) + b"\n\n"


class HeldStream(StreamingResponse):
    """A StreamingResponse that gives its stream slot back when the response ends, however it ends: sent in full,
    the client gone (the stream is then cancelled, its generator left suspended), or the generator never started."""

    def __init__(self, content, slot: Slot, **kwargs):
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope, receive, send) -> None:
        try:
            with quiet_when_gone("trace/stream"):
                await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
            await self.body_iterator.aclose()  # end the generator now, not when the garbage collector finds it


@router.get("/api/trace/stream", summary="The trace as Server-Sent Events: header, steps, summary (or an error event)",
            responses={200: {"content": {"text/event-stream": {}}}, 404: {"description": "Unknown model or preset"},
                       413: {"description": "Over a limit"}, 422: {"description": "Invalid parameters"},
                       429: {"description": "Too many streams"}, 503: {"description": "No worker came free in time"}})
async def trace_stream(request: Request, view: Annotated[ViewState, Query()], settings: SettingsDep, store: StoreDep, pool: PoolDep,
                       streams: StreamsDep):
    slot = streams.take(client_address(request), settings.max_streams_per_client)  # checked and taken before any await
    if slot is None:
        raise streams.refused(settings.max_streams_per_client)
    try:
        started = time.perf_counter()
        r = await pool.run(resolve, view, settings, store)
        response = HeldStream(_events(r, view, Runner(r, streams, pool), started), slot, media_type="text/event-stream",
                              headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    except BaseException:
        slot.release()
        raise
    return response


async def _events(r: Resolved, view: ViewState, runner: Runner, started: float):
    head = header(r, "json")
    first, sent, count, every = None, 0, 0, fields(head)
    yield sse("header", head)
    try:
        async for t0, rows in runner.chunks(r.parsed.xs):
            data = sse("steps", wire.steps_json(t0, rows, view.digits, every))
            first = first or time.perf_counter()
            sent, count = sent + len(data), count + len(rows)
            yield data
    except Exception as e:  # mid-stream: a busy pool (503), a failing model, a bug - an error event ends the stream
        yield sse("error", reported(e, "trace/stream"))
        return
    yield sse("summary", summary(runner, started, first, sent, count))
