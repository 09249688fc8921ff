"""How errors are answered: one JSON shape, {"detail": ..., "field": ...}, whatever raised them.

The page answers a refused link with these same handlers (app/routers/pages.py), so a page and the API
say the same words for the same query.
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gatescope import cells

from .errors import AppError


def _shown(value, limit: int = 200):
    """A value as an error body may echo it: short, valid UTF-8, and JSON (no NaN, no infinity)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate becomes \\ud800
        return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (int, float, bool)) or value is None:
        if isinstance(value, int) and abs(value) >= 2**63:  # str() of a 5,000-digit int raises; JSON readers lose it
            return f"an integer of {value.bit_length()} bits"
        return value
    return _shown(repr(value), limit)


def _printable(value):
    """``value`` with every string (and key) UTF-8 can encode: a lone surrogate becomes the text \\ud800, a NaN or an
    infinity the word, anything else JSON cannot hold its repr. It always renders."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(str(k)): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return _printable(repr(value))


class ErrorResponse(JSONResponse):
    """An error's JSON, which never fails to render: an error may echo what a client sent, and a string JSON reads
    from \\ud800 (half of a UTF-16 pair) cannot be encoded as UTF-8. A 500 must never come from an error's own body."""

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except (UnicodeEncodeError, ValueError, TypeError):
            return super().render(_printable(content))


def _nested_too_deep(e: StarletteHTTPException) -> bool:
    """FastAPI answers a body json.loads cannot read for its depth (RecursionError) 400 "There was an error parsing
    the body"; a body that is not JSON at all is a 422."""
    return e.status_code == 400 and isinstance(e.__cause__, RecursionError)


def _without_slash(request: Request) -> str | None:
    """The relative URL without the trailing slash, when that names a route ("/api/trace/" -> "/api/trace")."""
    path = request.url.path
    if not path.endswith("/") or path == "/":
        return None
    bare = "/" + path.strip("/")  # one leading slash: never "//host", which a browser reads as another site
    scope = {**request.scope, "path": bare}
    if not any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
        return None
    return bare + (f"?{request.url.query}" if request.url.query else "")


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, e: AppError):
        return ErrorResponse(e.body(), status_code=e.status, headers=e.headers)

    @app.exception_handler(cells.CellsError)
    async def cells_error(request: Request, e: cells.CellsError):
        return ErrorResponse({"detail": str(e), "field": None}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException):
        headers = dict(e.headers or {})
        if _nested_too_deep(e):
            return ErrorResponse({"detail": "body: arrays and objects nested too deep to read; send the JSON object the "
                                            "endpoint takes, whose values nest a few levels at most", "field": "body"}, status_code=422)
        if e.status_code == 404 and (target := _without_slash(request)):
            return RedirectResponse(target, status_code=307)
        if e.status_code == 405:  # Starlette names only the first route's methods; a path may have several routes
            allowed = sorted({m for route in request.app.router.routes if getattr(route, "methods", None)
                              and route.matches(request.scope)[0] == Match.PARTIAL for m in route.methods})
            headers["Allow"] = ", ".join(allowed)
        return ErrorResponse({"detail": e.detail}, status_code=e.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        errors = [{k: v for k, v in err.items() if k in ("type", "loc", "msg", "input", "ctx")} for err in e.errors()]
        for err in errors:  # keep every part printable, and do not echo a megabyte back
            if "ctx" in err:
                err["ctx"] = {k: _shown(str(v)) for k, v in err["ctx"].items()}
            if "input" in err:
                err["input"] = _shown(err["input"])
            err["msg"] = _shown(str(err.get("msg", "")), 400)
            err["loc"] = [_shown(part, 60) for part in err.get("loc", ())]
        return ErrorResponse({"detail": errors}, status_code=422)

