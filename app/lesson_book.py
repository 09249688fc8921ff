"""Lessons: a story told in stops, each a live view of the page, as data (JSON, one lesson a file).

A lesson file is read, never executed: JSON parsed and validated by the models below, its text plain (no HTML; the
page shows it as text, with *emphasis* and $math$ typeset by KaTeX), every stop's view a ViewState. Built-in lessons
ship in lessons/ (installed as app/lessons); a lecturer's own come from the folder in the setting lesson_dir, read as
they are asked for, or by upload (POST /api/lessons), kept in memory, at most max_uploaded_lessons of them.
A stop may quote numbers of its run (facts): tests/test_lessons.py checks each against the model's own trace.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from itertools import accumulate
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .config import Settings
from .errors import AppError, over_limit
from .schemas import ViewState

PACKAGE = Path(__file__).parent
MAX_STOPS = 100
NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"
#: what a stop's view may not say: the API's own fields, and the language, which is the reader's choice
NOT_IN_A_STOP = ("format", "names", "digits", "compare", "lang")
HTML = re.compile(r"<\s*[a-zA-Z/!?]|&[a-zA-Z#][a-zA-Z0-9]*;")
#: how deep a lesson file may nest arrays and objects: a lesson needs 6 (stops, a stop, its facts, a fact, its steps);
#: json.loads recurses once a level, and a file of 100,000 [ would exhaust the stack (RecursionError, a 500)
MAX_NESTING = 32
#: a JSON string, or an unterminated one to the end of the text: every match succeeds, so a text of 100,000 "\ is
#: one pass, not a failed attempt at each of its quotes
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.S)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def builtin_dir() -> Path:
    """lessons/: inside the installed package, or at the top of a source checkout (as templates/ and static/)."""
    installed = PACKAGE / "lessons"
    return installed if installed.is_dir() else PACKAGE.parent / "lessons"


def _plain(text: str) -> str:
    if m := HTML.search(text):
        raise ValueError(f"plain text only: {m.group(0)!r} reads as HTML; write *emphasis* and $math$ instead")
    if text.count("$") % 2:
        raise ValueError("an unclosed $: math is written between two $ signs, $c(t)$")
    return text


Plain = Annotated[str, Field(min_length=1, max_length=1_500), AfterValidator(_plain)]


class Text(BaseModel):
    """The same words in every language the page speaks."""

    model_config = ConfigDict(extra="forbid", strict=True)
    en: Plain
    zh: Plain


class Fact(BaseModel):
    """A number a stop's text quotes, as it is written there ("0.83"): the mean over ``steps`` of one unit of one name
    of the stop's run (a glossary name, or "prediction" for the model's output, unit = the output's index)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(pattern=r"^[a-z_]{1,40}$")
    unit: int = Field(ge=0, le=1_000_000)
    steps: list[Annotated[int, Field(ge=0, le=10_000_000)]] = Field(min_length=1, max_length=1_000)
    value: str = Field(pattern=r"^-?\d{1,6}\.\d{1,4}$", description="as the text writes it, with its decimals")


class Stop(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    title: Text
    text: Text
    try_this: Text | None = None
    view: dict[str, Any] = Field(description="the view state the stop opens: the names of GET /api/trace")
    facts: list[Fact] = Field(default_factory=list, max_length=40)

    @field_validator("view")
    @classmethod
    def _a_view_state(cls, view: dict[str, Any]) -> dict[str, Any]:
        if bad := [k for k in NOT_IN_A_STOP if k in view]:
            raise ValueError(f"'{bad[0]}' is not for a stop to choose (a stop's view may not set {', '.join(NOT_IN_A_STOP)})")
        if not any(view.get(k) for k in ("preset", "kind", "model")):
            raise ValueError("a stop names its model: preset, kind or model")
        ViewState.model_validate(view)  # its errors name the field inside view
        return view

    def state(self) -> ViewState:
        return ViewState.model_validate(self.view)

    @property
    def quoted(self) -> list[str]:
        """Every decimal number the text writes (in any language): each must be a fact. A "try this" may name numbers
        to type (0.90 at step 36): instructions, not claims."""
        words = [self.text.en, self.text.zh]
        return [n.replace("\u2212", "-") for w in words for n in re.findall(r"[\u2212-]?\d+\.\d+", w)]


class Lesson(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(pattern=NAME)
    order: int = Field(100, ge=0, le=10_000, description="where /lesson lists it: lower first, then by name")
    title: Text
    summary: Text | None = None
    stops: list[Stop] = Field(min_length=1, max_length=MAX_STOPS)

    def summary_row(self, source: str) -> dict:
        return {"name": self.name, "order": self.order, "title": self.title.model_dump(), "summary": self.summary and self.summary.model_dump(),
                "stops": len(self.stops), "source": source, "url": f"/lesson/{self.name}", "api": f"/api/lessons/{self.name}"}


def where(error: dict) -> str:
    return ".".join(str(p) for p in error["loc"]) or "lesson"


def _nested(origin: str, how: str) -> AppError:
    return AppError(422, f"{origin}: arrays and objects nested {how}; a lesson file may nest them at most {MAX_NESTING} "
                         "levels deep (a lesson needs 6)", origin)


def too_deep(text: str, origin: str) -> None:
    """AppError(422) when ``text`` nests arrays and objects more than MAX_NESTING deep, counted before it is parsed
    (brackets inside strings do not count; text that is not JSON is left to json.loads to name)."""
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    if len(brackets) > MAX_NESTING and (depth := max(accumulate(1 if b in "[{" else -1 for b in brackets))) > MAX_NESTING:
        raise _nested(origin, f"{depth} levels deep")


def unpaired_surrogate(data: Any, origin: str) -> None:
    """AppError(422) for the first string or key (in the file's order) holding half of a UTF-16 surrogate pair, as the
    escape \\ud800 writes one: JSON reads it, but it is no character, and UTF-8 can neither store it nor send it back."""
    todo: list[tuple[Any, str, str]] = [(data, "", "text")]
    while todo:  # a loop, not recursion: what is left to look at, the next first
        value, path, what = todo.pop()
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                inner = f"{path}.{key}".lstrip(".")
                todo += [(item, inner, "text"), (key, inner, "key")]
        elif isinstance(value, list):
            todo += [(item, f"{path}.{i}".lstrip("."), "text") for i, item in reversed(list(enumerate(value)))]
        elif isinstance(value, str) and (m := SURROGATE.search(value)):
            path = path.encode("utf-8", "backslashreplace").decode("utf-8") or origin
            raise AppError(422, f"{origin}: {path}: the {what} holds an unpaired surrogate (\\u{ord(m.group()):04x}) at character "
                                f"{m.start()}: half of a UTF-16 pair is no character, and cannot be stored or sent back; write the "
                                "character itself, or both halves of its pair (\\ud83d\\ude00)", path)


def read(raw: bytes, settings: Settings | None, origin: str = "lesson") -> Lesson:
    """A lesson file's bytes as a Lesson, or a 4xx naming the field, the value and the limit (settings None: a
    built-in lesson, which no setting caps)."""
    if settings and len(raw) > settings.max_lesson_bytes:
        raise over_limit(origin, f"{len(raw)} bytes", settings.max_lesson_bytes, "max_lesson_bytes", hint="split it into two lessons")
    try:
        text = raw.decode("utf-8")
        too_deep(text, origin)
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AppError(422, f"{origin}: not a JSON lesson file ({e})", origin) from None
    except RecursionError:  # too_deep lets nothing this deep through; kept in case MAX_NESTING is ever raised past it
        raise _nested(origin, "too deep to read") from None
    if SURROGATE_ESCAPE.search(text):  # only an escape can write a surrogate: UTF-8 holds none
        unpaired_surrogate(data, origin)
    try:
        return Lesson.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        got = json.dumps(first.get("input"), ensure_ascii=False)[:120] if "input" in first else ""
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise AppError(422, f"{origin}: {where(first)}: {first['msg']}" + (f" (got {got})" if got else "") + more,
                       where(first)) from None


class LessonBook:
    """The lessons a server offers: built-in, then the lecturer's folder (which may replace one), then uploads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.builtin = {p.stem: read(p.read_bytes(), None, p.name) for p in sorted(builtin_dir().glob("*.json"))}
        self.uploads: OrderedDict[str, Lesson] = OrderedDict()

    def _folder_files(self) -> dict[str, Path]:
        folder = self.settings.lesson_dir
        return {p.stem: p for p in sorted(folder.glob("*.json"))} if folder and folder.is_dir() else {}

    def _from_file(self, path: Path) -> Lesson:
        size, limit = path.stat().st_size, self.settings.max_lesson_bytes
        if size > limit:  # not read at all
            raise over_limit(path.name, f"{size} bytes", limit, "max_lesson_bytes", hint="split it into two lessons")
        lesson = read(path.read_bytes(), self.settings, path.name)
        if lesson.name != path.stem:
            raise AppError(422, f"{path.name}: name: '{lesson.name}' is not the file's name; call the file {lesson.name}.json", "name")
        return lesson

    def listing(self) -> dict:
        """Every lesson in one row each; a folder file that does not read is named with what is wrong with it."""
        rows = {name: lesson.summary_row("built-in") for name, lesson in self.builtin.items()}
        problems = []
        for name, path in self._folder_files().items():
            try:
                rows[name] = self._from_file(path).summary_row("folder")
            except AppError as e:
                problems.append({"file": path.name, "status": e.status, "detail": e.detail, "field": e.field})
        rows.update({name: lesson.summary_row("upload") for name, lesson in self.uploads.items()})
        listed = sorted(rows.values(), key=lambda row: (row["order"], row["name"]))
        return {"lessons": listed, "problems": problems}

    def get(self, name: str) -> Lesson:
        if name in self.uploads:
            self.uploads.move_to_end(name)
            return self.uploads[name]
        if path := self._folder_files().get(name):
            return self._from_file(path)
        if name in self.builtin:
            return self.builtin[name]
        known = ", ".join(sorted({*self.builtin, *self._folder_files()})) or "none"
        raise AppError(404, f"lesson: no lesson named '{name}' (this server has: {known}; GET /api/lessons lists them)", "lesson")

    def add(self, raw: bytes, check=lambda lesson: None) -> tuple[str, Lesson]:
        """An uploaded lesson, kept under its name and the start of its content's hash: the same file is the same link,
        and nobody's upload replaces another's."""
        if self.settings.max_uploaded_lessons == 0:
            raise AppError(403, "lesson uploads are turned off on this server (setting GATESCOPE_MAX_UPLOADED_LESSONS is 0)", "lesson")
        lesson = read(raw, self.settings)
        check(lesson)  # every stop opens (app/routers/lessons.py check_runs)
        name = f"{lesson.name[:54]}-{hashlib.sha256(raw).hexdigest()[:8]}"
        lesson = lesson.model_copy(update={"name": name})
        self.uploads[name] = lesson
        self.uploads.move_to_end(name)
        while len(self.uploads) > self.settings.max_uploaded_lessons:
            self.uploads.popitem(last=False)
        return name, lesson
