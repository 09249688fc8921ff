"""The grid every kind's diagram is drawn on, in the style of colah's figures, and the GRU/MGU positions.

Coordinates are in diagram units (width 14, height 9, y up). The learned
layers sit in a row above the inputs x(t) and h(t-1), pointwise products
between them and the state line, and the state line (the LSTM's cell state,
the GRU's hidden state) runs along the top. Each kind places its own names
(``Kind.positions``); ``cells.diagram`` turns that into nodes and edges.
"""

from __future__ import annotations

WIDTH, HEIGHT = 14.0, 9.0
PRE, ACT, MID, TOP = 2.4, 4.2, 6.1, 8.0  # rows: pre-activations, gates, products, state line

#: gru and mgu share one drawing: the old state runs along the top, blended with the candidate at the right.
GATED = {
    "x": (2.2, 0.5), "h_prev": (0.9, TOP),
    "reset_gate_pre": (2.8, PRE), "reset_gate": (2.8, ACT),
    "candidate_recurrent": (4.7, PRE), "reset_recurrent": (4.7, ACT), "reset_hidden": (4.7, MID),
    "candidate_pre": (6.6, PRE), "candidate": (6.6, ACT),
    "update_gate_pre": (8.6, PRE), "update_gate": (8.6, ACT), "update_complement": (9.9, MID),
    "forget_gate_pre": (2.8, PRE), "forget_gate": (2.8, ACT), "forget_complement": (8.6, MID),  # MGU: under the kept it scales
    "kept": (8.6, TOP), "written": (11.3, MID), "h": (11.3, TOP),
}
GATED_STATE_LINE = ("h_prev", "kept", "h")


# -- wiring: orthogonal routes on a 0.1-unit lattice -------------------------------------------------
#
# Every wire of a diagram is routed here, once per kind and options (cells.diagram caches it), so the
# description the page draws holds the true geometry and a test can check it. A wire is a search for the
# cheapest lattice path: each step costs 1, each bend BEND, each crossing of another wire CROSS, running
# right beside another wire NEAR. A wire may not enter an obstacle (a strip, its label, a box or a circle:
# the caller lists them, inflated by CLEAR), run along a lattice edge another net already runs along, or
# pass through a point where another net bends, ends or joins. Wires of one net (one source) may share:
# a later wire of a net may start anywhere on the net's earlier wires (the caller passes them), a branch.

import heapq  # noqa: E402  (the routing half of the module)

STEP = 0.1
CLEAR = 0.06
BEND, CROSS, NEAR = 6.0, 3.0, 1.5
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

    def _inside(self, p: tuple[int, int]) -> bool:
        return p not in self.blocked and 0 <= p[0] <= self.nx and 0 <= p[1] <= self.ny

    def _others_node(self, p: tuple[int, int], net: str) -> bool:
        ns = self.nodes.get(p)
        return bool(ns) and (len(ns) > 1 or net not in ns)

    def free(self, p: tuple[int, int], net: str) -> bool:
        """Whether net may have a node (bend, end, join) at p."""
        if not self._inside(p) or self._others_node(p, net):
            return False
        ax = self.axes.get(p)
        return not ax or all(n == net for n in ax)

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
        side = (0, 1) if axis == 0 else (1, 0)
        for s in (1, -1):
            q = self.axes.get((p[0] + side[0] * s, p[1] + side[1] * s))
            if q and any(n != net and axis in a for n, a in q.items()):
                cost += NEAR
        return cost

    def route(self, net: str, starts: list[tuple[tuple[int, int], float]], goals: dict[tuple[int, int], tuple[int, float]]):
        """The cheapest lattice path from one of starts ((point, cost)) to one of goals (point -> (direction index
        the wire must arrive in, or -1 for any; extra cost)); None when there is none."""
        x0, x1 = min((g[0] for g in goals), default=0), max((g[0] for g in goals), default=0)
        y0, y1 = min((g[1] for g in goals), default=0), max((g[1] for g in goals), default=0)

        def h(p):  # steps to the goals' bounding box: never more than the true cost
            return max(0, x0 - p[0], p[0] - x1) + max(0, y0 - p[1], p[1] - y1)

        heap, best, came = [], {}, {}
        for p, c in starts:
            if self.free(p, net) and best.get((p, -1), 1e18) > c:
                best[(p, -1)] = c
                heapq.heappush(heap, (c + h(p), c, p, -1))
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
