"""What if (issue 11, item 4) in the page: a clamp changes the trace, the views show the held run, the original or
their difference on the same cursor, the What-if menu offers the kind's own gates, and a bad clamp is refused by name."""

from __future__ import annotations

import re

import pytest

READ = """([mode, name]) => {
  const t = window.gatescope.trace, was = t.shown;
  t.show(mode);
  const out = Array.from({ length: t.steps }, (_, s) => Array.from(t.value(name, s)));
  t.show(was);
  return out;
}"""


def test_a_clamp_changes_the_trace_and_the_views_show_the_difference(tab):
    tab.open("/?kind=lstm&input=hello%20world&hidden=8&clamp=forget:1;input:0@3-&clamp_view=difference&phases=false&step=6")
    held, original, diff = (tab.js(READ, [mode, "c"]) for mode in ("clamped", "original", "difference"))
    for t in range(3, len(held)):  # forget at 1 and input at 0 from step 3: the memory neither fades nor is written
        assert held[t] == pytest.approx(held[2], abs=1e-6), t
    assert any(abs(a - b) > 1e-3 for a, b in zip(held[-1], original[-1], strict=True))  # the holds changed the run
    for t in range(len(held)):
        assert diff[t] == pytest.approx([a - b for a, b in zip(held[t], original[t], strict=True)], abs=1e-5)
    assert tab.diagram("c") == pytest.approx(diff[6], abs=1e-5)  # the diagram shows the difference at the cursor
    badge = tab.js("document.querySelector('[data-control=clamp-badge]').textContent")
    assert "forget_gate:1" in badge and "input_gate:0@3-" in badge  # what the server applied, in the glossary's words
    tab.page.click("details.menu summary:has-text('What if')")
    tab.page.select_option('[data-control="clamp-view"]', "original")
    tab.until("location.search.includes('clamp_view=original')", what="the shown run in the URL")
    tab.until("(want) => Math.abs(Number(document.querySelector('#diagram .strip[data-name=c] .cell').dataset.value) - want) < 1e-5",
              original[6][0], what="the diagram showing the original run")
    assert len(tab.sockets) == 1  # the same stream: both runs came in it


def test_the_what_if_menu_offers_the_kinds_own_gates(tab):
    tab.open("/?kind=gru&input=hello&hidden=4&phases=false")
    tab.page.click("details.menu summary:has-text('What if')")
    labels = tab.js("Array.from(document.querySelectorAll('[data-control=clamp-examples] button'), (b) => b.textContent)")
    assert any(label.startswith("update gate") for label in labels) and not any("forget" in label for label in labels)
    tab.page.click("[data-control=clamp-examples] button:has-text('update gate z(t) at 1')")
    tab.until("location.search.includes('clamp=update_gate%3A1') || location.search.includes('clamp=update_gate:1')", what="the clamp in the URL")
    tab.ready()
    h = tab.js(READ, ["clamped", "h"])
    for t in range(1, len(h)):  # z = 1 keeps the state: h(t) = h(t-1)
        assert h[t] == pytest.approx(h[t - 1], abs=1e-6)


def test_a_bad_clamp_is_refused_by_name(tab):
    tab.open("/?kind=lstm&input=ab&clamp=forgt:1", ready=False)
    tab.until("!document.getElementById('message').hidden", what="the refusal")
    text = tab.js("document.getElementById('message').textContent")
    assert "clamp" in text and "forgt" in text, text


def test_the_phase_panel_writes_a_difference_as_a_difference_not_as_the_equations_arithmetic(tab):
    """tanh of a difference is not a difference of tanhs: in the difference view each name's line says Δ, held − original,
    and the three numbers are the two runs' own at the unit written out."""
    tab.open("/?kind=lstm&input=hello%20world&hidden=8&clamp=forget:1;input:0@3-&clamp_view=difference&phases=false&step=6")
    numbers = tab.js("[...document.querySelectorAll('#phase dd')].map((e) => e.textContent)")
    names = tab.js("[...document.querySelectorAll('#phase dt')].length")
    assert numbers and len(numbers) == names, numbers
    read = lambda s: float(s.replace("−", "-"))
    for line in numbers:
        m = re.fullmatch(r"unit (\d+): Δ = (\S+) \(held (\S+) − original (\S+)\)", line)
        assert m, f"{line!r} is not written as a difference"
        delta, held, original = map(read, m.groups()[1:])
        assert delta == pytest.approx(held - original, abs=2e-3), line
    shown = lambda v: f"{v:.3f}".replace("-", "−").replace("−0.000", "0.000")  # as core/text.js num() writes it
    for name in ("c", "h"):  # the states, which the panel shows with phases off: unit 0's numbers of each run
        run = {mode: tab.js(READ, [mode, name])[6][0] for mode in ("clamped", "original", "difference")}
        line = f"unit 0: Δ = {shown(run['difference'])} (held {shown(run['clamped'])} − original {shown(run['original'])})"
        assert line in numbers, (name, line, numbers)
    tab.page.click("details.menu summary:has-text('What if')")
    tab.page.select_option('[data-control="clamp-view"]', "clamped")  # the held run: its own arithmetic again
    tab.until("[...document.querySelectorAll('#phase dd')].every((e) => !e.textContent.includes('Δ'))", what="the held run's numbers")
