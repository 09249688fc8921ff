"""The grid every kind's diagram is drawn on, in the style of colah's figures, and the GRU/MGU positions.

Coordinates are in diagram units (width 12.5, height 8, y up). The inputs
x(t) and h(t-1) meet on a bus at the bottom that feeds a row of learned
layers (pre-activation strip, box, activation strip); pointwise operations
sit above them, and the state line (the LSTM's cell state, the GRU's hidden
state) runs along the top. Each kind places its own names
(``Kind.positions``); ``cells.diagram`` turns that into nodes and wires.

A position is (x, y), or (x, y, where): where says on which side of its
circle an operation's strip goes ("strip": "n", "s", "e", "w", "ne", "nw",
"se", "sw") and where a name's label goes beside its strip ("label": the
same compass points), when the first free choice would not be the clean one.

The extents are as small as keeps things uncrowded: a text's size is fixed
in pixels (legible on a phone, cells.diagrams.LABEL_FONT), so a narrower
diagram means larger strips, boxes and circles for the same text.
"""

from __future__ import annotations

WIDTH, HEIGHT = 12.5, 8.0
PRE, ACT, MID, TOP = 1.6, 3.0, 4.5, 6.8  # rows: pre-activations, gates, products, state line (the bus runs under PRE)
# (a circle's centre is on the router's 0.1 lattice, so that its wires meet it square)
PRE_TO_ACT = ACT - PRE

#: colah's GRU figure, for Cho et al.'s GRU (gru with reset_after=False) and the MGU: h(t−1) along the top and
#: down the left into the [h(t−1), x(t)] bus; the σ boxes r and z, then the tanh box; r ⊙ h(t−1) above r, fed from
#: the left, and on into the candidate's matmul; z straight up to the top ×, its 1 − z on the way to the × over
#: the candidate. The MGU's one gate f plays r and z both; its 1 − f sits on the line up to the top × (it is
#: (1 − f) that keeps the old state there). Note that the engine's z weights the OLD state (torch's convention),
#: so the top × is z ⊙ h(t−1), where colah's is (1 − z) ⊙ h(t−1): the drawing follows him, the math the engine.
GATED = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP),
    "reset_gate_pre": (3.1, PRE), "reset_gate": (3.1, ACT), "reset_hidden": (3.1, 4.1, {"strip": "n"}),  # h(t−1) comes in from the left
    "forget_gate_pre": (3.1, PRE), "forget_gate": (3.1, ACT),
    "update_gate_pre": (5.3, PRE), "update_gate": (5.3, ACT), "update_complement": (6.6, 4.8),
    "forget_complement": (5.3, 5.5),
    "candidate_pre": (7.9, PRE), "candidate": (7.9, ACT),
    "kept": (5.3, TOP), "written": (7.9, 4.8), "h": (7.9, TOP),
}
#: PyTorch's GRU (reset_after=True): r scales W_hn·h(t−1) AFTER the matmul, so the candidate's column stands a
#: row up and r(t) → × → n_pre runs straight along the gates' row, W_hn·h(t−1) coming down into the ×; z, at the
#: left, straight up to the top ×, its 1 − z on the way to the × over the candidate.
GATED_TORCH = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP),
    "update_gate_pre": (2.9, PRE), "update_gate": (2.9, ACT), "update_complement": (5.8, 5.5),
    "reset_gate_pre": (4.9, PRE), "reset_gate": (4.9, ACT),
    "candidate_recurrent": (7.0, MID, {"label": "n"}), "reset_recurrent": (7.0, ACT),
    "candidate_pre": (8.7, ACT), "candidate": (8.7, ACT + PRE_TO_ACT),
    "kept": (2.9, TOP), "written": (8.7, 5.5), "h": (8.7, TOP),
}
GATED_STATE_LINE = ("h_prev", "kept", "h")


# -- wiring: orthogonal routes on a 0.1-unit lattice -------------------------------------------------
#
# Every wire of a diagram is routed here, once per kind and options (cells.diagram caches it), so the
# description the page draws holds the true geometry and a test can check it. A wire is a search for the
# cheapest lattice path: each step costs 1, each bend BEND, each crossing of another wire CROSS, running
# beside another net's wire NEAR (one lattice step away) or NEAR / 2 (two steps: closer than a quarter unit
# two lines read as one). A wire may not come within CLEAR of an obstacle (a strip, a label, a box or a
# circle: the caller lists them), run along a lattice edge another net already runs along, or pass through
# a point where another net bends, ends or joins. Wires of one net (one source) may share: a later wire of
# a net may start anywhere on the net's earlier wires (the caller passes them), a branch.

import heapq  # noqa: E402  (the routing half of the module)

STEP = 0.1
CLEAR = 0.1  # ≈ 4 px at lecture scale: a wire passing a shape never seems to touch it
BEND, CROSS, NEAR = 10.0, 3.0, 4.0  # a bend costs a unit of wire: colah's wires bend seldom
ARROW_RUN = 3  # lattice steps of straight line before an arrowhead, so it is never drawn on a bend
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def cell(v: float) -> int:
    return round(v / STEP)


class Router:
    """Routes wires one by one; each routed wire becomes an obstacle of the kind the rules above say."""

    def __init__(self, width: float, height: float, obstacles: list[tuple[float, float, float, float]]):
        self.nx, self.ny = cell(width), cell(height)
        self.blocked: set[tuple[int, int]] = set()
        for x0, y0, x1, y1 in obstacles:
            for i in range(max(0, int((x0 - CLEAR) / STEP) + 1), min(self.nx, int((x1 + CLEAR) / STEP)) + 1):
                for j in range(max(0, int((y0 - CLEAR) / STEP) + 1), min(self.ny, int((y1 + CLEAR) / STEP)) + 1):
                    if x0 - CLEAR < i * STEP < x1 + CLEAR and y0 - CLEAR < j * STEP < y1 + CLEAR:
                        self.blocked.add((i, j))
        self.axes: dict[tuple[int, int], dict[str, set[int]]] = {}  # point -> net -> axes it runs along (0 x, 1 y)
        self.nodes: dict[tuple[int, int], set[str]] = {}           # points where a net bends, ends or joins
        self.shared: set[tuple[int, int]] = set()                   # junctions, where several nets may end

    def _inside(self, p: tuple[int, int]) -> bool:
        return p not in self.blocked and 0 <= p[0] <= self.nx and 0 <= p[1] <= self.ny

    def _others_node(self, p: tuple[int, int], net: str) -> bool:
        ns = self.nodes.get(p)
        return bool(ns) and (len(ns) > 1 or net not in ns) and p not in self.shared

    def share(self, p: tuple[int, int]) -> None:
        """Let several nets end at p: a junction, where the bus's sources meet and the bus begins."""
        self.shared.add(p)

    def free(self, p: tuple[int, int], net: str) -> bool:
        """Whether net may have a node (bend, end, join) at p."""
        if not self._inside(p) or self._others_node(p, net):
            return False
        ax = self.axes.get(p)
        return not ax or all(n == net for n in ax) or p in self.shared

    def _step_cost(self, p: tuple[int, int], axis: int, net: str) -> float | None:
        if not self._inside(p) or self._others_node(p, net):
            return None
        cost = 1.0
        ax = self.axes.get(p)
        if ax:
            for n, a in ax.items():
                if n != net:
                    if axis in a:
                        return None  # would share a segment with another net
                    cost = 1.0 + CROSS
        return cost + self.near(p, axis, net)

    def near(self, p: tuple[int, int], axis: int, net: str) -> float:
        """What running through p along axis costs for the other nets' wires beside it."""
        cost, side = 0.0, (0, 1) if axis == 0 else (1, 0)
        for k in (1, -1, 2, -2):
            q = self.axes.get((p[0] + side[0] * k, p[1] + side[1] * k))
            if q and any(n != net and axis in a for n, a in q.items()):
                cost += NEAR / abs(k)
        return cost

    def route(self, net: str, starts: list[tuple[tuple[int, int], float, int]], goals: dict[tuple[int, int], tuple[int, float]]):
        """The cheapest lattice path from one of starts ((point, cost, direction index the wire leaves in, or -1 for
        any)) to one of goals (point -> (direction index the wire must arrive in, or -1 for any; extra cost)); None
        when there is none."""
        x0, x1 = min((g[0] for g in goals), default=0), max((g[0] for g in goals), default=0)
        y0, y1 = min((g[1] for g in goals), default=0), max((g[1] for g in goals), default=0)

        def h(p):  # steps to the goals' bounding box: never more than the true cost
            return max(0, x0 - p[0], p[0] - x1) + max(0, y0 - p[1], p[1] - y1)

        heap, best, came = [], {}, {}
        for p, c, d in starts:
            if self.free(p, net) and best.get((p, d), 1e18) > c:
                best[(p, d)] = c
                heapq.heappush(heap, (c + h(p), c, p, d))
        while heap:
            _, g, p, d = heapq.heappop(heap)
            if g > best.get((p, d), 1e18):
                continue
            if d == -2:
                return _unwind(came, (p, d))
            for nd, (dx, dy) in enumerate(_DIRS):
                if d >= 0 and nd == (d + 2) % 4:
                    continue
                bend = d >= 0 and nd != d
                if bend and not self.free(p, net):
                    continue
                q = (p[0] + dx, p[1] + dy)
                c = self._step_cost(q, nd % 2, net)
                if c is None:
                    continue
                ng = g + c + (BEND if bend else 0.0)
                if best.get((q, nd), 1e18) > ng:
                    best[(q, nd)], came[(q, nd)] = ng, (p, d)
                    heapq.heappush(heap, (ng + h(q), ng, q, nd))
            if p in goals and d != -2:
                want, extra = goals[p]
                if want >= 0 and d == (want + 2) % 4:
                    continue  # arrived walking out along the arrow's run: it would double back over itself
                ng = g + extra + (BEND if want >= 0 and d >= 0 and d != want else 0.0)
                if self.free(p, net) and best.get((p, -2), 1e18) > ng:
                    best[(p, -2)], came[(p, -2)] = ng, (p, d)
                    heapq.heappush(heap, (ng, ng, p, -2))
        return None

    def commit(self, net: str, path: list[tuple[int, int]], fixed: list[tuple[int, int]] = ()) -> list[tuple[int, int]]:
        """Make path (lattice corners) part of net; fixed: points only net may touch (an arrow's straight run).
        Returns every lattice point of the path, where later wires of the net may branch off."""
        for a, b in zip(path, path[1:]):
            axis = 0 if a[1] == b[1] else 1
            for p in _between(a, b):
                self.axes.setdefault(p, {}).setdefault(net, set()).add(axis)
        for k in range(1, len(path) - 1):
            (ax, ay), (bx, by), (cx, cy) = path[k - 1], path[k], path[k + 1]
            if (bx - ax, by - ay) != (cx - bx, cy - by):
                self.nodes.setdefault(path[k], set()).add(net)
        for p in [path[0], path[-1], *fixed]:
            self.nodes.setdefault(p, set()).add(net)
        return [q for a, b in zip(path, path[1:]) for q in _between(a, b)]


def _between(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[int, int]]:
    (ax, ay), (bx, by) = a, b
    n = max(abs(bx - ax), abs(by - ay))
    return [(ax + (bx - ax) * k // max(n, 1), ay + (by - ay) * k // max(n, 1)) for k in range(n + 1)]


def _unwind(came: dict, state) -> list[tuple[int, int]]:
    """The lattice points of a found path, start first, with only its corners kept."""
    points = []
    while state in came:
        state = came[state]
        points.append(state[0])
    points.reverse()
    out: list[tuple[int, int]] = []
    for p in points:
        if out and out[-1] == p:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == p[0] or out[-2][1] == out[-1][1] == p[1]):
            out[-1] = p
        else:
            out.append(p)
    return out
