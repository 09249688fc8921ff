"""The still of a notebook widget's run: what a saved notebook shows where no widget runs (GitHub, nbviewer,
nbconvert's HTML, a notebook opened without its kernel), and what the widget shows until its page has drawn.

The diagram at the shown step with that step's numbers, drawn by app/first_paint.py from the kind's description
(cells.diagram: the same nodes, routed wires, labels and fonts the page's static/views/diagram-figure.js draws), and
a summary in words: the model's title (app/wire.py title, as the page's header says it), the steps, the step shown and
its input, and the values of the main states (the kind's state and output: c and h of an LSTM) at that step. Static
HTML: no script, no style sheet, nothing fetched; every text that comes from the run (a title, a token) is escaped.
"""

from __future__ import annotations

import json
from html import escape

import numpy as np

from gatescope import cells

from . import i18n
from .first_paint import drawing, drawn_units
from .run import Run
from .wire import title

UNITS_LISTED = 8  # values per state in the summary's table: the first units the diagram draws
FONT = "font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif"


def number(v: float) -> str:
    """A value as the page prints one: three significant digits, a true minus sign."""
    return f"{v:.3g}".replace("-", "\u2212") if np.isfinite(v) else str(v)


def main_states(kind: str) -> list[str]:
    """The kind's states and output, in the glossary's order (c and h of an LSTM, h of a GRU)."""
    return [n["name"] for n in cells.describe(kind)["glossary"]["names"] if n["role"] in ("state", "output")]


def heading(r: Run, lang: str) -> str:
    """The model's title, with its size and the shown layer and direction when the title does not say them."""
    _, m, named = i18n.translator(lang), r.model, title(r.model, r.source, r.view.seed)
    parts = [named["zh"]["text"] if lang == "zh" else named["text"]]
    parts += [] if named["sized"] else [_("hidden {n}", n=m.hidden_size)]
    parts += [_("layer {i} of {n}", i=r.layer + 1, n=m.num_layers)] if m.num_layers > 1 else []
    parts += [_("reverse ←") if r.direction else _("forward →")] if m.bidirectional else []
    return " · ".join(parts)


def states_table(r: Run, t: int, lang: str) -> str:
    """The main states' values at step t, for the first units the diagram draws."""
    lt = r.trace().layer(r.layer, r.direction)
    chosen = [u for u in (r.model.card or {}).get("units") or [] if isinstance(u, int)] if isinstance(r.model.card, dict) else []
    units = drawn_units(r.model.hidden_size, chosen)[:UNITS_LISTED]
    cell = 'style="padding: 1px 8px; text-align: right"'
    head = "".join(f"<th {cell}>{u}</th>" for u in units)
    rows = []
    for name in (n for n in main_states(r.model.kind) if n in lt and lt[n].shape[1] == r.model.hidden_size):
        values = "".join(f"<td {cell}>{number(float(lt[name][t][u]))}</td>" for u in units)
        rows.append(f'<tr><th {cell}><code>{escape(name)}</code></th>{values}</tr>')
    more = i18n.translator(lang)("units {units} of {width}", units=", ".join(map(str, units)), width=r.model.hidden_size)
    return (f'<table style="border-collapse: collapse; font-size: 12px"><tr><th {cell}></th>{head}</tr>{"".join(rows)}</table>'
            f'<div style="font-size: 12px; color: #5b6270">{escape(more)}</div>')


def still(r: Run, sequence: tuple[int, int] | None = None) -> str:
    """The still of a run's view (app/run Run): its diagram at the view's step and the words around it. ``sequence``:
    (i, n) when the run is one of a batch's n sequences."""
    lang = r.view.lang or "en"
    _ = i18n.translator(lang)
    steps = len(r.parsed.xs)
    t = min(r.view.step, steps - 1)
    token = r.parsed.tokens[t] if t < len(r.parsed.tokens) else ""
    facts = [_("{n} steps", n=steps), _("step {step}", step=t), _("input {token}", token=json.dumps(token, ensure_ascii=False))]
    facts += [_("sequence {i} of {n}", i=sequence[0], n=sequence[1])] if sequence else []
    svg = drawing(r).replace("<svg ", '<svg width="100%" ', 1)
    note = _("A still of step {t}. Run the notebook for the live view: play, step, hover, the heatmaps.", t=t)
    return (f'<div class="gatescope-still" style="{FONT}; max-width: 760px; color: #222">'
            f'<div style="font-weight: 600; font-size: 14px">{escape(heading(r, lang))}</div>'
            f'<div style="font-size: 12px; color: #5b6270">{escape(" · ".join(facts))}</div>'
            f'<div style="margin: 4px 0">{svg}</div>{states_table(r, t, lang)}'
            f'<div style="font-size: 12px; color: #5b6270; margin-top: 4px">{escape(note)}</div></div>')
