"""The view state's what-if fields (cells.clamp), declared here and joined to ViewState in app/schemas.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gatescope.cells.clamp import MAX_TEXT

CLAMP_FIELDS: dict[str, Any] = {
    "clamp": (str | None, Field(None, max_length=MAX_TEXT, description=(
        "What if: gates or states held at values, holds joined by ';'. forget:1 holds the forget gate at 1 (every unit, "
        "every step); input[3]:0@10- holds unit 3 of the input gate at 0 from step 10 on; units [0,2,5] or [2-5], steps "
        "@5, @3-7 or @10-; l1.forget:1 holds layer 1 only. Names: the kind's glossary (forget_gate, c, h, candidate) or a "
        "gate's short word. The answer's request.clamp says what was applied, in the glossary's names."))),
    "clamp_compare": (bool, Field(False, description=(
        "With a clamp, the stream also carries the run without it: each step row holds the clamped fields, then the same "
        "names unclamped (header.original_fields), so the page can show both or their difference."))),
    "clamp_view": (Literal["clamped", "original", "difference"], Field("clamped", description=(
        "With a clamp, which run the page's views show: the held one, the one without the holds, or their difference "
        "(held − original). The page asks for clamp_compare itself."))),
}
