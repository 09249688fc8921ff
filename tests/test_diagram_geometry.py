"""The cell diagram's geometry, as the page draws it, for every kind and option (tests/cases.py).

cells.diagram lays out every strip, label, box and circle and routes every wire; the page draws exactly
that (static/views/diagram-figure.js). These are the rules a reader relies on:

- no wire crosses a shape (strip, label, box, circle) of a name it does not connect;
- no two wires of different sources share a segment (one source's wires may branch, as a bus does);
- every arrowhead is in the clear: at the end of a straight run long enough for it, over no shape and
  under no other wire;
- no shape or label sits on another, and everything lies inside the diagram's extents;
- every edge of the glossary is drawn by a wire (directly, or through the bus that carries it).

And the rules that make it a slide (colah's figures), at the sizes a lecturer uses:

- every text is legible on a phone: the narrowest layout gives the diagram PHONE_PX pixels for its width
  plus the page's 0.3 units of padding, and no text may then be under MIN_PX pixels;
- every text fits its label box, box or circle, by the widths of DejaVu Sans, the page's font;
- a label overlaps nothing: no other label, shape or wire (its own wires included);
- a wire keeps CLEARANCE off every shape and label of names it does not connect;
- no two wires of different nets run side by side closer than NEAR_GAP over more than NEAR_RUN;
- a wire has few bends, and no jog (two bends turning opposite ways closer than JOG);
- a wire takes no long way round: at most DETOUR longer than the straight-line (Manhattan) distance of its ends.
"""

from __future__ import annotations

import itertools
import math
import unicodedata

import pytest

from gatescope import cells
from tests.cases import CASES, IDS

EPS = 1e-6
ARROW_LEN, ARROW_HALF = 0.16, 0.09  # the page's arrowhead (diagram-figure.js): 1.6 × 0.09 long, 0.09 either side
PHONE_PX, MIN_PX, PAD = 374, 8.7, 0.3  # a phone's diagram width, the smallest legible font, the page's padding (units)
CLEARANCE = 0.1                  # a wire's gap to a shape it passes: ≈ 4 px at lecture scale
NEAR_GAP, NEAR_RUN = 0.25, 0.3   # closer than this, over longer than that, two wires read as one
JOG = 0.5                        # two bends turning opposite ways closer than this: a zig-zag
MAX_BENDS = 3                    # an ordinary wire: colah's bend once or twice
DETOUR = 1.0                     # units of wire more than the Manhattan distance of its ends
# DejaVu Sans advance widths (em), measured in Chromium; anything else counts as a full em (CJK is).
EM = {**dict.fromkeys(" ,·", 0.32), **dict.fromkeys("ilf", 0.35), **dict.fromkeys("()[]tr", 0.41), "_": 0.5, "s": 0.52,
      "z": 0.53, "c": 0.55, "k": 0.58, **dict.fromkeys("xvy", 0.59), **dict.fromkeys("0123456789abdeghnopquσ", 0.64),
      **dict.fromkeys("w−⊙×+=±", 0.84), **dict.fromkeys("mW", 0.99),
      **dict.fromkeys("ABCDEFGHIJKLNOPQRSTUVXYZĀΔΛ", 0.79)}   # DejaVu's capitals: O and Q the widest, but M and W


def keeps_every_rule(drawn, skip: tuple[str, ...] = ()) -> int:
    """Every check of this file that takes a drawn diagram, on ``drawn`` (a kind outside the registry's cases, or a layout
    of some options), but those named in ``skip``; how many ran."""
    import inspect
    checks = [f for name, f in globals().items() if name.startswith("test_") and name not in skip
              and list(inspect.signature(f).parameters) == ["drawn"]]
    for check in checks:
        check(drawn)
    return len(checks)


def text_em(text):
    return sum(0.0 if unicodedata.combining(ch) else EM.get(ch, 1.0) for ch in text)


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
            assert 0 <= a[0] <= drawn["width"] and 0 <= a[1] <= drawn["height"]
    for _, what, box in shapes(drawn):  # the padding above is the page's, for the units note (diagram-figure.js)
        assert 0 <= box[0] < box[2] <= drawn["width"] and 0 <= box[1] < box[3] <= drawn["height"], (what, box)


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


# -- a slide: legible, uncluttered, wired as colah wires ------------------------------------------

def texts(d):
    """(owner, what, text, font, box) of every text the page draws from the description."""
    out = [(n["name"], "label", n["text"]["text"], n["text"]["font"], n["text"]["box"]) for n in d["nodes"]]
    return out + [(n["name"], n["mark"]["kind"], n["mark"]["text"], n["mark"]["font"], n["mark"]["box"]) for n in d["nodes"] if n["mark"]]


def gap(a, b, box):
    """The distance from axis-aligned segment a-b to box (0 when they touch or cross)."""
    dx = max(box[0] - max(a[0], b[0]), min(a[0], b[0]) - box[2], 0.0)
    dy = max(box[1] - max(a[1], b[1]), min(a[1], b[1]) - box[3], 0.0)
    return math.hypot(dx, dy)


def bends(points):
    """(corner, turn: +1 left / -1 right, length of the run before it) of every corner of a polyline."""
    out = []
    for a, b, c in zip(points, points[1:], points[2:]):
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        out.append((b, 1 if cross > 0 else -1, abs(b[0] - a[0]) + abs(b[1] - a[1])))
    return out


def test_every_text_is_legible_on_a_phone(drawn):
    least = MIN_PX * (drawn["width"] + PAD) / PHONE_PX
    small = [f"the {what} of {owner} ({text!r}): {font} < {least:.3f}" for owner, what, text, font, _ in texts(drawn) if font < least - EPS]
    assert not small, small
    assert 1.35 <= drawn["width"] / drawn["height"] <= 1.7  # a slide's shape: wide, not a strip


def test_every_text_fits_its_box_or_circle(drawn):
    for owner, what, text, font, (x0, y0, x1, y1) in texts(drawn):
        w, h = text_em(text) * font, 0.76 * font  # DejaVu's ascender: the ink of "tanh" is 0.76 em tall
        if what == "circle":  # the text's ink box inside the ellipse
            rx, ry = (x1 - x0) / 2, (y1 - y0) / 2
            assert (w / 2 / rx) ** 2 + (h / 2 / ry) ** 2 <= 1 + EPS, f"{text!r} of {owner} does not fit its circle"
        else:
            assert w <= x1 - x0 + EPS and font <= y1 - y0 + EPS, f"the {what} {text!r} of {owner} ({w:.2f} wide) does not fit {x1 - x0:.2f}"


def test_labels_overlap_nothing_and_wires_keep_clear_of_what_they_pass(drawn):
    labels = {n["name"]: n["text"]["box"] for n in drawn["nodes"]}
    problems = []
    for w in drawn["wires"]:
        ends = {w["source"], w["target"]}
        for owner, what, box in shapes(drawn):
            need = CLEARANCE if owner not in ends else 0.0 if what == "label" else None
            if need is None:
                continue  # it leaves or enters this shape
            near = min(gap(a, b, box) for a, b in segments(w["points"]))
            if near < need - EPS or (what == "label" and any(seg_hits_box(a, b, box, 0.0) for a, b in segments(w["points"]))):
                problems.append(f"{w['source']} -> {w['target']} passes {near:.2f} from the {what} of {owner}")
    for name, box in labels.items():
        for owner, what, other in shapes(drawn):
            if (owner, what) != (name, "label") and boxes_overlap(box, other):
                problems.append(f"the label of {name} overlaps the {what} of {owner}")
    assert not problems, problems


def test_no_two_nets_run_side_by_side(drawn):
    problems = []
    for v, w in itertools.combinations(drawn["wires"], 2):
        if v["net"] == w["net"]:
            continue
        for (a, b), (c, e) in itertools.product(segments(v["points"]), segments(w["points"])):
            k = 0 if abs(a[1] - b[1]) < EPS else 1  # the axis segment a-b runs along
            if abs(c[1 - k] - e[1 - k]) > EPS or abs(a[1 - k] - c[1 - k]) >= NEAR_GAP - EPS:
                continue  # not parallel, or far enough apart
            run = min(max(a[k], b[k]), max(c[k], e[k])) - max(min(a[k], b[k]), min(c[k], e[k]))
            if run > NEAR_RUN + EPS:
                apart = abs(a[1 - k] - c[1 - k])
                problems.append(f"{v['source']} -> {v['target']} runs {run:.2f} beside {w['source']} -> {w['target']} at {apart:.2f}")
    assert not problems, problems


def test_wires_take_few_bends_no_jogs_and_no_long_way_round(drawn):
    problems = []
    for w in drawn["wires"]:
        p, name = w["points"], f"{w['source']} -> {w['target']}"
        corners = bends(p)
        if len(corners) > MAX_BENDS:
            problems.append(f"{name} bends {len(corners)} times")
        for (_, t1, _), (at, t2, run) in itertools.pairwise(corners):
            if t1 != t2 and run < JOG - EPS:
                problems.append(f"{name} jogs at {at} ({run:.2f} between opposite bends)")
        length = sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in segments(p))
        if length > abs(p[-1][0] - p[0][0]) + abs(p[-1][1] - p[0][1]) + DETOUR + EPS:
            problems.append(f"{name} goes the long way round ({length:.1f} units)")
    assert not problems, problems


# -- the GRU in both forms, each drawn as its source draws it ---------------------------------------

def wire(d, source, target):
    return next(w for w in d["wires"] if w["source"] == source and w["target"] == target)


def straight(d, source, target):
    return len(wire(d, source, target)["points"]) == 2


def test_torchs_gru_runs_r_through_its_product_straight_into_the_candidate():
    d = cells.diagram("gru", {"reset_after": True})  # n = tanh(W_in x + r ⊙ (W_hn h + b_hn)): r after the matmul
    for s, t in [("reset_gate", "reset_recurrent"), ("candidate_recurrent", "reset_recurrent"), ("reset_recurrent", "candidate_pre"),
                 ("candidate", "written"), ("written", "h"), ("update_gate", "kept"), ("update_complement", "written")]:
        assert straight(d, s, t), f"{s} -> {t}: {wire(d, s, t)['points']}"
    assert len(wire(d, "x", "candidate_pre")["points"]) <= 3  # x up into the candidate's matmul, one bend at most


def test_chos_gru_is_drawn_as_colahs_figure():
    d = cells.diagram("gru", {"reset_after": False})  # n = tanh(W_in x + W_hn (r ⊙ h)): r before the matmul
    at = {n["name"]: (n["x"], n["y"]) for n in d["nodes"]}
    assert at["reset_gate"][0] < at["update_gate"][0] < at["candidate"][0]  # σ, σ, tanh, left to right
    assert at["reset_hidden"][0] == at["reset_gate"][0] and at["reset_gate"][1] < at["reset_hidden"][1] < at["kept"][1]
    into = wire(d, "h_prev", "reset_hidden")["points"]
    assert into[-1][1] == into[-2][1] and into[-2][0] < into[-1][0]  # h(t−1) comes in from the left, as down colah's left side
    assert len(wire(d, "reset_hidden", "candidate_pre")["points"]) <= 4  # on into the matmul, two bends at most
    # z straight up to the top ×; its 1 − z on the line from z to the × over the candidate, which goes on up into the +
    assert at["update_gate"][0] < at["update_complement"][0] < at["written"][0] and at["update_complement"][1] == at["written"][1]
    for s, t in [("reset_gate", "reset_hidden"), ("update_gate", "kept"), ("update_gate", "update_complement"),
                 ("update_complement", "written"), ("candidate", "written"), ("written", "h")]:
        assert straight(d, s, t), f"{s} -> {t}: {wire(d, s, t)['points']}"


def test_the_mgus_one_minus_sits_on_the_line_up_to_the_kept_product():
    d = cells.diagram("mgu")  # kept = (1 − f) ⊙ h(t−1): colah's GRU with r = z = f
    at = {n["name"]: (n["x"], n["y"]) for n in d["nodes"]}
    assert at["forget_complement"][0] == at["kept"][0] and straight(d, "forget_complement", "kept")
    assert straight(d, "forget_gate", "reset_hidden") and straight(d, "candidate", "written")
