"""The phase panel's equations: typeset by the vendored KaTeX under the page's CSP, with their parentheses, and
not read out to a screen reader at every frame of playback.

The screenshots of the panel (artifacts/browser/phase_<kind>.png) are for looking at: a lecturer puts them on a
projector.
"""

from __future__ import annotations

import pytest
from cases import CASES
from test_cells_equations import evaluate, key, parse, tokens

from .conftest import ARTIFACTS

# Before the page's scripts run: collect what the Content-Security-Policy refused (the console shows it too).
CSP_SPY = ("document.addEventListener('securitypolicyviolation',"
           " (e) => (window.__csp ||= []).push(`${e.violatedDirective} ${e.blockedURI}`));")
PANEL = """() => ({
  dts: document.querySelectorAll('#phase dt').length,
  typeset: document.querySelectorAll('#phase dt .katex .katex-html').length,
  mathml: [...document.querySelectorAll('#phase dt .katex-mathml annotation')].map((a) => a.textContent),
  errors: document.querySelectorAll('#phase .katex-error').length,
  shown: [...document.querySelectorAll('#phase dt .katex-html')].map((e) => e.textContent.replace(/\\u200b/g, '')),
  numbers: [...document.querySelectorAll('#phase dd')].map((e) => e.textContent),
  fonts: [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family),
  csp: window.__csp ?? [],
})"""
# the phase to look at: where the parentheses are (lstm, gru, mgu), the longest pre-activation (fgr)
LAST_PHASE = {"lstm": "update", "gru": "update", "mgu": "update", "fgr": "forget"}


def open_phase(tab, kind: str, phase: str, extra: str = "", text: str = "hello"):
    tab.page.add_init_script(CSP_SPY)
    tab.open(f"/?kind={kind}&input={text}&phases=true{extra}")
    for _ in range(12):
        if tab.phase == phase:
            break
        tab.press("ArrowDown")
    assert tab.phase == phase
    tab.until("document.querySelectorAll('#phase dt .katex').length > 0", what="KaTeX set the equations")
    tab.until("[...document.fonts].some((f) => f.family === 'KaTeX_Math' && f.status === 'loaded')", what="KaTeX's fonts loaded")
    return tab.js(PANEL)


def shoot_panel(tab, kind: str) -> None:
    """The panel as the page shows it (a fixed height that scrolls), then all of it, unscrolled, to read every line."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    panel = tab.page.locator("#phase")
    panel.screenshot(path=str(ARTIFACTS / f"phase_{kind}.png"))
    tab.js("document.getElementById('phase').style.height = 'auto'")
    panel.screenshot(path=str(ARTIFACTS / f"phase_{kind}_whole.png"))
    tab.js("document.getElementById('phase').style.height = ''")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_katex_sets_every_equation_without_console_errors_or_csp_violations(tab, api, kind):
    panel = open_phase(tab, kind, "update")
    status, info = api(f"/api/kinds/{kind}")
    shown = [n for n in info["glossary"]["names"] if n["phase"] == "update" and n["op"] not in ("given", "shift")]
    assert panel["dts"] == panel["typeset"] == len(shown) and panel["errors"] == 0, panel
    # MathML for a screen reader carries the engine's LaTeX (with no line break inside a product)
    assert [a.replace(r"\nobreak", "") for a in panel["mathml"]] == [n["latex"] for n in shown]
    assert {"KaTeX_Main", "KaTeX_Math"} <= set(panel["fonts"])
    assert panel["csp"] == [] and tab.console == [], (panel["csp"], tab.console)
    katex = [u for u in tab.requests if "/vendor/katex/" in u]
    assert katex and all(u.startswith(tab.base) for u in tab.requests if u.startswith("http")), "everything from the app's origin"
    shoot_panel(tab, kind)


def test_gru_shows_one_minus_z_in_parentheses_in_typeset_text_and_numbers(tab):
    panel = open_phase(tab, "gru", "update")
    written = next(s for s in panel["shown"] if s.startswith("written"))
    assert "(1−zt)⊙nt" in written, written
    assert not any(s.startswith("1−zt=") for s in panel["shown"]), "1 − z(t) is its own definition: shown once"
    line = next(x for x in panel["numbers"] if x.count("×") == 1 and "(1 − " in x)
    assert line.startswith("unit 0: (1 − ") and ") × " in line, line  # the numbers keep the equation's parentheses


@pytest.mark.parametrize("kind", list(LAST_PHASE))
def test_screenshot_of_the_phase_panel(tab, kind):
    panel = open_phase(tab, kind, LAST_PHASE[kind])
    assert panel["errors"] == 0 and panel["dts"] == panel["typeset"] > 0
    if kind == "mgu":
        assert any("(1−ft)⊙ht−1" in s for s in panel["shown"]), panel["shown"]
    if kind == "lstm":  # o(t) ⊙ tanh(c(t)) reads with tanh's own value spelled out
        tab.press("ArrowDown")
        tab.until("document.querySelector('#phase dd:last-of-type')?.textContent.includes('tanh(')", what="h's line spells tanh")
    shoot_panel(tab, kind)


def test_the_panel_is_not_a_live_region_and_its_status_line_waits_for_a_pause(tab):
    open_phase(tab, "gru", "reset", "&pace=fast", text="the+cat+sat+on+the+mat")  # 22 steps: longer than the 2.6 s of play
    assert tab.js("document.getElementById('phase').getAttribute('aria-live')") in (None, "off")
    live = tab.js("[...document.querySelectorAll('#phase [aria-live], #phase [role=status]')].map((e) => e.className)")
    assert live == ["phase-status sr-only"], live
    tab.js("""window.__said = []; window.__drawn = 0;
        const status = document.querySelector('#phase [role=status]');
        new MutationObserver(() => window.__said.push([window.gatescope.player.playing, status.textContent]))
          .observe(status, { childList: true, characterData: true, subtree: true });
        new MutationObserver(() => window.__drawn++)
          .observe(document.querySelector('#phase .phase-body'), { childList: true, characterData: true, subtree: true });""")
    tab.press(" ")
    tab.until("window.gatescope.player.playing", what="playing")
    # five phases at the fast pace (0.5 s each), the flow animating within each: waited for, however long they take
    tab.until("window.__drawn >= 4 && Number(document.body.dataset.step) > 0", timeout=60, what="the phases played into the next step")
    playing = tab.js("({said: window.__said, drawn: window.__drawn, step: Number(document.body.dataset.step)})")
    assert playing["said"] == [], "the status line was rewritten while playing"
    assert playing["drawn"] >= 4 and playing["step"] > 0, playing  # while the visible text kept up, into the next step
    tab.press(" ")
    tab.until("!window.gatescope.player.playing", what="paused")
    said = tab.until("window.__said.length && window.__said", timeout=3, what="the status line after the pause")
    tab.page.wait_for_timeout(1200)
    said = tab.js("window.__said")
    assert len(said) == 1 and said[0][0] is False, said  # once, and not while playing
    numbers = tab.js("[...document.querySelectorAll('#phase dd')].map((e) => e.textContent)")
    assert all(n in said[0][1] for n in numbers), (said, numbers)  # it says what the panel shows now
    k, rest = tab.js("document.querySelector('#phase .phase-title').textContent").split(" / ")
    n, title = rest.split(" · ")
    assert said[0][1].startswith(f"t = {tab.step}, input ") and f"phase {k} of {n}, {title}. " in said[0][1], said


def test_stepping_fast_announces_once_when_it_stops(tab):
    open_phase(tab, "lstm", "update")
    tab.js("""window.__said = [];
        new MutationObserver(() => window.__said.push(document.querySelector('#phase [role=status]').textContent))
          .observe(document.querySelector('#phase [role=status]'), { childList: true, characterData: true, subtree: true });""")
    tab.press("ArrowRight", 4)
    tab.page.wait_for_timeout(1500)
    assert len(tab.js("window.__said")) == 1


def test_katex_reads_every_equation_of_every_kind_and_option(tab, api):
    """KaTeX with throwOnError: every LaTeX string the engine sends parses (the page would show it red otherwise)."""
    latex = set()
    for kind, opts in CASES:
        query = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in opts.items())
        status, info = api(f"/api/kinds/{kind}?{query}")
        assert status == 200, (kind, opts, info)
        latex |= {e["latex"] for e in info["equations"]}
        latex |= {m for p in info["glossary"]["phases"] for m in p["latex"].split("$")[1::2]}  # the math of the prose
    tab.open("/?kind=lstm&input=hi")
    failed = tab.js("""(all) => all.flatMap((l) => {
        try { katex.renderToString(l, { throwOnError: true, output: 'htmlAndMathml' }); return []; }
        catch (e) { return [[l, String(e)]]; } })""", sorted(latex))
    assert failed == [] and len(latex) > 40, failed


NUMBER_LINES = """async ([info, values, steps]) => {
  const { numbers } = await import('/static/views/equation.js');
  const glossary = Object.fromEntries(info.glossary.names.map((n) => [n.name, n]));
  const shown = info.glossary.names.filter((n) => n.op !== 'given' && n.op !== 'shift');
  return shown.flatMap((n) => Array.from({ length: steps }, (_, t) => [n.name, t, numbers(n.name, glossary, (m) => values[m][t][0])]));
}"""


def stands_for(line_tree, eq_tree, learned=frozenset()) -> bool:
    """Whether a numbers line has the equation's shape: each operator and parenthesis where the equation has it.

    A number may stand for a name or a constant, or for a part with a matrix product in it (W x + b has no
    one-unit value to spell out), or for a learned name written as an expression (``learned``: RG-LRU's log a(t));
    an expression the equation writes, like 1 − z(t) or tanh(c(t)), must be spelled.
    """
    if line_tree[0] in ("num", "neg"):
        return eq_tree[0] in ("var", "num") or "'dot'" in repr(eq_tree) or key(eq_tree) in learned
    if line_tree[0] != eq_tree[0]:
        return False
    if line_tree[0] in ("paren", "pm", "square"):
        return line_tree[0] == "pm" or stands_for(line_tree[1], eq_tree[1], learned)
    if line_tree[0] == "call":
        return line_tree[1] == eq_tree[1] and len(line_tree[2]) == len(eq_tree[2]) and \
            all(stands_for(a, b, learned) for a, b in zip(line_tree[2], eq_tree[2]))
    return stands_for(line_tree[1], eq_tree[1], learned) and stands_for(line_tree[2], eq_tree[2], learned)


def test_the_numbers_beside_each_equation_have_its_shape_and_its_arithmetic(tab, api):
    """For every kind and option: each numbers line reads as its equation does (parentheses included), its
    arithmetic holds to the shown digits, and its result is the trace's value."""
    tab.open("/?kind=lstm&input=hi")
    for kind, opts in CASES:
        query = "".join(f"&{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in opts.items())
        _, info = api(f"/api/kinds/{kind}?{query[1:]}")
        status, trace = api(f"/api/trace?kind={kind}{query}&input=hello&digits=9")
        assert status == 200, trace
        equations = {n["name"]: parse(tokens(n["equation"])[0])[1] for n in info["glossary"]["names"] if n["op"] not in ("given", "shift")}
        # their value alone: a weighted sum, and the state-space products of other widths, have no one-unit line
        alone = {n["name"] for n in info["glossary"]["names"] if n["op"] in ("affine", "outer", "contract")}
        learned = {key(parse(tokens(n["symbol"])[0])[1]) for n in info["glossary"]["names"] if n["op"] == "affine"}
        for name, t, line in tab.js(NUMBER_LINES, [info, trace["values"], 5]):
            assert "-" not in line, f"{kind} {name}: {line!r} has a hyphen for a minus sign"
            shown, _, result = line.rpartition(" = ")
            tree = parse(tokens((shown or result).replace("×", "⊙"))[0])[1]
            assert stands_for(tree, equations[name], learned) or name in alone and tree[0] in ("num", "neg"), \
                f"{kind} {opts} {name}: {line!r} does not read as its equation"
            result = result.replace("−", "-")  # Python reads a hyphen-minus
            assert float(result) == pytest.approx(trace["values"][name][t][0], abs=6e-4), (kind, opts, name, line)
            if shown:
                assert evaluate(tree, {}) == pytest.approx(float(result), abs=6e-3), (kind, opts, name, line)


def test_without_katexs_stylesheet_the_equations_are_plain_text_not_doubled(tab, api):
    """KaTeX's output without its CSS shows each equation twice (HTML and MathML): the panel waits for the sheet."""
    tab.page.route("**/vendor/katex/katex.min.css", lambda route: route.abort())
    tab.open("/?kind=gru&input=hello&phases=true&step=1&phase=update")
    _, info = api("/api/kinds/gru")
    plain = [n["equation"] for n in info["glossary"]["names"] if n["phase"] == "update" and n["op"] not in ("given", "shift")]
    tab.until("document.querySelectorAll('#phase dt').length > 0", what="the equations")
    assert tab.js("[...document.querySelectorAll('#phase dt')].map((e) => e.textContent)") == plain
    assert tab.js("document.querySelectorAll('#phase .katex').length") == 0
    text = next(p["text"] for p in info["glossary"]["phases"] if p["name"] == "update")
    assert tab.js("document.querySelector('#phase .phase-text').textContent") == text  # the description as plain text


@pytest.mark.parametrize("kind, phase", [("gru", "update"), ("lstm", "output"), ("mgu", "candidate")])
def test_the_phase_description_has_its_math_typeset_and_its_prose_as_written(tab, api, kind, phase):
    open_phase(tab, kind, phase)
    _, info = api(f"/api/kinds/{kind}")
    p = next(p for p in info["glossary"]["phases"] if p["name"] == phase)
    parts = p["latex"].split("$")
    got = tab.js("""(() => {
        const el = document.querySelector('#phase .phase-text');
        return { math: [...el.querySelectorAll('.katex-mathml annotation')].map((a) => a.textContent),
                 prose: [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent),
                 errors: el.querySelectorAll('.katex-error').length,
                 broken: [...el.querySelectorAll('.prose-math')].filter((m) => m.getClientRects().length > 1).length };
    })()""")
    assert got["errors"] == 0 and [m.replace(r"\nobreak", "") for m in got["math"]] == parts[1::2], got
    assert got["prose"] == [x for x in parts[0::2] if x], got   # the words between, exactly as the API writes them
    assert got["broken"] == 0, "a piece of math split across lines"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.locator("#phase .phase-text").screenshot(path=str(ARTIFACTS / f"phase_text_{kind}_{phase}.png"))


def test_the_whole_step_hint_matches_the_phases_box(tab):
    """With phases ticked the hint says how to walk them; unticked, it says to tick the box (never the other way)."""
    tab.open("/?kind=lstm&input=abc&phases=true")
    hint = "document.querySelector('#phase').textContent"
    assert "press ↓" in tab.js(hint) and "Tick" not in tab.js(hint)
    tab.page.click('[data-control="phases"]')
    tab.until(f"{hint}.includes('Tick')", timeout=5, what="the hint for phases off")
    assert "press ↓" not in tab.js(hint)


NUMBERS = "[...document.querySelectorAll('#phase dd')].map((e) => e.textContent)"


@pytest.mark.parametrize("query, unit", [
    ("", 2),                  # the card's units, 2, 20 and 38: the diagram draws them, the first is written out
    ("&units=38,20", 20),     # units= chooses for both
    ("&color_unit=9", 9),     # the unit the tokens are coloured by, when one is chosen
    ("&pin=c[38]", 38),       # a pinned unit
])
def test_the_panel_writes_out_a_unit_the_diagram_draws(tab, query, unit):
    tab.open(f"/?preset=charlm-lstm&input=the+cat+sat+on+the+mat&step=3{query}")
    drawn = tab.js("[...document.querySelectorAll('#diagram .strip[data-name=c] .cell')].map((c) => Number(c.dataset.unit))")
    if "color_unit" not in query:
        assert unit in drawn, drawn
    numbers = tab.js(NUMBERS)
    assert numbers and all(n.startswith(f"unit {unit}: ") for n in numbers), numbers
    c = tab.js(f"window.gatescope.trace.value('c', 3)[{unit}]")  # and its numbers are that unit's: c(t)'s line ends in its c
    assert any(float(n.rpartition(" = ")[2].replace("−", "-")) == pytest.approx(c, abs=6e-4) for n in numbers), (c, numbers)
