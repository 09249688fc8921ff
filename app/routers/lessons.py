"""Lessons: /lesson lists them, /lesson/<name>?stop=N opens one; the JSON twins /api/lessons and /api/lessons/<name>;
POST /api/lessons takes a lecturer's own (app/lesson_book.py says what a lesson is)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import ValidationError

from gatescope import cells

from .. import first_paint, i18n, run
from ..deps import PoolDep, SettingsDep, StoreDep, app_state
from ..errors import AppError, over_limit
from ..lesson_book import NAME, Lesson, LessonBook
from ..lesson_view import LANGS
from ..origin import ORIGIN_ERRORS, SameOrigin
from ..schemas import ViewState
from .api import ERRORS
from .pages import page_config, problems

LessonName = Annotated[str, Path(pattern=NAME, max_length=64)]
UPLOAD_RESPONSES = {**ERRORS, **ORIGIN_ERRORS, 403: {"description": "Uploads are off (setting max_uploaded_lessons is 0), or a page "
                                                     "on another origin"}}
UPLOAD_BODY = {"requestBody": {"required": True, "description": "A lesson file: GET /api/lessons/lstm shows one", "content": {
    "application/json": {"schema": {"type": "object"}}}}}
router = APIRouter(tags=["lessons"])


def book(request: Request) -> LessonBook:
    """The app's lessons, made on first use (reading and checking the built-in ones once)."""
    if not hasattr(request.app.state, "lessons"):
        request.app.state.lessons = LessonBook(app_state(request, "settings"))
    return request.app.state.lessons


BookDep = Annotated[LessonBook, Depends(book)]


def check_runs(lesson: Lesson, settings, store) -> None:
    """Every stop opens: its model exists, its input reads, it is within the limits, and the names it lights up or
    quotes are its kind's. Each stop is planned (app/run.py): its cost is checked and its input read, and no model is
    built or run, so a lesson of many heavy stops costs no more than reading it."""
    for i, stop in enumerate(lesson.stops):
        try:
            names = set(run.shown_of(stop.state(), run.plan(stop.state(), settings, store))[1]) | {"prediction"}
        except AppError as e:
            raise AppError(422, f"stops.{i}.view: {e.detail}", f"stops.{i}.view.{e.field or ''}".rstrip(".")) from None
        lit = [n for n in stop.view.get("highlight", "").split(",") if n]
        for where, name in [("view.highlight", n) for n in lit] + [(f"facts.{j}.name", f.name) for j, f in enumerate(stop.facts)]:
            if name not in names:
                raise AppError(422, f"stops.{i}.{where}: '{name}' is not a name of this model (its names: {', '.join(sorted(names))})",
                               f"stops.{i}.{where}")


@router.get("/api/lessons", summary="Every lesson: built-in, the lecturer's folder (setting lesson_dir) and uploads")
def lessons(lessons: BookDep) -> dict:
    return lessons.listing()


@router.get("/api/lessons/{name}", responses=ERRORS, summary="One lesson: its title and every stop (view state, text in every language, facts)")
def lesson(name: LessonName, lessons: BookDep) -> dict:
    return lessons.get(name).model_dump(mode="json")


@router.post("/api/lessons", status_code=201, responses=UPLOAD_RESPONSES, openapi_extra=UPLOAD_BODY, dependencies=[SameOrigin],
             summary="Upload a lesson (JSON, at most max_lesson_bytes); kept in this process's memory")
async def upload(request: Request, lessons: BookDep, settings: SettingsDep, store: StoreDep, pool: PoolDep) -> dict:
    raw, limit = bytearray(), settings.max_lesson_bytes
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise over_limit("lesson", f"more than {limit} bytes", limit, "max_lesson_bytes", hint="split it into two lessons")
    name, lesson = await pool.run(lessons.add, bytes(raw), lambda lesson: check_runs(lesson, settings, store))
    return {"name": name, "url": f"/lesson/{name}", "api": f"/api/lessons/{name}", "stops": len(lesson.stops)}


def _stop(request: Request, lesson: Lesson) -> int:
    """?stop=N, counted from 1 as the page shows it ("4 / 9")."""
    raw = request.query_params.get("stop", "1")
    n = len(lesson.stops)
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= n):
        raise AppError(422, f"stop: '{raw[:20]}' is not a stop of lesson '{lesson.name}': write a number from 1 to {n}", "stop")
    return int(raw)


def _overrides(request: Request) -> dict:
    """The view state the URL changes from the stop's own (what the student changed, kept by the page's URL)."""
    asked = {k: v for k, v in request.query_params.items() if k != "stop"}
    try:
        return ViewState.model_validate(asked).model_dump(mode="json", exclude_unset=True)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise AppError(422, f"{field}: {first['msg']} (got {json.dumps(first.get('input'), ensure_ascii=False)[:80]})", field) from None


def _page(request: Request, context: dict, status: int = 200, first: str = "") -> HTMLResponse:
    config = {**page_config(request, False), "refused": context.get("refused"), **context}
    config.update(i18n.page_words(config.get("lang", "en")))
    return app_state(request, "templates").TemplateResponse(request, "lesson.html", {"config": config, "refused": config["refused"],
                                                                                   "first_paint": Markup(first)}, status_code=status)


def _first(lesson: Lesson, stop: int, view: dict, settings, store) -> str:
    """The stop's diagram, drawn for the page's first paint (app/first_paint.py); none when the stop, as the URL changes
    it, does not open (the page's script then says why)."""
    try:
        return first_paint.drawing_or_nothing(run.resolve(ViewState.model_validate({**lesson.stops[stop - 1].view, **view}), settings, store))
    except (AppError, ValidationError, cells.CellsError):
        return ""


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "en")
    return lang if lang in LANGS else "en"


@router.get("/lesson", response_class=HTMLResponse, include_in_schema=False)
def lesson_list(request: Request, lessons: BookDep):
    return _page(request, {"listing": lessons.listing(), "lang": _lang(request), "view": {}})


@router.get("/lesson/{name}", response_class=HTMLResponse, include_in_schema=False)
async def lesson_page(request: Request, name: LessonName, lessons: BookDep, settings: SettingsDep, store: StoreDep, pool: PoolDep):
    try:
        lesson = lessons.get(name)
        stop, view = _stop(request, lesson), _overrides(request)
    except AppError as e:  # the page says what is wrong, as the API would, and links the list
        refused = {"status": e.status, "problems": problems({"detail": e.detail}), "home": "/lesson"}
        return _page(request, {"refused": refused, "lang": _lang(request), "view": {}, "listing": lessons.listing()}, e.status)
    data = lesson.model_dump(mode="json")
    first = await pool.run(_first, lesson, stop, view, settings, store)
    # the figures the stop shows, as its view and the URL say: the page is painted with them (templates/_partials.html)
    panels = {**lesson.stops[stop - 1].view, **view}.get("panels") or ViewState.model_fields["panels"].default
    return _page(request, {"lesson": data, "stop": stop, "view": view, "panels": panels, "lang": view.get("lang", "en")}, first=first)
