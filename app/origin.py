"""Who may open a WebSocket or POST: a check of the Origin header, as a dependency (``dependencies=[SameOrigin]``).

Browsers let any page open a WebSocket to any server and send a "simple" POST
(no-cors, text/plain) to it; only the Origin header they add says which page
asked. Allowed:

- no Origin at all (curl, scripts and other non-browser clients send none);
- the app's own origin: the Origin's scheme://host:port is the request's own
  (its Host header, and http/https as the request or ws/wss URL says), which
  covers the pages, /embed in an iframe on another site, and the browser tests;
- an origin listed in GATESCOPE_ALLOWED_ORIGINS (space-separated).

``Origin: null`` (sandboxed frames, file:// pages, some redirects) is refused.
A refused POST is answered 403. A refused WebSocket is accepted, sent an error
message (status 403, the same words) and closed with 1008: a browser cannot
read why a handshake was refused, only that it failed (code 1006), and the page
would take that for a blocked WebSocket and fall back to SSE.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Depends, WebSocket
from starlette.exceptions import WebSocketException
from starlette.requests import HTTPConnection

from . import wire
from .deps import SettingsDep
from .errors import AppError, setting

DEFAULT_PORTS = {"http": 80, "https": 443}
HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def normalized(origin: str) -> str | None:
    """scheme://host:port with the port spelled out and the host in lower case, or None if it is not an http(s) origin."""
    try:
        u = urlsplit(origin.strip())
        port = u.port
    except ValueError:
        return None
    if u.scheme not in DEFAULT_PORTS or not u.hostname or u.path not in ("", "/") or u.query or u.username:
        return None
    host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
    return f"{u.scheme}://{host}:{port or DEFAULT_PORTS[u.scheme]}"


def own_origin(conn: HTTPConnection) -> str | None:
    host = conn.headers.get("host")
    scheme = HTTP_SCHEME.get(conn.url.scheme)
    return normalized(f"{scheme}://{host}") if host and scheme else None


def refusal(conn: HTTPConnection, allowed_origins: str) -> str | None:
    """Why this request's Origin may not ask, or None if it may."""
    origin = conn.headers.get("origin")
    if origin is None:
        return None
    o = normalized(origin) if origin != "null" else None
    if o is not None and (o == own_origin(conn) or o in {normalized(a) for a in allowed_origins.split()}):
        return None
    shown = origin if len(origin) <= 100 else origin[:100] + "..."
    return (f"origin: a page on {shown!r} may not use this server; only its own origin ({own_origin(conn) or 'unknown'}) "
            f"and those listed in the {setting('allowed_origins')} may")


async def check_origin(conn: HTTPConnection, settings: SettingsDep) -> None:
    problem = refusal(conn, settings.allowed_origins)
    if problem is None:
        return
    if isinstance(conn, WebSocket):
        await conn.accept()
        await conn.send_text(wire.dumps({"type": "error", "status": 403, "detail": problem, "field": None}).decode())
        raise WebSocketException(code=1008, reason=f"origin not allowed ({setting('allowed_origins')})")
    raise AppError(403, problem)


SameOrigin = Depends(check_origin)
ORIGIN_ERRORS = {403: {"description": f"A page on another origin (not listed in the {setting('allowed_origins')})"}}
