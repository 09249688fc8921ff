"""A kind's cell diagram as data: nodes with their shapes' true extents, and every wire as a routed polyline.

The glossary says what each name is computed from; the kind says where
each name sits (``Kind.positions``, on the grid of ``cells/kinds/_grid.py``)
and which names form the state line (``Kind.state_line``). This module
joins the two, for every kind alike: it lays out each name's strip, label
and box or circle, and routes every wire around them (``_grid.Router``), so
the page draws exactly what this says and tests/test_diagram_geometry.py
can check the rules of a slide: no wire crosses or grazes a shape it does
not connect to, no label touches anything, no two wires share a segment
or run side by side, wires bend seldom and never zig-zag, and every
arrowhead is in the clear. Plain data, no HTTP: the API serves it as the
``diagram`` of ``GET /api/kinds``.

Sizes are in diagram units. Text is sized in diagram units too (``fonts``):
the page turns them into pixels at the figure's scale (capped), so a label
fits its box at every size, presenter mode included, and the smallest is
still legible on a phone.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from .kinds import get
from .kinds._grid import ARROW_RUN, CLEAR, HEIGHT, STEP, WIDTH, Router, cell
from .kinds.base import Kind
from .spec import Glossary, Name

# Text is legible on a phone: the narrowest layout gives the diagram PHONE_PX pixels, MARGIN_PX of them the page's
# margins, for its width plus the page's PAD units, and no text may be under MIN_PX there.
PHONE_PX, MARGIN_PX, MIN_PX, PAD = 374, 12, 8.7, 0.3
LABEL_FONT = math.ceil(MIN_PX * (WIDTH + PAD) / (PHONE_PX - MARGIN_PX) * 100) / 100  # 0.31 units at width 12.5
LABEL_H = LABEL_FONT + 0.05    # a label's box: its font and a sliver of backing
STRIP_W, STRIP_H = 1.5, 0.34   # a strip of cells; its units are drawn inside this box whatever their number
BOX_W, BOX_H, BOX_DY = 1.0, 0.56, 0.68  # a learned layer's box, its centre this far under its strip's
OP_R, WIDE = 0.28, 1.5         # a pointwise operation's circle; tanh's is an ellipse this much wider
FONTS = {"label": LABEL_FONT, "box": max(0.32, LABEL_FONT), "op": max(0.32, LABEL_FONT), "op_wide": LABEL_FONT}
EXIT_X = WIDTH - 0.25          # where the state line and h(t) leave the cell, with an arrowhead
BUS_RISE = 0.6                 # the [x, h(t−1)] bus runs this far above x(t), as in colah's figures
OP_SYMBOL = {"mul": "×", "add": "+", "clip": "+", "one_minus": "1−", "tanh": "tanh", "identity": "=", "relu": "relu", "sigmoid": "σ",
             "g": "g", "div": "÷"}
# The width of a text in ems, by DejaVu Sans (the page's font), never less: narrow glyphs, ordinary ones, capitals
# (DejaVu's widest but M and W is O, 0.79), and a full em for the rest (m, M, W, −, ⊙, CJK, anything unforeseen).
_NARROW = set(" ,.:;·'|()[]{}ijlftr")
_ORDINARY = set("abcdeghknopqsuvxyz0123456789_σαβγδεηθλμπρτφψω")
_CAPITAL = set("ABCDEFGHIJKLNOPQRSTUVXYZĀΔΛ")
# Compass points: a label beside its strip, or an operation's strip beside its circle.
_COMPASS = {"n": (0, 1), "s": (0, -1), "e": (1, 0), "w": (-1, 0), "ne": (1, 1), "nw": (-1, 1), "se": (1, -1), "sw": (-1, -1)}


def _em(text: str) -> float:
    return sum(0.0 if unicodedata.combining(ch) else 0.42 if ch in _NARROW else 0.65 if ch in _ORDINARY else 0.79 if ch in _CAPITAL
               else 1.0 for ch in text)


def _shape(name: Name) -> str:
    if name.op in ("sigmoid", "tanh", "relu", "identity", "g") and name.operands and name.operands[0].endswith("_pre"):
        return "layer"  # a learned layer: the yellow box of colah's figures
    if name.op in ("mul", "div", "add", "clip", "one_minus", "tanh", "identity"):
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


def _node(n: Name, x: float, y: float, shape: str, side: str) -> dict:
    """A name's shapes: its strip, and its box or circle (its label comes later, when every shape is known)."""
    node = {"name": n.name, "x": x, "y": y, "shape": shape, "label": n.symbol, "mark": None}
    sx, sy = x, y
    if shape == "layer":
        node["mark"] = {"kind": "box", "box": _rect(x, y - BOX_DY, BOX_W, BOX_H), "text": OP_SYMBOL.get(n.op, n.op), "font": FONTS["box"]}
    elif shape == "op":
        wide = len(OP_SYMBOL.get(n.op, n.op)) > 2
        rx = OP_R * (WIDE if wide else 1)
        node["mark"] = {"kind": "circle", "box": _rect(x, y, 2 * rx, 2 * OP_R),
                        "text": OP_SYMBOL.get(n.op, n.op), "font": FONTS["op_wide" if wide else "op"]}
        dx, dy = _COMPASS[side]  # the strip just clear of the circle and of the wires leaving it the other ways
        sx, sy = x + dx * (rx + CLEAR + STRIP_W / 2), y + dy * (OP_R + CLEAR + STRIP_H / 2)
    node["strip"] = _rect(sx, sy, STRIP_W, STRIP_H)
    return node


def _label_box(node: dict, where: str, text: str) -> list[float]:
    """The box of a label at compass point where of its strip: above or below, beside the strip's centre (where a
    wire leaves it), or level with it on either side."""
    x0, y0, x1, y1 = node["strip"]
    sx, sy, w = (x0 + x1) / 2, (y0 + y1) / 2, _em(text) * LABEL_FONT + 0.06
    dx, dy = _COMPASS[where]
    left = {1: sx + 0.12, -1: sx - 0.12 - w, 0: sx - w / 2}[dx] if dy else (x1 + 0.08 if dx > 0 else x0 - 0.08 - w)
    bottom = {1: y1 + 0.03, -1: y0 - 0.03 - LABEL_H, 0: sy - LABEL_H / 2}[dy]
    return [round(left, 3), round(bottom, 3), round(left + w, 3), round(bottom + LABEL_H, 3)]


def _label(node: dict, n: Name, side: str, wanted: str | None, taken: list[list[float]]) -> None:
    """The label of n: where its position asks, else the first place in the clear of every shape, label and
    corridor (taken): centred on an operation's strip (no wire leaves it), beside the middle of any other
    strip, where its wires leave; a pre-activation's below it (the wire up to its box leaves its top)."""
    order = (["s", "n"] if side.startswith("s") else ["n", "s"]) if node["shape"] == "op" else \
        ["se", "sw", "ne", "nw"] if n.role == "pre" else ["ne", "nw", "se", "sw"]
    boxes = [_label_box(node, where, n.symbol) for where in ([wanted] if wanted else order + ["e", "w"])]
    inside = [b for b in boxes if b[0] >= 0 and b[2] <= WIDTH and b[1] >= 0 and b[3] <= HEIGHT] or boxes
    box = next((b for b in inside if not any(_near(b, t, CLEAR) for t in taken)), inside[0])  # else the tests will say
    node["text"] = {"text": n.symbol, "x": round(box[0] + 0.03, 3), "y": round((box[1] + box[3]) / 2, 3), "box": box, "font": LABEL_FONT}
    taken.append(box)


def _near(a: list[float], b: list[float], d: float) -> bool:
    return a[0] < b[2] + d and b[0] < a[2] + d and a[1] < b[3] + d and b[1] < a[3] + d


def _strip_sides(glossary: Glossary, pos: dict, wanted: dict) -> dict[str, str]:
    """Where a pointwise operation's strip goes: where its position asks, else on a side no wire uses (above,
    else below, else diagonally up, on the side with room), clear of all four of its circle's ways in and out."""
    used: dict[str, set[str]] = {n: set() for n in pos}
    for n in glossary:
        for s in n.operands:
            if s in pos and n.op != "shift":
                (y0, y1) = pos[s][1], pos[n.name][1]
                used[s].add("up" if y1 > y0 + 1e-6 else "down" if y1 < y0 - 1e-6 else "level")
                used[n.name].add("down" if y1 > y0 + 1e-6 else "up" if y1 < y0 - 1e-6 else "level")
    room = {n: pos[n][0] + OP_R + CLEAR + STRIP_W <= WIDTH for n in pos}
    return {n: wanted.get(n) or ("n" if "up" not in u else "s" if "down" not in u else "ne" if room[n] else "nw") for n, u in used.items()}


def _corridors(nodes: dict, glossary: Glossary, state_line: list[str]) -> list[list[float]]:
    """Where wires will surely run, as boxes for the labels to keep off: each layer's own two lines, the state
    line, the bus, and every wire between two names in line with each other (positions are chosen so those run straight)."""
    out = []
    line = [nodes[s] for s in state_line if s in nodes]
    if line:
        out.append([line[0]["strip"][2], line[-1]["y"], EXIT_X, line[-1]["y"]])
    for n in glossary:
        a = nodes[n.name]
        if a["shape"] == "layer":
            out.append([a["x"], nodes[n.operands[0]]["strip"][3], a["x"], a["strip"][1]])
        if "x" in n.operands and "h_prev" in n.operands:
            y = nodes["x"]["y"] + BUS_RISE
            out.append([nodes["x"]["x"], y, a["x"], y])
        for b in (nodes[s] for s in n.operands if s in nodes and n.op != "shift"):
            if abs(a["x"] - b["x"]) < 0.05 or abs(a["y"] - b["y"]) < 0.05:
                out.append([min(a["x"], b["x"]), min(a["y"], b["y"]), max(a["x"], b["x"]), max(a["y"], b["y"])])
    return out


# -- ports: where a wire may leave or enter a shape -----------------------------------------------------

def _ports(box: list[float], round_: bool) -> list[tuple[tuple[float, float], tuple[int, int], int, float]]:
    """(boundary point, first lattice point outside, outward direction index, cost) for every way out of box.
    A circle has its four compass points; a strip every lattice point along its sides, dearer off centre (a
    unit off centre costs as much as 15 units of wire)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = []
    xs = [cx] if round_ else [i * STEP for i in range(cell(x0 + 0.05), cell(x1 - 0.05) + 1)]
    ys = [cy] if round_ else [j * STEP for j in range(cell(y0 + 0.05), cell(y1 - 0.05) + 1)]
    for d, (dx, dy) in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
        for t in (ys if dx else xs):
            bx, by = ((x1 if dx > 0 else x0), t) if dx else (t, (y1 if dy > 0 else y0))
            first = (_beyond(bx, dx), cell(by)) if dx else (cell(bx), _beyond(by, dy))
            out.append(((round(bx, 3), round(by, 3)), first, d, abs(t - (cy if dx else cx)) * 15))  # colah's arrows meet a box mid-side
    return out


def _beyond(v: float, d: int) -> int:
    """The first lattice index past v + d * CLEAR, going in direction d (the router keeps CLEAR off every shape)."""
    return math.floor((v + CLEAR) / STEP + 1e-9) + 1 if d > 0 else math.ceil((v - CLEAR) / STEP - 1e-9) - 1


class _Wiring:
    """Routes a diagram's wires in order: the fixed ones through each layer, the state line, the bus, the rest."""

    def __init__(self, nodes: dict[str, dict]):
        self.nodes = nodes
        obstacles = [b for n in nodes.values() for b in (n["strip"], n["text"]["box"], (n["mark"] or {}).get("box")) if b]
        # nothing squeezes between a box and the strip it feeds: the two read as one
        obstacles += [[n["mark"]["box"][0], n["mark"]["box"][1], n["mark"]["box"][2], n["strip"][1]] for n in nodes.values() if n["shape"] == "layer"]
        self.router = Router(WIDTH, HEIGHT, obstacles)
        self.wires: list[dict] = []
        self.trees: dict[str, list] = {}

    def ports(self, name: str, as_target: bool) -> list:
        n = self.nodes[name]
        if n["shape"] == "op":
            return _ports(n["mark"]["box"], True)
        return _ports(n["strip"], False)

    def add(self, net: str, source: str, target: str, style: str, starts: list, goals: dict, arrow: bool) -> bool:
        """Route one wire; starts: [(boundary point or None, lattice point, cost, outward direction or -1)], goals: lattice point ->
        (boundary point, inward direction, the arrow's straight run, cost)."""
        r = self.router
        # two shapes face to face, closer than a start point and an arrow's run: the one straight line between them
        facing = sorted((c + g[3], p, g) for b, p, c, _ in starts if b for g in goals.values()
                        if p in g[2] and r.free(p, net) and (abs(b[0] - g[0][0]) < 1e-6 or abs(b[1] - g[0][1]) < 1e-6))
        begins = {p for _, p, _, _ in starts}
        goals = {p: (b, d, run, c + sum(r.near(q, d % 2, net) for q in run))  # the arrow's run keeps off other wires too
                 for p, (b, d, run, c) in goals.items() if not begins & set(run)}  # an arrow needs its whole straight run
        if facing:
            _, p, goal = facing[0]
            path, goals = [p, goal[2][0]], {goal[2][0]: goal}
        else:
            path = r.route(net, [(p, c, d) for _, p, c, d in starts], {p: (d, c) for p, (_, d, _, c) in goals.items()})
        if path is None:
            raise ValueError(f"diagram: no route for {source} -> {target}")
        begin = next((b for b, p, _, _ in starts if p == path[0]), None)
        boundary, _, run, _ = goals[path[-1]]
        points = ([begin] if begin else []) + [(p[0] * STEP, p[1] * STEP) for p in path] + ([boundary] if boundary else [])
        points_on = r.commit(net, path, run)
        self.branchable = [q for q in points_on if q not in set(run)]  # never branch off under an arrowhead
        self.trees.setdefault(net, []).extend(self.branchable)
        self.wires.append({"net": net, "source": source, "target": target, "style": style, "arrow": arrow,
                           "joins": begin is None, "points": _simplify(points)})
        return True

    def starts(self, name: str, net: str) -> list:
        """A wire leaves its source's shape straight out (turning at once would be a bend too), or branches off its net."""
        return [(b, p, c, d) for b, p, d, c in self.ports(name, False)] + [(None, p, 0.0, -1) for p in self.trees.get(net, [])]

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
    """A learned layer's own two lines, fixed: pre-activation strip up into its box, the box up into its strip.
    Another wire may cross the first (FGR's gate bus does, as colah's lines cross), never the short second."""
    for n in glossary:
        node = w.nodes[n.name]
        if node["shape"] != "layer" or n.operands[0] not in w.nodes:
            continue
        pre, box, strip = w.nodes[n.operands[0]]["strip"], node["mark"]["box"], node["strip"]
        x = node["x"]
        for (y0, y1), crossable in (((pre[3], box[1]), True), ((box[3], strip[1]), False)):
            path = [(cell(x), j) for j in range(int((y0 + CLEAR) / STEP) + 1, int((y1 - CLEAR) / STEP) + 1)]
            if path:
                w.router.commit(n.operands[0], [path[0], path[-1]], [] if crossable else path)
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
    returns the edges it draws. A source that feeds more than the bus has its own line to the junction, so its
    other wires may branch off it (colah's h(t−1) comes down the left and on into the bus; x(t) up and on into a
    GRU's candidate): the junction is theirs and the bus's. The other sources' lines are the bus's own, and may meet."""
    first = w.nodes[sources[0]]
    strip = first["strip"]
    junction = (cell(first["x"]), cell(first["y"] + BUS_RISE)) if sources[0] == "x" else (_beyond(strip[2], 1) + 1, cell(first["y"]))
    w.router.share(junction)
    for s in sources:
        net = s if any(src == s and t not in targets for src, t, _ in w.edges) else label
        w.add(net, s, label, "main", w.starts(s, s), {junction: (None, -1, [junction], 0.0)}, False)
    trunk = [junction]  # the bus branches off itself, never off a source's line
    for target in sorted(targets, key=lambda t: abs(w.nodes[t]["x"] - first["x"])):
        up = 1 if junction[1] * STEP < w.nodes[target]["y"] else 3  # into the layer from the bus's side, as colah's
        facing = {p: g for p, g in w.goals(target).items() if g[1] == up}
        w.add(label, label, target, "main", [(None, p, 0.0, -1) for p in trunk], facing or w.goals(target), True)
        trunk += w.branchable
    return {(s, t) for t in targets for s in sources}


def _route_all(nodes: dict[str, dict], glossary: Glossary, state_line: list[str], edges: list[tuple[str, str, str]]) -> list[dict]:
    w = _Wiring(nodes)
    w.state, w.edges = state_line, edges
    _layers(w, glossary)
    _state_line(w, state_line, edges)
    done = {e for label, sources, targets in _bundles(glossary, edges) for e in _bus(w, label, sources, targets)}
    done |= {(s, t) for s, t, st in edges if st == "state" or nodes[t]["shape"] == "layer"}
    rest = [e for e in edges if (e[0], e[1]) not in done]
    # the straight ones first (names in line: the positions mean them to be), then the shortest first
    rest.sort(key=lambda e: (min(abs(nodes[e[0]]["x"] - nodes[e[1]]["x"]), abs(nodes[e[0]]["y"] - nodes[e[1]]["y"])) > 0.05,
                             abs(nodes[e[0]]["x"] - nodes[e[1]]["x"]) + abs(nodes[e[0]]["y"] - nodes[e[1]]["y"])))
    for source, target, style in rest:
        w.add(source, source, target, style, w.starts(source, source), w.goals(target), True)
    if "h" in nodes and "h" not in state_line:
        _exit(w, "h")
    return w.wires


@lru_cache(maxsize=256)
def _diagram(spec: Kind, options: tuple) -> dict:
    glossary = spec.glossary(dict(options))
    placed = spec.positions(glossary)
    pos = {name: (p[0], p[1]) for name, p in placed.items()}
    wanted = {name: p[2] for name, p in placed.items() if len(p) > 2}  # (x, y, where): where its strip and label go
    state_line = list(spec.state_line)
    shapes = {n.name: _shape(n) for n in glossary}
    sides = _strip_sides(glossary, pos, {k: w["strip"] for k, w in wanted.items() if "strip" in w})
    nodes = {n.name: _node(n, *pos[n.name], shapes[n.name], sides[n.name]) for n in glossary}
    taken = [b for v in nodes.values() for b in (v["strip"], (v["mark"] or {}).get("box")) if b] + _corridors(nodes, glossary, state_line)
    for n in glossary:
        _label(nodes[n.name], n, sides[n.name], wanted.get(n.name, {}).get("label"), taken)
    # h_prev <- h (the shift) is the recurrence itself, drawn as the way out and in; a name that reads one operand twice
    # (ā² = ā ⊙ ā) takes one wire from it
    edges = list(dict.fromkeys((s, n.name, _style(glossary, s, n, state_line))
                               for n in glossary for s in n.operands if n.op != "shift"))
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
