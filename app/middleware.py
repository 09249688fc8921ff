"""The app's own ASGI middleware: security headers on every answer.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
re-raises a client's disconnect from inside a streamed response (SSE), and
wraps every response in a second task.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
