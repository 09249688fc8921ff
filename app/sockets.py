"""What the WebSocket routes (and the SSE stream) share: per-client slots, reading a message, failing politely,
and leaving quietly when the client has gone.

A slot is checked and taken in one synchronous step (no ``await`` between the
two), so concurrent connections cannot all pass the check, and it is given
back in a ``finally``, never by the garbage collector.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager

import anyio
import orjson
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from websockets.exceptions import ConnectionClosed

from gatescope import cells

from . import wire
from .errors import AppError

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # anyio's dependency there

log = logging.getLogger("gatescope")

try:  # what uvicorn raises on a send after the client left (Starlette turns most into the two above)
    from uvicorn.protocols.utils import ClientDisconnected
except ImportError:  # pragma: no cover - served by another ASGI server
    ClientDisconnected = ConnectionClosed

# a client that leaves mid-stream, however the server and the framework spell it
GONE = (WebSocketDisconnect, ClientDisconnect, ClientDisconnected, ConnectionClosed,
        anyio.BrokenResourceError, anyio.ClosedResourceError)


class Slot:
    """One held slot; ``release()`` may be called any number of times, the count drops once."""

    def __init__(self, slots: Slots, client: str):
        self.slots, self.client, self.held = slots, client, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots._give_back(self.client)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Slots:
    """Slots held per client address in this process."""

    def __init__(self):
        self.held: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.held.values())

    def take(self, client: str, per_client: int, total: int | None = None) -> Slot | None:
        """A slot for ``client``, or None if it holds ``per_client`` already or ``total`` are held in all."""
        if self.held.get(client, 0) >= per_client or (total is not None and self.total >= total):
            return None
        self.held[client] = self.held.get(client, 0) + 1
        return Slot(self, client)

    def _give_back(self, client: str) -> None:
        self.held[client] -= 1
        if not self.held[client]:
            del self.held[client]


def only_gone(e: BaseException) -> bool:
    """True if ``e`` says the client left, bare or wrapped (in any depth of task groups) with nothing else."""
    if isinstance(e, BaseExceptionGroup):
        return all(only_gone(x) for x in e.exceptions)
    return isinstance(e, GONE)


@contextmanager
def quiet_when_gone(route: str):
    """A client that leaves is normal: one debug line, no traceback. Anything else goes on up."""
    try:
        yield
    except Exception as e:
        if not only_gone(e):
            raise
        log.debug("%s: the client left", route)


def client_address(conn) -> str:
    return conn.client.host if conn.client else "unknown"


# -- messages -----------------------------------------------------------------------------------

def error_body(e: Exception) -> dict:
    """The error message for an exception: its status, a detail that names the field, and the field."""
    if isinstance(e, ValidationError):
        errors = e.errors(include_url=False)
        field = next((str(p) for p in reversed(errors[0]["loc"]) if isinstance(p, str)), None) if errors else None
        return {"type": "error", "status": 422, "detail": orjson.loads(e.json(include_url=False)), "field": field}
    if isinstance(e, AppError):
        body = {"type": "error", "status": e.status, **e.body()}
        if e.headers and "Retry-After" in e.headers:  # a socket has no headers: the wait travels in the message
            body["retry_after"] = int(e.headers["Retry-After"])
        return body
    if isinstance(e, cells.CellsError):
        return {"type": "error", "status": 422, "detail": str(e)}
    return {"type": "error", "status": 500, "detail": f"server: an internal error ({type(e).__name__}) stopped this; it is in the server's log"}


def close_code(status: int) -> int:
    """1013 (try again later) for a busy server, 1011 for a server fault, 1008 (policy) for a refused request."""
    return 1013 if status in (429, 503) else 1011 if status >= 500 else 1008


async def send(ws: WebSocket, body: dict) -> None:
    await ws.send_text(wire.dumps(body).decode())


def reported(e: Exception, route: str) -> dict:
    """``error_body(e)``; an exception nobody expected is also logged, once, with its traceback."""
    body = error_body(e)
    if body["status"] == 500:
        log.error("%s: %s", route, body["detail"], exc_info=e)
    return body


async def fail(ws: WebSocket, e: Exception, route: str) -> None:
    """Send the error message for ``e``, then close with the code its status calls for."""
    body = reported(e, route)
    await send(ws, body)
    await ws.close(code=close_code(body["status"]))


def json_object(text: str | None, what: str) -> dict:
    """``text`` read as a JSON object, or AppError(422) naming what was expected."""
    if text is None:
        raise AppError(422, f"{what}: got a binary frame; send a JSON object as a text message")
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise AppError(422, f"{what}: not JSON ({e}); send a JSON object") from None
    if not isinstance(body, dict):
        raise AppError(422, f"{what}: got JSON {type(body).__name__}; send a JSON object")
    return body


async def first_message(ws: WebSocket, seconds: float, expected: str) -> dict:
    """The client's first message as a JSON object; AppError(408) if none comes within ``seconds``."""
    with anyio.move_on_after(seconds):
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(msg.get("code", 1000))
        return json_object(msg.get("text"), "request")
    raise AppError(408, f"request: no first message within {seconds:g} s; send {expected} as JSON")
