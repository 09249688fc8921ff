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

from gatescope import cells

from .. import run, wire
from ..deps import PoolDep, SettingsDep, StoreDep, state
from ..errors import AppError, setting
from ..origin import SameOrigin
from ..pool import Pool
from ..run import Run
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
    """Streams a run: its own input (from the run the page load made, or chunk by chunk), then what is appended,
    carrying the recurrent state between chunks."""

    def __init__(self, r: Run, streams: Streams, pool: Pool):
        self.r, self.streams, self.pool, self.state, self.steps = r, streams, pool, None, 0
        self.plain = None  # the state of the run without the clamp, when the view compares the two
        self.typed = run.typed_of(r)  # what the stream has read: characters, pieces, steps (errors count positions in it)
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

    def whole(self) -> np.ndarray:
        """The rows of the run's own input, read from the run made once for every request that shares it."""
        trace = self.r.trace()
        rows = wire.step_rows(self.r, trace)
        if self.r.compared:
            plain = self.r.trace(clamped=False)
            self.plain, rows = plain.final, np.concatenate([rows, wire.step_rows(self.r, plain)], axis=1)
        self.state, self.steps = trace.final, len(rows)
        self.streams.steps_computed += len(rows)
        return rows

    async def start(self):
        """(t0, rows) of the run's own input: from the run already made (by the page that opened this stream), or
        whole for a bidirectional model (its reverse direction needs the whole sequence first), else chunk by chunk
        so that the first step reaches the wire at once."""
        if self.r.made.ran() is not None or self.r.model.bidirectional:
            rows = await self.pool.run(self.whole)
            for i in range(0, len(rows), MAX_CHUNK):
                yield i, rows[i:i + MAX_CHUNK]
            return
        run.COUNTS["run"] += 1
        async for t0, rows in self.chunks(self.r.parsed.xs):
            yield t0, rows

    async def chunks(self, xs):
        """(t0, rows) for each chunk of ``xs`` (a unidirectional run, or what is appended to one), each computed in
        the pool (one of ``heavy_workers`` slots, held briefly); AppError(503) when a chunk cannot get a slot in time."""
        size, i = min(8, self.chunk), 0
        while i < len(xs):
            t0 = self.steps
            rows = await self.pool.run(self.run, xs[i:i + size])
            yield t0, rows
            i += len(rows)
            size = min(size * 2, self.chunk)


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


async def _request(ws: WebSocket, settings, store, pool: Pool) -> tuple[Run, str, float]:
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
    return await pool.run(run.resolve, view, settings, store), frames, started


async def _serve(ws: WebSocket, settings, store, pool: Pool, streams: Streams) -> None:
    try:
        r, frames, started = await _request(ws, settings, store, pool)
    except (ValidationError, AppError, cells.CellsError) as e:
        await fail(ws, e, "ws/trace")
        return
    view, first, head = r.view, None, wire.header(r, frames)
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
        async for t0, rows in runner.start():
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


async def _parse_append(msg: dict | AppError, r: Run, runner: Runner, settings, pool: Pool):
    """The new steps of {"type": "append", "input": ...}, or an error message to send back."""
    if isinstance(msg, AppError):
        return error_body(msg)
    if msg.get("type") != "append" or not isinstance(msg.get("input"), str):
        return {"type": "error", "status": 422, "detail": 'message: expected {"type": "append", "input": "..."}'}
    try:
        return await pool.run(run.extend, r, msg["input"], runner.typed, settings)
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
        r = await pool.run(run.resolve, view, settings, store)
        response = HeldStream(_events(r, view, Runner(r, streams, pool), started), slot, media_type="text/event-stream",
                              headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    except BaseException:
        slot.release()
        raise
    return response


async def _events(r: Run, view: ViewState, runner: Runner, started: float):
    head = wire.header(r, "json")
    first, sent, count, every = None, 0, 0, fields(head)
    yield sse("header", head)
    try:
        async for t0, rows in runner.start():
            data = sse("steps", wire.steps_json(t0, rows, view.digits, every))
            first = first or time.perf_counter()
            sent, count = sent + len(data), count + len(rows)
            yield data
    except Exception as e:  # mid-stream: a busy pool (503), a failing model, a bug - an error event ends the stream
        yield sse("error", reported(e, "trace/stream"))
        return
    yield sse("summary", summary(runner, started, first, sent, count))
