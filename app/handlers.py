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

import cells

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
        return JSONResponse(e.body(), status_code=e.status, headers=e.headers)

    @app.exception_handler(cells.CellsError)
    async def cells_error(request: Request, e: cells.CellsError):
        return JSONResponse({"detail": str(e), "field": None}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException):
        headers = dict(e.headers or {})
        if e.status_code == 404 and (target := _without_slash(request)):
            return RedirectResponse(target, status_code=307)
        if e.status_code == 405:  # Starlette names only the first route's methods; a path may have several routes
            allowed = sorted({m for route in request.app.router.routes if getattr(route, "methods", None)
                              and route.matches(request.scope)[0] == Match.PARTIAL for m in route.methods})
            headers["Allow"] = ", ".join(allowed)
        return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=headers)

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
        return JSONResponse({"detail": errors}, status_code=422)

