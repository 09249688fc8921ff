"""The app's own ASGI middleware: security headers on every answer, HEAD as GET, and a cap on request bodies.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
re-raises a client's disconnect from inside a streamed response (SSE), and
wraps every response in a second task.
"""

from __future__ import annotations

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import setting


class SecurityHeaders:
    """nosniff and no-referrer on every response; the page's Content-Security-Policy on every HTML one."""

    def __init__(self, app: ASGIApp, csp: str):
        self.app, self.csp = app, csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = self.csp
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD answered as GET is, without the body (RFC 9110 9.3.2): the same status and headers, Content-Length
    included. FastAPI's routes declare GET alone, so every page, the API and /vendor/plotly.min.js answered 405."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class BodyLimit:
    """A cap on a request body, before any of it is parsed: FastAPI reads a JSON body whole, so a 300 MB
    {"input": "aaa..."} took 1.3 GB to be told it is too long. Paths in ``streamed`` (uploads) are left
    to their handlers, which write the body to disk as it comes and count it themselves."""

    def __init__(self, app: ASGIApp, limit: int, streamed: tuple[str, ...] = ()):
        self.app, self.limit, self.streamed = app, limit, streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") or scope["path"] in self.streamed:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, f"{int(declared)} bytes", scope, receive)
            return
        messages, size = [], 0
        while True:  # read the body here, up to the limit, and hand it on as it came
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send, f"more than {self.limit} bytes", scope, receive)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, size: str, scope: Scope, receive: Receive) -> None:
        body = json.dumps({"detail": f"body: {size} is over the limit of {self.limit} bytes ({setting('max_input_chars')})",
                           "field": "body"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class AllowedHosts:
    """Answer only to the host names in ``hosts`` (``*.example.org`` for a domain's subdomains): a page on a DNS name
    rebound to this server's address reaches it with its own name in Host. Starlette's TrustedHostMiddleware reads
    an IPv6 Host ("[::1]:8000") as "[", so it is not used."""

    def __init__(self, app: ASGIApp, hosts: list[str]):
        self.app, self.hosts = app, [h.lower() for h in hosts]

    def allowed(self, host: str) -> bool:
        name = host[: host.index("]") + 1] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        name = name.lower()
        return any(name == h or (h.startswith("*.") and name.endswith(h[1:])) for h in self.hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if self.allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": f"host not allowed ({setting('allowed_hosts')})"})
            return
        body = json.dumps({"detail": f"host: {host[:100]!r} is not a name this server answers to ({setting('allowed_hosts')})",
                           "field": "host"}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
