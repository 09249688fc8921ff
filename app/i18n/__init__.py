"""The page's own words in each language (the view state's lang): English is the source, as gettext has it (each
message's English is its key), and ``zh.json`` maps each English message to its Chinese. A lesson's text and the
engine's words (a kind's phases and labels, a preset's card) carry their own Chinese; these are the words around them.

Templates call ``_('…')``, with ``{name}`` fields filled from keywords (``_('Stop {i} of {n}', i=4, n=10)``); the
page's scripts get the language's table in their config (``words``) and call ``tr('…')`` (static/core/i18n.js), so
both sides read one table. A message a table lacks stays English; tests/test_i18n.py finds every message the
templates and scripts use and checks that zh.json has it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..lesson_view import LANGS

HERE = Path(__file__).resolve().parent


@cache
def words(lang: str) -> dict[str, str]:
    """English message -> its words in lang (empty for English, and for a language with no table)."""
    path = HERE / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8")) if lang != "en" and path.is_file() else {}


def translator(lang: str):
    """_(message, **fields): the message in lang, its {fields} filled."""
    table = words(lang)

    def _(message: str, **fields) -> str:
        text = table.get(message, message)
        return text.format(**fields) if fields else text
    return _


def lang_of(query) -> str:
    """The language a request's query asks for (lang=zh), English for anything else."""
    lang = query.get("lang", "en")
    return lang if lang in LANGS else "en"


def page_words(lang: str) -> dict:
    """What a page's config carries for its scripts: its language and that language's table."""
    return {"lang": lang, "words": words(lang)}


def context(request) -> dict:
    """The templates' context processor: _ in the request's language."""
    return {"_": translator(lang_of(request.query_params)), "lang": lang_of(request.query_params)}
