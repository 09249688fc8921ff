"""The cell diagram's geometry, as the page draws it, for every kind and option (tests/cases.py).

cells.diagram lays out every strip, label, box and circle and routes every wire; the page draws exactly
that (static/views/diagram-figure.js). These are the rules a reader relies on:

- no wire crosses a shape (strip, label, box, circle) of a name it does not connect;
- no two wires of different sources share a segment (one source's wires may branch, as a bus does);
- every arrowhead is in the clear: at the end of a straight run long enough for it, over no shape and
  under no other wire;
- no shape or label sits on another, and everything lies inside the diagram's extents;
- every edge of the glossary is drawn by a wire (directly, or through the bus that carries it).
"""

from __future__ import annotations

import itertools

import pytest

import cells
from tests.cases import CASES, IDS

EPS = 1e-6
ARROW_LEN, ARROW_HALF = 0.16, 0.09  # the page's arrowhead (diagram-figure.js): 1.6 × 0.09 long, 0.09 either side


def segments(points):
    return list(itertools.pairwise(points))


def seg_hits_box(a, b, box, inset=0.005):
    """Whether segment a-b (axis-aligned) passes through box shrunk by inset (touching its edge is not crossing)."""
    x0, y0, x1, y1 = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return lo_x < x1 and hi_x > x0 and lo_y < y1 and hi_y > y0


def boxes_overlap(p, q):
    return p[0] < q[2] - EPS and q[0] < p[2] - EPS and p[1] < q[3] - EPS and q[1] < p[3] - EPS


def shapes(d):
    """(owner, what, box) of every shape in the diagram."""
    out = []
    for n in d["nodes"]:
        out.append((n["name"], "strip", n["strip"]))
        out.append((n["name"], "label", n["text"]["box"]))
        if n["mark"]:
            out.append((n["name"], n["mark"]["kind"], n["mark"]["box"]))
    return out


def shared(s, t):
    """Length two axis-aligned segments share (0 when they only cross or touch)."""
    (a, b), (c, e) = s, t
    if abs(a[0] - b[0]) < EPS and abs(c[0] - e[0]) < EPS and abs(a[0] - c[0]) < EPS:
        lo, hi = max(min(a[1], b[1]), min(c[1], e[1])), min(max(a[1], b[1]), max(c[1], e[1]))
        return max(0.0, hi - lo)
    if abs(a[1] - b[1]) < EPS and abs(c[1] - e[1]) < EPS and abs(a[1] - c[1]) < EPS:
        lo, hi = max(min(a[0], b[0]), min(c[0], e[0])), min(max(a[0], b[0]), max(c[0], e[0]))
        return max(0.0, hi - lo)
    return 0.0


@pytest.fixture(params=CASES, ids=IDS, scope="module")
def drawn(request):
    kind, opts = request.param
    return cells.diagram(kind, opts)


def test_wires_are_orthogonal_polylines_inside_the_diagram(drawn):
    for w in drawn["wires"]:
        assert len(w["points"]) >= 2, w
        for (a, b), (_, c) in itertools.pairwise(segments(w["points"])):
            turn = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
            assert abs(turn) < EPS, f"{w['source']} -> {w['target']}: {a}-{b}-{c} is not a right-angle turn"  # nor doubles back
        for a, b in segments(w["points"]):
            assert abs(a[0] - b[0]) < EPS or abs(a[1] - b[1]) < EPS, (w["source"], w["target"], a, b)
            assert 0 <= a[0] <= drawn["width"] and 0 <= a[1] <= drawn["height"] + 0.4
    for _, what, box in shapes(drawn):
        assert 0 <= box[0] < box[2] <= drawn["width"] and 0 <= box[1] < box[3] <= drawn["height"] + 0.4, (what, box)


def test_no_wire_crosses_a_shape_it_does_not_connect(drawn):
    for w in drawn["wires"]:
        ends = {w["source"], w["target"]}
        for owner, what, box in shapes(drawn):
            if owner in ends and what != "label":
                continue  # a wire leaves its source's strip or circle and enters its target's; labels it avoids too
            for a, b in segments(w["points"]):
                assert not seg_hits_box(a, b, box), f"{w['source']} -> {w['target']} crosses the {what} of {owner}: {a}-{b}"


def test_no_two_wires_of_different_sources_share_a_segment(drawn):
    for v, w in itertools.combinations(drawn["wires"], 2):
        if v["net"] == w["net"]:
            continue
        for s in segments(v["points"]):
            for t in segments(w["points"]):
                assert shared(s, t) < EPS, f"{v['source']}->{v['target']} and {w['source']}->{w['target']} share {s} / {t}"


def test_every_arrowhead_is_in_the_clear(drawn):
    for w in (w for w in drawn["wires"] if w["arrow"]):
        (x0, y0), (x1, y1) = w["points"][-2], w["points"][-1]
        length = abs(x1 - x0) + abs(y1 - y0)
        assert length >= ARROW_LEN + 0.05, f"{w['source']} -> {w['target']}: its last straight run is {length:.2f}"
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        bx, by = x1 - dx * ARROW_LEN, y1 - dy * ARROW_LEN
        head = [min(x1, bx) - abs(dy) * ARROW_HALF, min(y1, by) - abs(dx) * ARROW_HALF,
                max(x1, bx) + abs(dy) * ARROW_HALF, max(y1, by) + abs(dx) * ARROW_HALF]
        for owner, what, box in shapes(drawn):
            inset = [box[0] + 0.005, box[1] + 0.005, box[2] - 0.005, box[3] - 0.005]
            assert not boxes_overlap(head, inset), f"the arrowhead of {w['source']} -> {w['target']} lies on the {what} of {owner}"
        for v in drawn["wires"]:
            if v["joins"] and v is not w:
                x, y = v["points"][0]
                assert not (head[0] <= x <= head[2] and head[1] <= y <= head[3]), f"{v['source']} -> {v['target']} branches off under an arrowhead"
            if v is w or v["net"] == w["net"]:
                continue
            for a, b in segments(v["points"]):
                assert not seg_hits_box(a, b, head, 0.0), f"{v['source']} -> {v['target']} runs over the arrowhead of {w['source']} -> {w['target']}"


def test_no_shape_or_label_sits_on_another(drawn):
    for (o1, w1, b1), (o2, w2, b2) in itertools.combinations(shapes(drawn), 2):
        if o1 != o2 or "label" in (w1, w2) and "strip" not in (w1, w2):
            assert not boxes_overlap(b1, b2), f"the {w1} of {o1} overlaps the {w2} of {o2}"


def test_every_edge_is_drawn_by_a_wire(drawn):
    direct = {(w["source"], w["target"]) for w in drawn["wires"]}
    for e in drawn["edges"]:
        via = [w["target"] for w in drawn["wires"] if w["source"] == e["source"] and (w["target"], e["target"]) in direct]
        assert (e["source"], e["target"]) in direct or via, f"{e['source']} -> {e['target']} is not drawn"


def test_the_state_line_and_h_leave_the_cell_at_the_right(drawn):
    out = [w for w in drawn["wires"] if w["target"] == "out"]
    leaving = {w["source"] for w in out}
    assert drawn["state_lines"][-1:] == [s for s in drawn["state_lines"][-1:] if s in leaving]
    assert "h" in leaving or "h" in drawn["state_lines"]
    for w in out:
        assert w["arrow"] and w["points"][-1][0] == pytest.approx(drawn["width"] - 0.25)
