"""Unit tests of the page's modules (state.js, colors.js, equation.js, the diagram's figure, the bus and the views' contract), run in Chromium.

One page of the app's origin imports the modules (import() of /static/**/*.js); each test writes what it
computed into that page and saves it as its screenshot.
"""

import json
import math

import pytest

from gatescope.app.routers.pages import IMPORT_MAP
from gatescope.cells.spec import OPS

from .conftest import ARTIFACTS, VIEWPORT, artifact_name


@pytest.fixture(scope="module")
def module_page(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(server + "/healthz")  # any document of the app's origin can import its modules, given the pages' import map
    page.evaluate("(map) => document.head.append(Object.assign(document.createElement('script'), { type: 'importmap', textContent: map }))",
                  IMPORT_MAP)  # (templates/base.html): they import each other as gatescope/<path under static/>
    yield page
    context.close()


@pytest.fixture
def run(module_page, request):
    """Run an async JS function body (it gets `arg`); its JSON result, also shown in the page's screenshot."""
    def call(body: str, arg=None):
        result = module_page.evaluate(f"async (arg) => {{ {body} }}", arg)
        module_page.evaluate("(text) => { const pre = document.createElement('pre'); pre.textContent = text;"
                             " pre.style.cssText = 'font: 13px monospace; white-space: pre-wrap';"
                             " document.body.replaceChildren(pre); }",
                             f"{request.node.name}\n\n{json.dumps(result, indent=1, ensure_ascii=False)[:6000]}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        module_page.screenshot(path=str(ARTIFACTS / f"{artifact_name(request.node)}.png"))
        return result
    return call


@pytest.fixture(scope="module")
def fields(api):
    status, body = api("/api/view")
    assert status == 200
    return body


def other_value(f):
    """A value of field f that is not its default (and that the field accepts)."""
    default = f["default"]
    if f.get("choices"):
        return next(c for c in f["choices"] if c != default)
    if f["type"] == "boolean":
        return True if default is None else not default
    if f["type"] == "integer":
        low = f.get("minimum", 0)
        return low + 1 if default is None else (default + 1 if default + 1 <= f.get("maximum", default + 1) else default - 1)
    if f["type"] == "number":
        return 0.25 if default is None else default / 4
    return "a&b=c d+é%/?#\n<x>"  # a string that needs every kind of escaping


# -- state.js ------------------------------------------------------------------------------

IMPORT_STATE = "const s = await import('/static/core/state.js');"


def test_state_round_trips_every_field(run, fields):
    changed = {f["name"]: other_value(f) for f in fields}
    out = run(IMPORT_STATE + """
        const [fields, state] = arg;
        const query = s.serialize(state, fields).toString();
        const back = s.parse(new URLSearchParams(query), fields);
        return { query, back, again: s.serialize(back, fields).toString() };""", [fields, changed])
    assert out["back"] == changed
    assert out["again"] == out["query"]
    assert [pair.split("=", 1)[0] for pair in out["query"].split("&")] == [f["name"] for f in fields]  # the table's order


def test_state_drops_defaults_from_the_query(run, fields):
    out = run(IMPORT_STATE + """
        const fields = arg;
        const defaults = s.parse(new URLSearchParams(""), fields);
        const some = { ...defaults, palette: "mono", step: 3, hidden: 8, kind: "gru" };
        return { defaults, empty: s.serialize(defaults, fields).toString(), some: s.serialize(some, fields).toString(),
                 compute: s.computeParams({ ...some, speed: 8 }, fields).toString() };""", fields)
    assert out["defaults"] == {f["name"]: f["default"] for f in fields}
    assert out["empty"] == ""
    assert out["some"] == "kind=gru&step=3&palette=mono"   # hidden=8 is the default: not in the link
    assert out["compute"] == "kind=gru"                    # what the server computes from leaves out the view-only fields


UNREADABLE = {"hidden": ["abc", "0", "-3", "2.5", ""], "layers": ["1001"], "seed": ["-1"], "step": ["1.5", "x"],
              "speed": ["0", "-1", "61", "Infinity", "fast", " "], "phases": ["maybe", "2"], "presenter": ["yes please"],
              "palette": ["rainbow", "CLASSIC"], "kind": ["transformer"], "input_type": ["audio"], "color_unit": ["-1", "u"],
              "direction": ["2"], "digits": ["10"]}


def test_state_falls_back_to_defaults_for_unreadable_values(run, fields):
    cases = [(name, raw) for name, raws in UNREADABLE.items() for raw in raws]
    out = run(IMPORT_STATE + """
        const [fields, cases] = arg;
        return cases.map(([name, raw]) => s.parse(new URLSearchParams([[name, raw]]), fields)[name]);""", [fields, cases])
    defaults = {f["name"]: f["default"] for f in fields}
    assert dict(zip(map(tuple, cases), out, strict=True)) == {case: defaults[case[0]] for case in cases}
    edges = run(IMPORT_STATE + """
        return s.parse(new URLSearchParams("speed=60&layers=1000&phases=0&presenter=1&color_unit=0"), arg);""",
                fields)
    bounds = ("speed", "layers", "phases", "presenter", "color_unit")
    assert [edges[k] for k in bounds] == [60, 1000, False, True, 0]  # the bounds themselves are readable


# The page and its JSON twin take the same query: where the server reads a value, state.js must read the same one.
AS_THE_SERVER = [("bidirectional", "true"), ("hidden", "12"), ("speed", "0.5"), ("palette", "mono"),
                 ("bidirectional", "True"),   # what Python's str(True) and requests' params={... True} write
                 ("hidden", "5.0"), ("forget_bias", "0x10")]


@pytest.mark.parametrize("name, raw", AS_THE_SERVER, ids=[f"{n}={r}" for n, r in AS_THE_SERVER])
def test_state_reads_a_value_as_the_server_does(run, api, fields, name, raw):
    status, body = api(f"/api/trace?kind=lstm&input=ab&names=h&{name}={raw}")
    default = next(f["default"] for f in fields if f["name"] == name)
    server = body["request"].get(name, default) if status == 200 else default  # refused: the page falls back
    page = run(IMPORT_STATE + "const [fields, name, raw] = arg;"
               "return s.parse(new URLSearchParams([[name, raw]]), fields)[name];",
               [fields, name, raw])
    assert page == server, f"{name}={raw!r}: the server reads {server!r} (status {status}), state.js {page!r}"


def test_state_update_drops_what_no_longer_applies(run, fields):
    out = run(IMPORT_STATE + """
        const fields = arg;
        const query = "kind=lstm&proj_size=2&forget_bias=1&hidden=16&input=abc&step=3&palette=mono";
        const state = s.parse(new URLSearchParams(query), fields);
        const frozen = JSON.stringify(state);
        return {
          gru: s.update(state, { kind: "gru" }, fields),
          gruWithOption: s.update(state, { kind: "gru", reset_after: false }, fields),
          sameKind: s.update(state, { kind: "lstm" }, fields),
          preset: s.update(state, { preset: "remember-lstm" }, fields),
          step: s.update(state, { step: 2 }, fields),
          input: s.update(state, { input: "xyz" }, fields),
          untouched: JSON.stringify(state) === frozen,
        };""", fields)
    gru = out["gru"]
    assert gru["kind"] == "gru" and gru["proj_size"] is None and gru["forget_bias"] is None
    assert gru["hidden"] == 16 and gru["palette"] == "mono" and gru["step"] == 0 and gru["input"] == "abc"
    assert out["gruWithOption"]["reset_after"] is False and out["gruWithOption"]["proj_size"] is None
    assert out["sameKind"]["proj_size"] == 2 and out["sameKind"]["forget_bias"] == 1
    preset = out["preset"]
    assert preset["preset"] == "remember-lstm" and preset["kind"] is None
    assert preset["hidden"] == 8 and preset["proj_size"] is None and preset["forget_bias"] is None
    assert out["step"]["step"] == 2 and out["step"]["proj_size"] == 2
    assert out["input"]["step"] == 0 and out["input"]["input"] == "xyz"
    assert out["untouched"]


# -- colors.js -----------------------------------------------------------------------------

COLORS = """
    const c = await import('/static/core/colors.js'), { PALETTES } = await import('/static/core/config.js');
    const scales = { unit: PALETTES.classic.unit, signed: PALETTES.classic.signed, mono: PALETTES.mono.unit };
    return { scales, colorblind: PALETTES.colorblind,
      at: arg.at.map(([v, scale, lo, hi]) => c.colorAt(v, scales[scale], lo, hi)),
      dark: arg.dark.map((rgb) => c.isDark(rgb)),
      darkEnds: [c.isDark(c.colorAt(1, scales.unit, 0, 1)), c.isDark(c.colorAt(0, scales.unit, 0, 1))],
      scaleFor: arg.scaleFor.map(([range, palette, maxAbs]) => c.scaleFor(range, palette, maxAbs)) };
"""


def rgb(hex_color: str) -> str:
    n = int(hex_color[1:], 16)
    return f"rgb({n >> 16 & 255},{n >> 8 & 255},{n & 255})"


def test_color_at_the_ends_middle_and_beyond_a_scale(run):
    at = {  # name: (value, scale, cmin, cmax)
        "unit 0": (0, "unit", 0, 1), "unit 1": (1, "unit", 0, 1),
        "signed -1": (-1, "signed", -1, 1), "signed 1": (1, "signed", -1, 1),
        "unit 0.5": (0.5, "unit", 0, 1), "signed 0": (0, "signed", -1, 1), "mono 0.5": (0.5, "mono", 0, 1),
        "unit 0.125": (0.125, "unit", 0, 1),
        "unit -3": (-3, "unit", 0, 1), "unit 7": (7, "unit", 0, 1), "signed -40": (-40, "signed", -1, 1),
        "signed 1e9": (1e9, "signed", -1, 1), "unit 50 on [0, 100]": (50, "unit", 0, 100),
    }
    dark = {"rgb(0,0,0)": True, "rgb(255,255,255)": False, "rgb(127,127,127)": True, "rgb(128,128,128)": False,
            "rgb(0, 0, 255)": True, "rgb(255, 255, 0)": False}
    scale_for = [("unit", "classic", 1), ("signed", "colorblind", 1), ("real", "classic", 12), ("real", "classic", 0.25)]
    out = run(COLORS, {"at": list(at.values()), "dark": list(dark), "scaleFor": scale_for})
    got = dict(zip(at, out["at"], strict=True))
    unit, signed = out["scales"]["unit"], out["scales"]["signed"]
    a, b = int(unit[0][1][1:], 16), int(unit[1][1][1:], 16)  # 0.125 is halfway between the first two stops
    mix = [((a >> k) & 255) + (((b >> k) & 255) - ((a >> k) & 255)) / 2 for k in (16, 8, 0)]
    half = "rgb({},{},{})".format(*(math.floor(x + 0.5) for x in mix))  # JS's Math.round: .5 goes up
    assert got == {
        "unit 0": rgb(unit[0][1]), "unit 1": rgb(unit[-1][1]), "signed -1": rgb(signed[0][1]), "signed 1": rgb(signed[-1][1]),
        "unit 0.5": rgb(unit[2][1]), "signed 0": rgb(signed[2][1]), "mono 0.5": "rgb(136,136,136)", "unit 0.125": half,
        "unit -3": rgb(unit[0][1]), "unit 7": rgb(unit[-1][1]), "signed -40": rgb(signed[0][1]), "signed 1e9": rgb(signed[-1][1]),
        "unit 50 on [0, 100]": rgb(unit[2][1]),
    }
    assert dict(zip(dark, out["dark"], strict=True)) == dark
    assert out["darkEnds"] == [True, False]  # a dark cell gets light text
    assert [[x["colorscale"], x["cmin"], x["cmax"]] for x in out["scaleFor"]] == [
        [unit, 0, 1], [out["colorblind"]["signed"], -1, 1], [signed, -12, 12], [signed, -1, 1]]


def test_color_of_a_missing_value_is_grey(run):
    out = run("const c = await import('/static/core/colors.js'); const s = [[0, '#000000'], [1, '#ffffff']];"
              "return [c.colorAt(NaN, s, 0, 1), c.colorAt(Infinity, s, 0, 1), c.colorAt(-Infinity, s, 0, 1)];")
    assert out == ["rgb(200,200,200)"] * 3


# -- equation.js ---------------------------------------------------------------------------

OPS_SHOWN = {"sigmoid", "tanh", "relu", "g", "exp", "softplus", "log_sigmoid", "silu", "sqrt", "sqrt_one_minus_square", "abs", "neg", "identity",
             "one_minus", "mul", "div", "add", "sub", "max", "clip"}
# a pre-activation (W x + U h + b), the state-space and per-head products, whose operands are other widths than the
# name, and sLSTM's capped first step have no one-unit numeric line; their value is shown
OPS_AS_VALUE = {"affine", "outer", "contract", "capped_add", "head_outer", "head_scale", "head_matvec", "head_dot"}
OPS_NOT_SHOWN = {"given", "shift"}  # inputs and the previous step's state: renderPhase leaves them out


def test_equation_numbers_for_each_op(run):
    names = {  # name: (op, operands, value)
        "a": ("given", [], 0.41234), "b": ("given", [], -2), "z": ("given", [], -0.00004),
        "s": ("sigmoid", ["a"], 0.60165), "th": ("tanh", ["a"], 0.39035), "r": ("relu", ["a"], 0.41234),
        "id": ("identity", ["a"], 0.41234), "om": ("one_minus", ["a"], 0.58766), "m": ("mul", ["a", "b"], -0.82468),
        "ad": ("add", ["a", "b"], -1.58766), "cl": ("clip", ["a", "b"], -1), "af": ("affine", ["a", "b"], 0.123),
        "gg": ("g", ["a"], 0.91234), "dv": ("div", ["a", "b"], -0.20617), "sb": ("sub", ["a", "b"], 2.41234),
        "mx": ("max", ["a", "b"], 0.41234), "ex": ("exp", ["a"], 1.51032), "sp": ("softplus", ["a"], 0.92092),
        "ls": ("log_sigmoid", ["a"], -0.50858), "si": ("silu", ["a"], 0.24808), "sq": ("sqrt", ["a"], 0.64214), "rc": ("sqrt_one_minus_square", ["a"], 0.91103),
        "ou": ("outer", ["a", "b"], -0.82468), "ab": ("abs", ["b"], 2), "ng": ("neg", ["a"], -0.41234),
        "g": ("given", [], 0.5), "zz": ("tanh", ["z"], None),
    }
    out = run("""
        const { numbers } = await import('/static/views/equation.js');
        const glossary = Object.fromEntries(Object.entries(arg).map(([n, [op, operands]]) => [n, { op, operands }]));
        const value = (n) => arg[n][2] ?? NaN;
        const shown = Object.keys(arg).filter((n) => !["a", "b", "z"].includes(n));
        return Object.fromEntries(shown.map((n) => [n, numbers(n, glossary, value)]));""",
              names)
    assert out == {
        "s": "σ(0.412) = 0.602",
        "th": "tanh(0.412) = 0.390",
        "r": "relu(0.412) = 0.412",
        "id": "0.412",
        "om": "1 − 0.412 = 0.588",
        "m": "0.412 × −2.000 = −0.825",   # U+2212, the equations' minus sign, not a hyphen
        "ad": "0.412 + −2.000 = −1.588",
        "cl": "clip(0.412 + −2.000) = −1.000",
        "af": "0.123",
        "gg": "g(0.412) = 0.912", "dv": "0.412 / −2.000 = −0.206", "sb": "0.412 − −2.000 = 2.412",
        "mx": "max(0.412, −2.000) = 0.412", "ex": "exp(0.412) = 1.510", "sp": "softplus(0.412) = 0.921",
        "ls": "log σ(0.412) = −0.509", "si": "SiLU(0.412) = 0.248", "sq": "√(0.412) = 0.642", "rc": "√(1 − 0.412²) = 0.911", "ou": "−0.825",
        "ab": "|−2.000| = 2.000", "ng": "−0.412",   # −a is its value: shown once
        "g": "0.500",
        "zz": "tanh(0.000) = NaN",  # -0.00004 shows as 0.000, not −0.000; a missing value as NaN
    }
    assert not any("-" in line for line in out.values()), "a hyphen for a minus"


def test_numbers_and_prose_read_with_a_minus_sign(run):
    out = run("""
        const { num, minusSigns, showToken } = await import('/static/core/text.js');
        return { num: [num(-0.6394), num(0.6394), num(-0.0004), num(-12, 1), num(-Infinity), num(NaN)],
                 tokens: ['-0.26', '[0.09, -1]', '-', 'x-1', '-a', ' ', '1e-05'].map(showToken),
                 prose: ['r = -0.45; mean -1.20, +0.93 (-.5)', 'adding-lstm at lengths 2-3, x-1', '-3 at the start',
                         'e-05 and h(t-1)'].map(minusSigns) };""")
    assert out["num"] == ["−0.639", "0.639", "0.000", "−12.0", "−∞", "NaN"]
    assert out["tokens"] == ["−0.26", "[0.09, −1]", "-", "x-1", "-a", "␣", "1e-05"]  # a typed character stays as typed
    assert out["prose"] == ["r = −0.45; mean −1.20, +0.93 (−.5)", "adding-lstm at lengths 2-3, x-1", "−3 at the start",
                            "e-05 and h(t-1)"]  # a hyphen inside a word, a range or an exponent stays


def test_equation_numbers_knows_every_op_the_engine_uses(api):
    ops = set()
    for query in ["/api/kinds", "/api/kinds/rnn?nonlinearity=relu", "/api/kinds/lstm?cell_clip=1", "/api/kinds/lstm?proj_size=2"]:
        status, body = api(query)
        for kind in body if isinstance(body, list) else [body]:
            ops |= {n["op"] for n in kind["glossary"]["names"]}
    unknown = ops - OPS_SHOWN - OPS_AS_VALUE - OPS_NOT_SHOWN
    assert not unknown, f"ops equation.js numbers() does not spell out: {unknown}"
    assert OPS_SHOWN | OPS_AS_VALUE | OPS_NOT_SHOWN == set(OPS)  # numbers() knows the vocabulary, and nothing else


# -- diagram.js stripCells -------------------------------------------------------------------

def test_strip_cells_are_balanced_rows_centred_on_the_strip(run):
    out = run("""
        const { stripCells } = await import('/static/views/diagram-figure.js'), { DIAGRAM } = await import('/static/core/config.js');
        const strips = {};
        for (let n = 1; n <= DIAGRAM.maxUnits; n++) strips[n] = stripCells(n, 3.5, 2.0, 1.7);
        return { strips, maxUnits: DIAGRAM.maxUnits };""")
    assert out["maxUnits"] <= 24  # the strips are drawn for at most 24 units (two rows of 12)
    for n, cells in out["strips"].items():
        n = int(n)
        assert len(cells) == n
        xs, ys = [c[0] for c in cells], [c[1] for c in cells]
        rows = sorted({round(y, 9) for y in ys}, reverse=True)
        sizes = [sum(1 for y in ys if round(y, 9) == r) for r in rows]
        assert len(rows) == (1 if n <= 12 else 2), (n, sizes)
        assert max(sizes) - min(sizes) <= 1, (n, sizes)                       # balanced: 16 is 8 + 8, 13 is 7 + 6
        assert sizes == sorted(sizes, reverse=True)                           # the fuller row on top
        cell = 1.7 / sizes[0]
        assert (min(xs) + max(xs)) / 2 == pytest.approx(3.5) and (min(ys) + max(ys)) / 2 == pytest.approx(2.0), n  # centred
        assert max(xs) - min(xs) == pytest.approx(1.7 - cell)                 # the full row spans the strip's width
        assert all(3.5 - 0.85 < x < 3.5 + 0.85 for x in xs)
        if len(rows) == 2:
            assert rows[0] - rows[1] == pytest.approx(cell)                   # square cells
        first = sorted(x for x, y in cells if round(y, 9) == rows[0])
        assert [b - a for a, b in zip(first, first[1:], strict=False)] == pytest.approx([cell] * (len(first) - 1))
        assert [c[0] for c in cells[: sizes[0]]] == sorted(c[0] for c in cells[: sizes[0]])  # unit order left to right
    assert [sum(1 for c in out["strips"]["16"] if c[1] > 2.0), sum(1 for c in out["strips"]["16"] if c[1] < 2.0)] == [8, 8]


# -- the diagram's figure reads its extents from the kind's description ------------------------

def test_the_diagram_is_drawn_in_the_extents_the_server_sends(run):
    out = run("""
        const { scene, MARGIN } = await import('/static/views/diagram-figure.js');
        const info = await (await fetch('/api/kinds/lstm')).json();
        const model = { hidden_size: 4, out_size: 4, input_size: 2 };
        const at = (w, h, px, py) => {
          const s = scene({ ...info, diagram: { ...info.diagram, width: w, height: h } }, model, { palette: 'classic', presenter: false }, px, py);
          const xs = s.items.flatMap((it) => (it.attrs.d ?? '').match(/-?[\\d.]+/g)?.filter((_, i) => i % 2 === 0).map(Number) ?? []);
          return { left: s.X(-0.2), right: s.X(w + 0.1), top: s.Y(h + 0.4), bottom: s.Y(-0.1), width: s.width, height: s.height,
                   wireRight: Math.max(...xs), stateEnd: s.X(w), ppu: s.ppu, legend: s.legend.height };
        };
        return { margin: MARGIN, wide: at(20, 12, 900, 0), sent: at(info.diagram.width, info.diagram.height, 900, 560),
                 tall: at(info.diagram.width, info.diagram.height, 900, 300) };""")
    m = out["margin"]
    for name, s in (("wide", out["wide"]), ("sent", out["sent"]), ("tall", out["tall"])):
        # the extents the description gives fill the room above the legend's row, centred, in one scale for x and y
        assert s["legend"] > 0, name
        assert s["left"] >= m["l"] - 0.01 and s["right"] <= s["width"] - m["r"] + 0.01, name
        assert s["top"] >= m["t"] - 0.01 and s["bottom"] <= s["height"] - m["b"] - s["legend"] + 0.01, name
        fills_x = s["right"] - s["left"] == pytest.approx(s["width"] - m["l"] - m["r"], abs=0.02)
        fills_y = s["bottom"] - s["top"] == pytest.approx(s["height"] - m["t"] - m["b"] - s["legend"], abs=0.02)
        assert fills_x or fills_y, name
        if name != "wide":  # the wires of the description sent run out to its right edge
            assert s["wireRight"] <= s["stateEnd"] + 0.01 and s["stateEnd"] - s["wireRight"] < s["ppu"], name
    wide = out["wide"]  # no height given: as tall as it needs, the legend's row under it
    assert wide["height"] == pytest.approx(wide["ppu"] * 12.5 + m["t"] + m["b"] + wide["legend"], abs=1)


# -- the bus, the view state and the views' contract --------------------------------------------

def test_the_bus_calls_every_view_through_the_one_contract(run):
    out = run("""
        const { createBus, mount } = await import('/static/core/bus.js');
        const { createViewState } = await import('/static/core/state.js');
        const { View } = await import('/static/views/view.js');
        const bus = createBus(), calls = [];
        class A extends View { show(t, phase) { calls.push(['A', t, phase, this.trace.steps, this.options.palette]); } }
        class B extends View { update(trace) { super.update(trace); calls.push(["B", trace.steps]); } }
        mount(bus, [new A(null, bus), new B(null, bus)]);
        bus.emit('build', { kindInfo: {}, header: {}, options: { palette: 'mono' } });
        bus.emit('data', { steps: 3 });
        bus.emit('step', { t: 2, phase: 'gates', playing: false });
        const seen = [];
        const off = bus.on('seek', (t) => seen.push(t));
        bus.emit('seek', 1); off(); bus.emit('seek', 2);
        const fields = [{ name: 'step', type: 'integer', default: 0 }, { name: 'input', type: 'string', default: null },
                        { name: 'kind', type: 'string', default: null }, { name: 'preset', type: 'string', default: 'p' },
                        { name: 'model', type: 'string', default: null }];
        const states = [];
        bus.on('state', (e) => states.push([e.before.step, e.state.step, e.reason, Object.isFrozen(e.state)]));
        const view = createViewState({ step: 0, input: null, kind: null, preset: 'p', model: null }, fields, bus);
        view.update({ step: 4 }, 'step');
        view.update({ input: 'abc' });
        try { view.current.step = 9; } catch { /* strict code throws; sloppy code is ignored */ }
        const writable = view.current.step === 9;
        return { calls, seen, states, writable, step: view.current.step };""")
    assert out["calls"] == [["B", 3], ["A", 2, "gates", 3, "mono"]]  # build, then update, then show, in the list's order
    assert out["seen"] == [1]                                         # on() gives back a way to stop
    assert out["states"] == [[0, 4, "step", True], [4, 0, "edit", True]]  # a new input starts at step 0
    assert out["writable"] is False and out["step"] == 0               # the state changes by update() only


def test_error_details_read_as_one_line(run):
    out = run("""
        const { errorText } = await import('/static/core/text.js');
        return [errorText('no such preset'), errorText([{ loc: ['query', 'hidden'], msg: 'too big' }, { msg: 'bad' }]),
                errorText({ why: 1 }), errorText(undefined)];""")
    assert out == ["no such preset", "query.hidden: too big; : bad", '{"why":1}', "the server gave no reason"]
