"""The application factory: ``uvicorn --factory app.main:create_app``.

Nothing happens at import time; settings come from the environment when the
factory runs (or are passed in, as the tests do).
"""

from __future__ import annotations

import math
from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import cells

from . import __version__, docs
from .config import Settings
from .errors import AppError
from .middleware import SecurityHeaders
from .pool import Pool
from .routers import api, pages, stream, train
from .store import ModelStore

PACKAGE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


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


def asset_dir(name: str) -> Path:
    """templates/ and static/: inside the installed package, or at the top of a source checkout."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="gatescope", version=__version__, docs_url=None, redoc_url=None,
                  summary="Every gate of every step of RNN, LSTM, peephole LSTM, GRU and their variants.")
    # Starlette's slash redirect builds an absolute URL from the Host header, which a client chooses;
    # the 404 handler below redirects with a relative Location instead
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.store = ModelStore(settings)
    app.state.streams = stream.Streams()
    app.state.jobs = train.Jobs()
    app.state.pool = Pool(settings.heavy_workers, settings.queue_seconds)
    app.state.templates = pages.templates(asset_dir("templates"))

    @app.exception_handler(AppError)
    async def app_error(request: Request, e: AppError):
        return JSONResponse({"detail": e.detail, "field": e.field}, status_code=e.status, headers=e.headers)

    @app.exception_handler(cells.CellsError)
    async def cells_error(request: Request, e: cells.CellsError):
        return JSONResponse({"detail": str(e), "field": None}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException):
        headers = dict(e.headers or {})
        if e.status_code == 404 and (target := _without_slash(request)):
            return RedirectResponse(target, status_code=307)
        if e.status_code == 405:  # Starlette names only the first route's methods; a path may have several routes
            allowed = sorted({m for route in app.router.routes if getattr(route, "methods", None)
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

    app.add_middleware(SecurityHeaders, csp=pages.csp(settings.embed_origins))
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)  # 9 took seconds on a 50 MB CSV for 10% less
    if settings.allowed_hosts.split() != ["*"]:  # a page on a rebound DNS name reaches us with its own name in Host
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts.split())
    if settings.trusted_proxies.split():  # outermost, so every layer sees the client's address; nobody is trusted by default
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies.split())
    app.include_router(api.router)
    app.include_router(api.health)
    app.include_router(stream.router)
    app.include_router(train.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=asset_dir("static")), name="static")
    docs.install(app, settings)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js():
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    return app
