"""A kind's cell diagram as data: nodes with their shapes' true extents, and every wire as a routed polyline.

The glossary says what each name is computed from; the kind says where
each name sits (``Kind.positions``, on the grid of ``cells/kinds/_grid.py``)
and which names form the state line (``Kind.state_line``). This module
joins the two, for every kind alike: it lays out each name's strip, label
and box or circle, and routes every wire around them (``_grid.Router``), so
the page draws exactly what this says and tests/test_diagram_geometry.py
can check that no wire crosses a shape it does not connect to, no two
wires share a segment and every arrowhead is in the clear. Plain data, no
HTTP: the API serves it as the ``diagram`` of ``GET /api/kinds``.

Sizes are in diagram units. Text is sized in diagram units too (``fonts``):
the page turns them into pixels at the figure's scale, so a label fits its
box at every size, presenter mode included.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from .kinds import get
from .kinds._grid import ARROW_RUN, CLEAR, HEIGHT, STEP, WIDTH, Router, cell
from .kinds.base import Kind
from .spec import Glossary, Name

STRIP_W, STRIP_H = 1.7, 0.36   # a strip of cells; its units are drawn inside this box whatever their number
BOX_W, BOX_H = 1.1, 0.62       # a learned layer's box
OP_R = 0.3                     # a pointwise operation's circle (an ellipse for tanh, which is wider)
LABEL_FONT = 0.24              # a strip's label: font size, and the width of one character at it
CHAR_W = 0.62 * LABEL_FONT
FONTS = {"label": LABEL_FONT, "box": 0.34, "op": 0.36, "op_wide": 0.21}
BUS_Y = 1.4                    # the [x, h(t−1)] line that feeds every gate, as in colah's figures
EXIT_X = WIDTH - 0.25          # where the state line and h(t) leave the cell, with an arrowhead
OP_SYMBOL = {"mul": "×", "add": "+", "clip": "+", "one_minus": "1−", "tanh": "tanh", "identity": "=", "relu": "relu", "sigmoid": "σ"}


def _shape(name: Name) -> str:
    if name.op in ("sigmoid", "tanh", "relu", "identity") and name.operands and name.operands[0].endswith("_pre"):
        return "layer"  # a learned layer: the yellow box of colah's figures
    if name.op in ("mul", "add", "clip", "one_minus", "tanh", "identity"):
        return "op"     # a pointwise operation: the pink circle
    return "strip"


def _style(glossary: Glossary, source: str, target: Name, state_line: list[str]) -> str:
    if source in state_line and target.name in state_line:
        return "state"
    if source in ("c", "c_prev") and target.role == "pre":
        return "peephole"
    if source.endswith("_prev") and target.role == "pre" and source not in ("h_prev", "c_prev"):
        return "gate"   # FGR: last step's gates feed this step's
    if glossary[source].role == "gate" and target.op != "sigmoid":
        return "gate"   # a gate scaling what it gates
    return "main"


def _rect(x: float, y: float, w: float, h: float) -> list[float]:
    return [round(x - w / 2, 3), round(y - h / 2, 3), round(x + w / 2, 3), round(y + h / 2, 3)]


def _node(n: Name, x: float, y: float, shape: str, strip_side: str) -> dict:
    """A name's shapes: its strip, the label over (or under) it, and its box or circle."""
    node = {"name": n.name, "x": x, "y": y, "shape": shape, "label": n.symbol, "mark": None}
    sx, sy = x, y
    if shape == "layer":
        node["mark"] = {"kind": "box", "box": _rect(x, y - 0.9, BOX_W, BOX_H), "text": OP_SYMBOL.get(n.op, n.op), "font": FONTS["box"]}
    elif shape == "op":
        wide = len(OP_SYMBOL.get(n.op, n.op)) > 2
        node["mark"] = {"kind": "circle", "box": _rect(x, y, 2 * OP_R * (1.35 if wide else 1), 2 * OP_R),
                        "text": OP_SYMBOL.get(n.op, n.op), "font": FONTS["op_wide" if wide else "op"]}
        sx, sy = {"up": (x, y + 0.6), "down": (x, y - 0.6), "right": (x + 1.15, y + 0.55)}[strip_side]
    node["strip"] = _rect(sx, sy, STRIP_W, STRIP_H)
    below = strip_side == "down"
    # the label sits right of the strip's centre, so a wire can leave the strip's middle without crossing it
    chars = sum(not unicodedata.combining(ch) for ch in n.symbol)  # c̃ is one character wide
    reserve = 6.5 if n.range == "real" and n.role != "pre" else 0  # "  ±4.35": its scale (diagram-figure.js labelText)
    lw, ly = (chars + reserve) * CHAR_W + 0.06, (sy - STRIP_H / 2 - 0.17) if below else (sy + STRIP_H / 2 + 0.17)
    # a label wider than the strip's right half starts at its left edge; near the diagram's edge it moves left
    left = min(sx + 0.09 if lw <= STRIP_W / 2 - 0.09 else sx - STRIP_W / 2, WIDTH - 0.05 - lw)
    node["text"] = {"text": n.symbol, "x": round(left + 0.03, 3), "y": round(ly, 3),
                    "box": [round(left, 3), round(ly - 0.15, 3), round(left + lw, 3), round(ly + 0.15, 3)], "font": LABEL_FONT}
    return node


def _strip_sides(glossary: Glossary, pos: dict, shapes: dict) -> dict[str, str]:
    """Where a pointwise operation's strip goes: on a side no wire uses (above, else below, else up and to the
    right, clear of all four of its circle's ways in and out)."""
    used: dict[str, set[str]] = {n: set() for n in pos}
    for n in glossary:
        for s in n.operands:
            if s in pos and n.op != "shift":
                (y0, y1) = pos[s][1], pos[n.name][1]
                used[s].add("up" if y1 > y0 + 1e-6 else "down" if y1 < y0 - 1e-6 else "level")
                used[n.name].add("down" if y1 > y0 + 1e-6 else "up" if y1 < y0 - 1e-6 else "level")
    return {n: "up" if "up" not in u else "down" if "down" not in u else "right" for n, u in used.items()}


# -- ports: where a wire may leave or enter a shape -----------------------------------------------------

def _ports(box: list[float], round_: bool) -> list[tuple[tuple[float, float], tuple[int, int], int, float]]:
    """(boundary point, first lattice point outside, outward direction index, cost) for every way out of box.
    A circle has its four compass points; a strip every lattice point along its sides, dearer off centre."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = []
    xs = [cx] if round_ else [i * STEP for i in range(cell(x0 + 0.05), cell(x1 - 0.05) + 1)]
    ys = [cy] if round_ else [j * STEP for j in range(cell(y0 + 0.05), cell(y1 - 0.05) + 1)]
    for d, (dx, dy) in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
        for t in (ys if dx else xs):
            bx, by = ((x1 if dx > 0 else x0), t) if dx else (t, (y1 if dy > 0 else y0))
            first = (_beyond(bx, dx), cell(by)) if dx else (cell(bx), _beyond(by, dy))
            out.append(((round(bx, 3), round(by, 3)), first, d, abs(t - (cy if dx else cx)) * 4))
    return out


def _beyond(v: float, d: int) -> int:
    """The first lattice index past v + d * CLEAR, going in direction d (the router keeps CLEAR off every shape)."""
    return math.floor((v + CLEAR) / STEP + 1e-9) + 1 if d > 0 else math.ceil((v - CLEAR) / STEP - 1e-9) - 1


class _Wiring:
    """Routes a diagram's wires in order: the fixed ones through each layer, the state line, the bus, the rest."""

    def __init__(self, nodes: dict[str, dict]):
        self.nodes = nodes
        obstacles = [b for n in nodes.values() for b in (n["strip"], n["text"]["box"], (n["mark"] or {}).get("box")) if b]
        self.router = Router(WIDTH, HEIGHT, obstacles)
        self.wires: list[dict] = []
        self.trees: dict[str, list] = {}

    def ports(self, name: str, as_target: bool) -> list:
        n = self.nodes[name]
        if n["shape"] == "op":
            return _ports(n["mark"]["box"], True)
        return _ports(n["strip"], False)

    def add(self, net: str, source: str, target: str, style: str, starts: list, goals: dict, arrow: bool) -> bool:
        """Route one wire; starts: [(boundary point or None, lattice point, cost)], goals: lattice point ->
        (boundary point, inward direction, the arrow's straight run, cost)."""
        r = self.router
        begins = {p for _, p, _ in starts}
        goals = {p: g for p, g in goals.items() if not begins & set(g[2])}  # an arrow needs its whole straight run
        path = r.route(net, [(p, c) for _, p, c in starts], {p: (d, c) for p, (_, d, _, c) in goals.items()})
        if path is None:
            raise ValueError(f"diagram: no route for {source} -> {target}")
        begin = next((b for b, p, _ in starts if p == path[0]), None)
        boundary, _, run, _ = goals[path[-1]]
        points = ([begin] if begin else []) + [(p[0] * STEP, p[1] * STEP) for p in path] + ([boundary] if boundary else [])
        points_on = r.commit(net, path, run)
        self.branchable = [q for q in points_on if q not in set(run)]  # never branch off under an arrowhead
        self.trees.setdefault(net, []).extend(self.branchable)
        self.wires.append({"net": net, "source": source, "target": target, "style": style, "arrow": arrow,
                           "joins": begin is None, "points": _simplify(points)})
        return True

    def starts(self, name: str, net: str) -> list:
        return [(b, p, c) for b, p, _, c in self.ports(name, False)] + [(None, p, 0.0) for p in self.trees.get(net, [])]

    def goals(self, name: str, arrow: bool = True) -> dict:
        out = {}
        for b, p, d, c in self.ports(name, True):
            dx, dy = ((1, 0), (0, 1), (-1, 0), (0, -1))[d]
            run = [(p[0] + dx * k, p[1] + dy * k) for k in range(ARROW_RUN if arrow else 1)]
            if all(self.router.free(q, "?") for q in run):
                out[run[-1]] = (b, (d + 2) % 4, run, c)
        return out


def _simplify(points: list) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        q = [round(x, 3), round(y, 3)]
        if out and abs(out[-1][0] - q[0]) < 1e-9 and abs(out[-1][1] - q[1]) < 1e-9:
            continue
        if len(out) >= 2 and _onward(out[-2], out[-1], q):
            out[-1] = q  # a corner that is not one; a wire that doubled back keeps its turn (the tests catch it)
        else:
            out.append(q)
    return out


def _onward(a: list[float], b: list[float], c: list[float]) -> bool:
    """Whether b lies on a straight line from a to c, between them."""
    same_x = abs(a[0] - b[0]) < 1e-9 and abs(b[0] - c[0]) < 1e-9
    same_y = abs(a[1] - b[1]) < 1e-9 and abs(b[1] - c[1]) < 1e-9
    k = 1 if same_x else 0
    return (same_x or same_y) and (b[k] - a[k]) * (c[k] - b[k]) >= 0


def _layers(w: _Wiring, glossary: Glossary) -> None:
    """A learned layer's own two lines, fixed: pre-activation strip up into its box, the box up into its strip."""
    for n in glossary:
        node = w.nodes[n.name]
        if node["shape"] != "layer" or n.operands[0] not in w.nodes:
            continue
        pre, box, strip = w.nodes[n.operands[0]]["strip"], node["mark"]["box"], node["strip"]
        x = node["x"]
        for (y0, y1) in ((pre[3], box[1]), (box[3], strip[1])):
            path = [(cell(x), j) for j in range(int((y0 + CLEAR) / STEP) + 1, int((y1 - CLEAR) / STEP) + 1)]
            if path:
                w.router.commit(n.operands[0], [path[0], path[-1]], path)
            w.wires.append({"net": n.operands[0], "source": n.operands[0], "target": n.name, "style": "main", "arrow": False,
                            "joins": False, "points": [[x, y0], [x, y1]]})


def _state_line(w: _Wiring, state_line: list[str], edges: list[tuple[str, str, str]]) -> None:
    """The state line along the top, first (it is the straightest), and its way out at the right."""
    for source, target, style in edges:
        if style == "state":
            w.add(source, source, target, style, w.starts(source, source), w.goals(target), True)
    if state_line:
        _exit(w, state_line[-1])


def _exit(w: _Wiring, name: str) -> None:
    """The way out of the cell: from name to the right edge, level with it if it can."""
    y = w.nodes[name]["y"]
    goals = {}
    for j in range(1, cell(HEIGHT)):
        run = [(cell(EXIT_X) - k, j) for k in range(ARROW_RUN)]
        if all(w.router.free(q, "?") for q in run):
            goals[run[-1]] = ((EXIT_X, j * STEP), 0, run, abs(j * STEP - y) * 8)
    w.add(name, name, "out", "state" if name in w.state else "main", w.starts(name, name), goals, True)


def _bundles(glossary: Glossary, edges: list[tuple[str, str, str]]) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """Vectors that are read together, as one line that feeds every name reading them all (colah's [x, h(t−1)]):
    x(t) with h(t−1), and FGR's last gates i(t−1), f(t−1), o(t−1). (label, sources, targets)."""
    out = []
    both = [n.name for n in glossary if "x" in n.operands and "h_prev" in n.operands]
    if both:
        out.append(("[x, h(t−1)]", ("x", "h_prev"), both))
    gates = tuple(dict.fromkeys(s for s, _, st in edges if st == "gate" and s.endswith("_prev")))
    if len(gates) > 1:
        out.append((f"[{', '.join(glossary[g].symbol for g in gates)}]", gates,
                    [n.name for n in glossary if all(g in n.operands for g in gates)]))
    return out


def _bus(w: _Wiring, label: str, sources: tuple[str, ...], targets: list[str]) -> set[tuple[str, str]]:
    """Sources join at one point (beside the first, towards the targets), whose line feeds every target;
    returns the edges it draws."""
    first = w.nodes[sources[0]]
    strip = first["strip"]
    junction = (cell(first["x"]), cell(BUS_Y)) if sources[0] == "x" else (_beyond(strip[2], 1) + 1, cell(first["y"]))
    to_junction = {junction: (None, -1, [junction], 0.0)}
    for s in sources:
        w.add(label, s, label, "main", w.starts(s, s), dict(to_junction), False)
    trunk_key = f"{label}:trunk"
    for target in sorted(targets, key=lambda t: abs(w.nodes[t]["x"] - first["x"])):
        w.add(label, label, target, "main", [(None, junction, 0.0)] + [(None, p, 0.0) for p in w.trees.get(trunk_key, [])],
              w.goals(target), True)
        w.trees.setdefault(trunk_key, []).extend(w.branchable)
    return {(s, t) for t in targets for s in sources}


def _route_all(nodes: dict[str, dict], glossary: Glossary, state_line: list[str], edges: list[tuple[str, str, str]]) -> list[dict]:
    w = _Wiring(nodes)
    w.state = state_line
    _layers(w, glossary)
    _state_line(w, state_line, edges)
    done = {e for label, sources, targets in _bundles(glossary, edges) for e in _bus(w, label, sources, targets)}
    done |= {(s, t) for s, t, st in edges if st == "state" or nodes[t]["shape"] == "layer"}
    rest = [e for e in edges if (e[0], e[1]) not in done]
    rest.sort(key=lambda e: abs(nodes[e[0]]["x"] - nodes[e[1]]["x"]) + abs(nodes[e[0]]["y"] - nodes[e[1]]["y"]))
    for source, target, style in rest:
        w.add(source, source, target, style, w.starts(source, source), w.goals(target), True)
    if "h" in nodes and "h" not in state_line:
        _exit(w, "h")
    return w.wires


@lru_cache(maxsize=256)
def _diagram(spec: Kind, options: tuple) -> dict:
    glossary = spec.glossary(dict(options))
    pos = spec.positions(glossary)
    state_line = list(spec.state_line)
    shapes = {n.name: _shape(n) for n in glossary}
    sides = _strip_sides(glossary, pos, shapes)
    nodes = {n.name: _node(n, *pos[n.name], shapes[n.name], sides[n.name]) for n in glossary}
    edges = [(s, n.name, _style(glossary, s, n, state_line)) for n in glossary for s in n.operands if n.op != "shift"]
    # h_prev <- h (the shift) is the recurrence itself, drawn as the way out and in
    wires = _route_all(nodes, glossary, state_line, edges)
    return {"width": WIDTH, "height": HEIGHT, "nodes": list(nodes.values()),
            "edges": [{"source": s, "target": t, "style": st} for s, t, st in edges],
            "state_lines": state_line, "wires": wires, "fonts": FONTS}


def diagram(kind: str, options: dict | None = None) -> dict:
    """The diagram of ``kind`` under ``options``: nodes with their shapes, edges, wires and the state line.

    Cached per kind object and options: treat it as read-only.
    """
    spec = get(kind)
    opts = spec.check_options(options or {})
    return _diagram(spec, tuple(sorted(opts.items())))
