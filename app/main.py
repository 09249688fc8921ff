"""The application factory: ``uvicorn --factory gatescope.app.main:create_app``.

Nothing happens at import time; settings come from the environment when the
factory runs (or are passed in, as the tests do).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import __version__, docs, handlers
from .config import Settings
from .middleware import AllowedHosts, BodyLimit, HeadAsGet, SecurityHeaders
from .pool import Pool
from .routers import api, lessons, pages, stream, train
from .shell import PLOTLY_JS, asset_dir
from .shell import templates as shell_templates
from .store import ModelStore



@asynccontextmanager
async def _lifespan(app: FastAPI):
    async with anyio.create_task_group() as tg:  # what runs beside the requests for the server's life
        tg.start_soon(app.state.pool.keep_trimmed)
        yield
        tg.cancel_scope.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="gatescope", version=__version__, docs_url=None, redoc_url=None, lifespan=_lifespan,
                  summary="Every gate of every step of RNN, LSTM, peephole LSTM, GRU and their variants.")
    # Starlette's slash redirect builds an absolute URL from the Host header, which a client chooses;
    # the 404 handler below redirects with a relative Location instead
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.store = ModelStore(settings)
    app.state.streams = stream.Streams()
    app.state.jobs = train.Jobs()
    app.state.pool = Pool(settings.heavy_workers, settings.queue_seconds)
    app.state.templates = shell_templates()

    handlers.install(app)

    app.add_middleware(SecurityHeaders, csp=pages.csp(settings.embed_origins))
    # a JSON body holds at most max_input_chars characters of input, each at most 6 bytes (\uXXXX), and its other fields
    app.add_middleware(BodyLimit, limit=6 * settings.max_input_chars + 64 * 1024, streamed=("/api/models",))
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)  # 9 took seconds on a 50 MB CSV for 10% less
    if settings.allowed_hosts.split() != ["*"]:  # a page on a rebound DNS name reaches us with its own name in Host
        app.add_middleware(AllowedHosts, hosts=settings.allowed_hosts.split())
    app.add_middleware(HeadAsGet)  # outside the others: they see the GET it is answered as
    if settings.trusted_proxies.split():  # outermost, so every layer sees the client's address; nobody is trusted by default
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies.split())
    app.include_router(api.router)
    app.include_router(api.health)
    app.include_router(stream.router)
    app.include_router(train.router)
    app.include_router(lessons.router)  # lessons: /lesson, /api/lessons
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=asset_dir("static")), name="static")
    docs.install(app, settings)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js():
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    return app
