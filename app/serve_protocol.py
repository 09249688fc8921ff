"""The HTTP protocol `gatescope serve` runs: uvicorn's h11 protocol, with a time limit on a request's headers.

uvicorn (0.55) times out nothing between a connection's opening and the end of its request's headers: its keep-alive
timer runs only between two requests, and the next request's first byte stops it. A client that connects and sends
nothing, or sends "GET / HTTP/1.1\\r\\n" and then a header byte a second, holds its connection (and a file
descriptor) for as long as it likes, and a few thousand such clients hold them all (slowloris). Here a timer starts
when a connection opens, and when the first byte of each later request comes (before it, the keep-alive timer runs);
it stops when the request's line and headers are read (the app takes over, a WebSocket handshake included). When it
fires first, the connection is answered 408 if part of a request came, and closed. The request body is the app's to
time (uploads: the setting upload_idle_seconds).

The limit is the setting header_timeout_seconds (GATESCOPE_HEADER_TIMEOUT_SECONDS), read once per process. Given to
uvicorn as ``uvicorn.Config(http=HeaderTimeoutProtocol)`` by app/cli.py, or ``uvicorn --http
app.serve_protocol:HeaderTimeoutProtocol``.
"""

from __future__ import annotations

import asyncio
import functools
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import setting

LINGER_SECONDS = 2.0  # how long the rest of an unreadable request is read and dropped after its 400

@functools.cache
def header_timeout() -> float:
    """The setting header_timeout_seconds, read from the environment (as the app's settings are) once per process."""
    from .config import Settings
    return Settings().header_timeout_seconds


def timeout_answer(seconds: float) -> bytes:
    body = json.dumps({"detail": f"request: its line and headers did not arrive within {seconds:g} s "
                                 f"({setting('header_timeout_seconds')})", "field": None, "code": "too_slow"}).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % len(body)) + body


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's H11Protocol, with a connection closed when a request's headers take longer than header_timeout()."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        self.header_timer: asyncio.TimerHandle | None = None
        self.lingering = False

    # -- when the timer runs: while a request's line and headers are awaited (the client IDLE, in h11's terms) --------
    def _watch_headers(self) -> None:
        """Start the timer when a request's headers are awaited and nothing else times the wait; stop it once they are
        read. Between two requests of a kept-alive connection uvicorn's keep-alive timer runs (timeout_keep_alive)
        until the next request's first byte, which stops it: the header timer starts then."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting:
            self._stop_header_timer()
        elif self.header_timer is None and (self.timeout_keep_alive_task is None or self.conn.trailing_data[0]):
            self.header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        started, _ = self.conn.trailing_data  # the part of a request that came; none: an idle kept-alive connection
        if started:
            self.logger.debug("%s: no complete request headers within %g s; answered 408",
                              "%s:%d" % self.client if self.client else "a client", self.header_timeout)
            self.transport.write(timeout_answer(self.header_timeout))
        try:
            self.conn.send(h11.ConnectionClosed())
        except h11.LocalProtocolError:  # pragma: no cover - h11 refuses it only mid-response, where no timer runs
            pass
        self.transport.close()

    # -- a request the server cannot read, answered so that the client reads the answer ----------------------------
    def send_400_response(self, msg: str) -> None:
        """uvicorn's 400 for a request it cannot read (a request line or headers past h11's size limit), closed
        gracefully: uvicorn closes at once, and a client still sending its request then gets a reset (the kernel's
        answer to unread data) instead of the 400. Here the answer goes out, the write side is shut, and what still
        comes is read and dropped for up to LINGER_SECONDS before the connection closes (a lingering close)."""
        close = self.transport.close
        self.transport.close = self._linger  # type: ignore[method-assign] - uvicorn's last step, made graceful
        try:
            super().send_400_response(msg)
        finally:
            self.transport.close = close  # type: ignore[method-assign]

    def _linger(self) -> None:
        self.lingering = True
        self._stop_header_timer()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # -- uvicorn's hooks ------------------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # the rest of a request already answered 400: read and dropped
            return
        super().data_received(data)
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # a new cycle may start here (and read a pipelined request at once)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)
