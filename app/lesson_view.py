"""The view state's lesson fields, declared here and joined to ViewState in app/schemas.py.

Both only change the picture (VIEW_ONLY): a stop that lights up other parts, or the page read in Chinese, is the
same run of the same model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

LANGS = ("en", "zh")

LESSON_FIELDS: dict[str, Any] = {
    "lang": (Literal[LANGS], Field("en", description=(  # type: ignore[valid-type]
        "The language of the page's own strings and of a lesson's text: en (English) or zh (Chinese)."))),
    "highlight": (str, Field("", max_length=400, pattern=r"^[a-z_,]*$", description=(
        "Comma-separated glossary names the diagram lights up (forget_gate,kept); a lesson stop sets it. "
        "The units shown are the view state's units."))),
}
LESSON_VIEW_ONLY = tuple(LESSON_FIELDS)
