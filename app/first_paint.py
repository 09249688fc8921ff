"""The diagram's first drawing, in the page's HTML: the first paint shows the cell with the step's numbers, before
any script has loaded (issue 17: the first diagram painted with the HTML).

It draws the kind's description (cells.diagram, in diagram units) as an SVG whose viewBox is those units, so the
browser scales it into the diagram's box whatever its size: every wire, arrowhead, box, circle, strip and label,
each strip's cells coloured with the step's values on the palette's scales, exactly as static/views/diagram-figure.js
lays them out (a strip's units in balanced rows of at most ROW; the units shown when not all fit; a gate on 0…1, a
bounded value on −1…1, a pre-activation on one ±max, any other unbounded vector on its own ±max). The colours and
sizes are static/core/look.js's, which the page imports too. The page's script then draws its own figure (with the
legend, at the box's pixels) in its place: this one only has to be right until then, and a browser test checks
that its cells hold the step's numbers and colours.
"""

from __future__ import annotations

import json
import logging
import math
from functools import cache
from html import escape

import numpy as np

MAX_UNITS, ROW = 24, 12                          # static/views/diagram-figure.js DIAGRAM.maxUnits, ROW
PAD = {"left": 0.2, "right": 0.1, "bottom": 0.1, "top": 0.4}
NOMINAL_PPU = 50                                 # pixels a unit is drawn at before the page fits the figure (1024 px wide)
OP_SYMBOL_MARGIN = 0.86                          # a cell's side in its slot, as the page draws it


@cache
def look() -> dict:
    """The diagram's palettes, sizes and ink: static/core/look.js, a module whose default export is JSON, read here."""
    from .shell import asset_dir
    text = (asset_dir("static") / "core" / "look.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("{", text.index("export default")):text.rindex("}") + 1])


def _rgb(hex_colour: str) -> tuple[int, ...]:
    n = int(hex_colour[1:], 16)
    return (n >> 16) & 255, (n >> 8) & 255, n & 255


def colour_at(v: float, scale: list, cmin: float, cmax: float) -> str:
    """The colour of v on a colorscale of [offset, "#rrggbb"] stops between cmin and cmax (clamped), as colorAt does."""
    if not math.isfinite(v):
        return look()["ink"]["missing"]
    x = min(1.0, max(0.0, (v - cmin) / (cmax - cmin)))
    for (x0, c0), (x1, c1) in zip(scale, scale[1:]):
        if x <= x1:
            f = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
            mix = [round(a + f * (b - a)) for a, b in zip(_rgb(c0), _rgb(c1))]
            return f"rgb({mix[0]},{mix[1]},{mix[2]})"
    last = _rgb(scale[-1][1])
    return f"rgb({last[0]},{last[1]},{last[2]})"


def drawn_units(width: int, chosen: list[int]) -> list[int]:
    """The units a strip draws: all when they fit, else the chosen ones (sorted, at most MAX_UNITS), else the first ones."""
    if width <= MAX_UNITS:
        return list(range(width))
    picked = sorted({u for u in chosen if 0 <= u < width})[:MAX_UNITS]
    return picked or list(range(MAX_UNITS))


def strip_cells(n: int, box: list[float]) -> tuple[list[tuple[float, float]], float]:
    """Centres (x, y up) of n cells in a strip's box, in balanced rows of at most ROW, and a cell's side."""
    x0, y0, x1, y1 = box
    rows = math.ceil(n / ROW)
    per_row = math.ceil(n / rows)
    side = min((x1 - x0) / per_row, (y1 - y0) / rows)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    centres = [(cx + ((i % per_row) + 0.5 - per_row / 2) * side, cy + ((rows - 1) / 2 - i // per_row) * side) for i in range(n)]
    return centres, side * OP_SYMBOL_MARGIN


def scales(glossary: dict, values: dict[str, np.ndarray], maxima: dict[str, float], palette: dict) -> dict[str, tuple]:
    """(colorscale, cmin, cmax) of each name: a gate on 0…1, a bounded value on −1…1, the pre-activations on one ±max,
    any other unbounded name on its own ±max (at least 1), as views/diagram.js colours them."""
    pre = max([1.0] + [maxima.get(n, 1.0) for n, v in glossary.items() if v["range"] == "real" and v["role"] == "pre"])
    out = {}
    for name, v in glossary.items():
        if v["range"] == "unit":
            out[name] = (palette["unit"], 0.0, 1.0)
        elif v["range"] == "real":
            m = pre if v["role"] == "pre" else max(1.0, maxima.get(name, 1.0))
            out[name] = (palette["signed"], -m, m)
        else:
            out[name] = (palette["signed"], -1.0, 1.0)
    return out


class _Svg:
    """SVG elements in diagram units, y up (the description's), written y down, in three layers as the page draws
    them: wires and marks, then the strips, then arrowheads, symbols and labels on top. faded: the owners a later
    phase computes (drawn at a quarter of their ink)."""

    def __init__(self, width: float, height: float, faded: set[str]):
        self.top, self.faded = height + PAD["top"], faded
        self.layers: dict[str, list[str]] = {"below": [], "strips": [], "above": []}

    def y(self, v: float) -> float:
        return round(self.top - v, 4)

    def add(self, layer: str, tag: str, text: str | None = None, owner: str = "", **attrs) -> None:
        if owner in self.faded:
            attrs["opacity"] = 0.25
        a = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
        self.layers[layer].append(f"<{tag} {a}>{escape(text)}</{tag}>" if text is not None else f"<{tag} {a}/>")


def _wire(svg: _Svg, w: dict, pal: dict, size: dict) -> None:
    state, peephole = w["style"] == "state", w["style"] == "peephole"
    colour = pal["highlight"] if peephole else pal["state"] if state else pal["line"]
    width = (size["stateLine"] if state else size["line"] * (0.8 if peephole else 1)) / NOMINAL_PPU
    d = " ".join(f"{'L' if i else 'M'}{x:.3f} {svg.y(y)}" for i, (x, y) in enumerate(w["points"]))
    dash = {"stroke_dasharray": f"{width:.4f} {2 * width:.4f}"} if peephole else {}
    owner = "given" if w["source"].startswith("[") else w["target"]  # the [x, h(t−1)] bus is the step's input, never faded
    svg.add("below", "path", owner=owner, d=d, fill="none", stroke=colour, stroke_width=f"{width:.4f}", stroke_linejoin="round", **dash)
    if w.get("joins"):
        x, y = w["points"][0]
        svg.add("below", "circle", owner=owner, cx=x, cy=svg.y(y), r=0.06, fill=colour)
    if w.get("arrow"):
        (x0, y0), (x1, y1) = w["points"][-2], w["points"][-1]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        dx, dy, s = (x1 - x0) / length, (y1 - y0) / length, 0.13 if state else 0.09
        b = 1.6 * s  # the arrowhead of views/diagram-figure.js arrowHead
        tri = [(x1, y1), (x1 - dx * b - dy * s, y1 - dy * b + dx * s), (x1 - dx * b + dy * s, y1 - dy * b - dx * s)]
        svg.add("above", "path", owner=owner, d="M" + " L".join(f"{x:.3f} {svg.y(y)}" for x, y in tri) + " Z", fill=colour)


def _mark(svg: _Svg, n: dict, pal: dict, size: dict, ink: dict, cap: float, lit: bool) -> None:
    """A learned layer's box or an operation's circle, outlined in the highlight colour when its phase is shown."""
    x0, y0, x1, y1 = n["mark"]["box"]
    box, name = n["mark"]["kind"] == "box", n["name"]
    edge = pal["highlight"] if lit else ink["layerEdge" if box else "opEdge"]
    line = {"stroke": edge, "stroke_width": f"{size['line'] * (2.4 if lit else 1) / NOMINAL_PPU:.4f}"}
    if box:
        svg.add("below", "rect", owner=name, x=x0, y=svg.y(y1), width=round(x1 - x0, 4), height=round(y1 - y0, 4), fill=pal["layer"], **line)
    else:
        svg.add("below", "ellipse", owner=name, cx=(x0 + x1) / 2, cy=svg.y((y0 + y1) / 2), rx=(x1 - x0) / 2, ry=(y1 - y0) / 2, fill=pal["op"], **line)
    svg.add("above", "text", n["mark"]["text"], owner=name, x=(x0 + x1) / 2, y=svg.y((y0 + y1) / 2), text_anchor="middle",
            dominant_baseline="central", font_size=min(n["mark"]["font"], cap), fill=ink["layerText" if box else "opText"])


def _strip(svg: _Svg, n: dict, units: list[int], values: np.ndarray | None, scale: tuple, ink: dict, cap: float) -> None:
    centres, side = strip_cells(len(units), n["strip"])
    cells = []
    for (x, y), u in zip(centres, units):
        v = None if values is None or u >= len(values) else float(values[u])
        fill = ink["paper"] if v is None else colour_at(v, *scale)  # not computed yet (or no numbers): an empty cell
        value = "" if v is None else f' data-value="{v!r}"'
        cells.append(f'<rect class="cell" data-unit="{u}"{value} x="{x - side / 2:.4f}" y="{svg.y(y) - side / 2:.4f}" '
                     f'width="{side:.4f}" height="{side:.4f}" fill="{fill}"/>')
    svg.layers["strips"].append(f'<g class="strip" data-name="{escape(n["name"])}" stroke="{ink["cellEdge"]}" stroke-width="0.01">{"".join(cells)}</g>')
    t, name = n["text"], n["name"]
    bx0, by0, bx1, by1 = t["box"]
    svg.add("above", "rect", owner=name, x=bx0, y=svg.y(by1), width=round(bx1 - bx0, 4), height=round(by1 - by0, 4), fill=ink["labelBg"])
    svg.add("above", "text", t["text"], owner=name, x=t["x"], y=svg.y(t["y"]), dominant_baseline="central", font_size=min(t["font"], cap),
            fill=ink["label"])


def svg(description: dict, glossary: list[dict], widths: dict[str, int], values: dict[str, np.ndarray] | None,
        maxima: dict[str, float], chosen: list[int], palette_name: str = "classic", presenter: bool = False, title: str = "",
        later: set[str] = frozenset(), lit: set[str] = frozenset()) -> str:
    """The diagram of a kind's description with one step's values (name -> that step's vector; None: no numbers yet):
    an <svg> in diagram units, filling its box. widths: each name's width; chosen: the hidden units to draw when
    not all fit; later: the names a later phase computes (faded, empty); lit: the marks outlined (the phase's own,
    a lesson stop's highlight)."""
    look_ = look()
    pal = look_["palettes"].get(palette_name) or look_["palettes"]["classic"]
    size, ink = look_["sizes"]["presenter" if presenter else "normal"], look_["ink"]
    cap = size["small"] / NOMINAL_PPU  # the page caps a text's font in pixels: this is that cap at a projector's scale
    by_name = {v["name"]: v for v in glossary}
    W, H = description["width"], description["height"]
    out = _Svg(W, H, set(later))
    colour = scales(by_name, values or {}, maxima, pal)
    for w in description["wires"]:
        _wire(out, w, pal, size)
    hidden = widths.get("h", 0)
    for n in description["nodes"]:
        if n.get("mark"):
            _mark(out, n, pal, size, ink, cap, n["name"] in lit)
        width = widths.get(n["name"], hidden)
        units = drawn_units(width, chosen if width == hidden else [])
        shown = None if values is None or n["name"] in later else values.get(n["name"])
        _strip(out, n, units, shown, colour[n["name"]], ink, cap)
    x0, vw, vh = -PAD["left"], W + PAD["left"] + PAD["right"], H + PAD["top"] + PAD["bottom"]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram-svg first-paint" viewBox="{x0} 0 {vw} {vh}" '
            f'preserveAspectRatio="xMidYMin meet" role="img" aria-label="{escape(title)}" font-family="{escape(look_["font"])}">'
            f'<rect class="paper" x="{x0}" y="0" width="{vw}" height="{vh}" fill="{ink["paper"]}"/>'
            + "".join(f'<g class="{k}">{"".join(v)}</g>' for k, v in out.layers.items()) + "</svg>")


# -- the step the page opens at, computed for its first drawing ----------------------------------------------------

#: the work the page's answer may wait for (app/run.py's multiply-adds, a step's overhead included: about 20 ms); the
#: page's stream then sends the same run, made once. A view that costs more is drawn without numbers, which the stream
#: fills in a moment later
FIRST_PAINT_WORK = 100_000_000


def step_values(r, t: int) -> tuple[dict[str, np.ndarray], dict[str, float]] | None:
    """The shown layer and direction's values at step t and each name's largest |value| over the run, or None when the
    view's numbers are not the run's own (the difference of a held run) or would cost more than FIRST_PAINT_WORK.
    The run is the request's own (app/run.py): the page's stream, made for the same view, reads it again, not anew."""
    view = r.view
    if r.clamp and view.clamp_view == "difference":
        return None
    # the whole input: the page colours an unbounded name on its largest |value| over the run, which it has by the
    # time it draws (and the reverse direction's step t depends on every later step)
    if r.made.cost.macs > FIRST_PAINT_WORK:
        return None
    lt = r.trace(clamped=view.clamp_view != "original").layer(r.layer, r.direction)
    values = {n: np.asarray(lt[n][t], dtype=np.float64) for n in lt}
    maxima = {n: float(np.nanmax(np.abs(lt[n]), initial=0.0)) for n in lt}
    return values, maxima


def kind_info(kind: str, options: dict) -> dict:
    from .wire import kind_info as described
    return described(kind, options)


def drawing(r) -> str:
    """The first drawing of a resolved view (app/run.py Run): its kind's description with the values of the
    step it opens at; in a phase, the parts a later phase computes are faded and empty, as the page shows them."""
    info = kind_info(r.model.kind, r.model.options)
    view, T = r.view, len(r.parsed.xs)
    t = min(view.step, T - 1)
    got = step_values(r, t) if T else None
    values, maxima = got if got else (None, {})
    phases = [p["name"] for p in info["glossary"]["phases"]]
    glossary = info["glossary"]["names"]
    at = phases.index(view.phase) if view.phase in phases else len(phases)
    later = {v["name"] for v in glossary if phases.index(v["phase"]) > at}
    lit = {v["name"] for v in glossary if v["phase"] == view.phase} | {n for n in (view.highlight or "").split(",") if n}
    sizes = r.model.spec.sizes(r.model.input_size, r.model.hidden_size, r.model.options)
    widths = {v["name"]: sizes.get(v.get("size", "hidden_size"), r.model.hidden_size) for v in glossary}
    widths["h"] = widths.get("h", r.model.hidden_size)
    card = (r.model.card or {}).get("units")
    chosen = [int(u) for u in (view.units or "").split(",") if u.strip().isdigit()] or [u for u in card or [] if isinstance(u, int)]
    return svg(info["diagram"], glossary, {**widths, "h": r.model.hidden_size}, values, maxima, chosen, view.palette, view.presenter,
               f"the {info['title']} diagram", later, lit)


def drawing_or_nothing(r) -> str:
    """drawing(r), or "" if it fails or the view hides the diagram: the first drawing is a courtesy, the page's own
    figure follows regardless."""
    if "diagram" not in (r.view.panels or "").split(","):
        return ""
    try:
        return drawing(r)
    except Exception:  # noqa: BLE001 — a bug here must never cost the page; the test suite checks the drawing itself
        logging.getLogger(__name__).exception("the first drawing of %s failed", r.model.kind)
        return ""
