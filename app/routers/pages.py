"""The page and its embed twin; both are shells that static/*.js fills from the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import cells

from .. import __version__
from .. import store as store_mod
from ..schemas import view_fields

router = APIRouter(include_in_schema=False)


def templates(directory: Path) -> Jinja2Templates:
    return Jinja2Templates(directory=str(directory))


def csp(embed_origins: str) -> str:
    """No request leaves the app's origin; framing is allowed from the configured origins."""
    origins = embed_origins.split()
    if "*" in origins:
        ancestors = "*"
    else:
        ancestors = " ".join(["'self'"] + [o for o in origins if o != "self"])
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            f"form-action 'self'; frame-ancestors {ancestors}")


def page_config(request: Request, embed: bool) -> dict:
    s = request.app.state.settings
    return {
        "embed": embed,
        "version": __version__,
        "fields": view_fields(),
        "kinds": [{"name": k, "title": cells.REGISTRY[k].title} for k in cells.KINDS],
        "presets": store_mod.list_presets(),
        "default_preset": s.default_preset,
        "limits": {"max_steps": s.max_steps, "max_hidden": s.max_hidden, "max_layers": s.max_layers,
                   "max_upload_bytes": s.max_upload_bytes, "max_input_chars": s.max_input_chars,
                   "max_train_steps": s.max_train_steps, "max_train_hidden": s.max_train_hidden, "training": s.max_training_jobs > 0},
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    return request.app.state.templates.TemplateResponse(request, "index.html", {"config": page_config(request, False)})


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request):
    return request.app.state.templates.TemplateResponse(request, "compare.html", {"config": page_config(request, False)})


@router.get("/embed", response_class=HTMLResponse)
def embed(request: Request):
    return request.app.state.templates.TemplateResponse(request, "embed.html", {"config": page_config(request, True)})
