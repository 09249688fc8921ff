"""The page, the compare page and the embed twin: shells that static/*.js fills from the API.

Each page reads its query as GET /api/trace does: the same ``ViewState``, read
by FastAPI the same way, then resolved (model, input and every limit), so a
link the API refuses is refused by the page too. The page then answers with
the API's status and shows the API's own message, escaped, above its views.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup
from pydantic import ValidationError

from gatescope import cells

from .. import first_paint, i18n, run, shell
from ..deps import PoolDep, SettingsDep, StoreDep, app_state
from ..errors import AppError
from ..schemas import VIEW_ONLY, ViewState

PAGES = {"/": ("index.html", False), "/compare": ("compare.html", False), "/embed": ("embed.html", True)}
REFUSED = (RequestValidationError, AppError, cells.CellsError)


#: the pages' import map, exactly as templates/base.html writes it: their modules import each other as
#: gatescope/<path under static/> (the standalone file maps the same names to data: URLs, app/standalone.py). An
#: import map cannot be a file of its own, so it is the one inline script the pages have: script-src names its hash.
IMPORT_MAP = '{"imports": {"gatescope/": "/static/"}}'


def csp(embed_origins: str) -> str:
    """No request leaves the app's origin; framing is allowed from the configured origins. '*' is any site and a
    deck opened from disk: a browser's * matches network schemes only, and a file:// page is matched by file: alone.
    No inline script runs but the import map (IMPORT_MAP), allowed by its hash."""
    origins = embed_origins.split()
    if "*" in origins:
        ancestors = "* file:"
    else:
        ancestors = " ".join(["'self'"] + [o for o in origins if o != "self"])
    import_map = "'sha256-" + base64.b64encode(hashlib.sha256(IMPORT_MAP.encode()).digest()).decode() + "'"
    return (f"default-src 'self'; script-src 'self' {import_map}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            f"form-action 'self'; frame-ancestors {ancestors}")


def page_config(request: Request, embed: bool) -> dict:
    return shell.page_config(app_state(request, "settings"), embed)


def render(request: Request, path: str, view: dict, refused: dict | None = None, status: int = 200,
           headers: dict | None = None, first: str = "") -> Response:
    """A page; first: the diagram's first drawing (app/first_paint.py), painted with the HTML."""
    template, embed = PAGES[path]
    config = {**page_config(request, embed), "view": view, "refused": refused, **i18n.page_words(i18n.lang_of(request.query_params)),
              "panels": view.get("panels") or ViewState.model_fields["panels"].default}  # the figures painted (templates/_partials.html)
    return app_state(request, "templates").TemplateResponse(request, template, {"config": config, "refused": refused, "first_paint": Markup(first)},
                                                        status_code=status, headers=headers)


async def api_answer(request: Request, error: Exception) -> Response:
    """What the API answers to this error: the app's own exception handler for it, so status and message are the API's."""
    handlers = request.app.exception_handlers
    handler = next(handlers[c] for c in type(error).__mro__ if c in handlers)
    answer = handler(request, error)
    return await answer if inspect.isawaitable(answer) else answer


def problems(body: dict, source: str | None = None) -> list[dict]:
    """The API's error body as lines for the page: the field, the API's message, the value it got."""
    detail = body["detail"]
    if isinstance(detail, str):
        return [{"source": source, "field": None, "text": detail, "got": None}]
    return [{"source": source, "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body")) or None,
             "text": e.get("msg", ""), "got": json.dumps(e["input"], ensure_ascii=False) if "input" in e else None} for e in detail]


class EntryRefused(Exception):
    """One model of /compare that the API refuses: the entry, and the API's error for it."""

    def __init__(self, source: str, error: Exception):
        super().__init__(source)
        self.source, self.error = source, error


class PageRoute(APIRoute):
    """A page whose query the API would refuse (invalid, over a limit, naming nothing that exists) answers with the
    API's status and shows the API's message, the page's controls still working."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            _drop_tracking(request)
            try:
                return await handle(request)
            except EntryRefused as e:
                return await self.refused(request, e.error, e.source)
            except REFUSED as e:
                return await self.refused(request, e)

        return route

    async def refused(self, request: Request, error: Exception, source: str | None = None) -> Response:
        answer = await api_answer(request, error)
        body = json.loads(answer.body)
        # the API's way out (a text model for text at a numbers model), a button the page's script applies as the live
        # page does; /compare takes its models from compare=, so a patch naming one model does not apply there
        offers = [body["offer"]] if body.get("offer") and self.path != "/compare" else []
        refused = {"status": answer.status_code, "problems": problems(body, source), "offers": offers, "home": self.path}
        retry = {k: v for k, v in answer.headers.items() if k == "retry-after"}
        asked = {k: v for k, v in request.query_params.items() if k in ViewState.model_fields}
        return render(request, self.path, asked, refused, answer.status_code, retry)


#: what sites and mail clients append to a shared link (utm_source=..., fbclid=...): not view state, and no reason
#: to refuse a lecturer's permalink; the page ignores them (the API, which no one shares, does not)
TRACKING = re.compile(r"utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga")


def _drop_tracking(request: Request) -> None:
    pairs = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not TRACKING.fullmatch(k)]
    if len(kept) != len(pairs):
        request.scope["query_string"] = urlencode(kept).encode("latin-1")


router = APIRouter(include_in_schema=False, route_class=PageRoute)
ViewQuery = Annotated[ViewState, Query()]


def given(view: ViewState) -> dict:
    """The view state as the query gave it: what the page's config reflects back."""
    return view.model_dump(mode="json", exclude_unset=True)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, view: ViewQuery, settings: SettingsDep, store: StoreDep, pool: PoolDep):
    r = await pool.run(run.resolve, view, settings, store)
    return render(request, "/", given(view), first=await pool.run(first_paint.drawing_or_nothing, r))


@router.get("/embed", response_class=HTMLResponse)
async def embed(request: Request, view: ViewQuery, settings: SettingsDep, store: StoreDep, pool: PoolDep):
    r = await pool.run(run.resolve, view, settings, store)
    return render(request, "/embed", given(view), first=await pool.run(first_paint.drawing_or_nothing, r))


@router.get("/compare", response_class=HTMLResponse)
async def compare(request: Request, view: ViewQuery, settings: SettingsDep, store: StoreDep, pool: PoolDep):
    """Each model of ``compare`` is resolved as its column asks for it: the shared query with that model, less the view-only fields."""
    for source in ("kind", "preset", "model"):
        if getattr(view, source) is not None:  # each column names its own model; one for all would be ignored
            raise AppError(422, f"{source}: /compare takes its models from compare=..., e.g. compare=preset:remember-lstm,kind:gru", source)
    shared = {k: v for k, v in given(view).items() if k not in VIEW_ONLY}
    for source in view.compare.split(","):
        what, name = source.split(":", 1)
        try:
            await pool.run(run.plan, ViewState.model_validate({**shared, what: name}), settings, store)
        except ValidationError as e:  # the entry names no kind, or no well-formed model id
            raise EntryRefused(source, RequestValidationError(e.errors())) from None
        except REFUSED as e:
            raise EntryRefused(source, e) from None
    return render(request, "/compare", given(view))
