"""A phase's description has a LaTeX twin made from its plain text: the math in it set off as $…$ for KaTeX, the prose
left exactly as written, so the API's ``text`` stays plain and the page can typeset ``latex``; in Chinese (``zh``) too.
"""

from __future__ import annotations

import re

import pytest
from cases import CASES

from gatescope import cells
from gatescope.cells.spec import prose_tex, tex

SYMBOL = r"[A-Za-z]+\u0303?\(t(?:−1)?\)"  # a vector of step t as the prose writes it: f(t), c(t−1), c̃(t)


def phases() -> dict[str, str]:
    """Every phase text of every kind and option, in English and in Chinese, once each: text -> its latex."""
    out = {}
    for kind, opts in CASES:
        for p in cells.glossary(kind, **opts).phases:
            out[p.text] = p.latex
            out[p.zh["text"]] = p.zh["latex"]
    return out


PHASES = phases()


@pytest.mark.parametrize("text", list(PHASES))
def test_every_symbol_is_set_as_math_and_the_prose_is_kept(text):
    latex = PHASES[text]
    parts = latex.split("$")
    assert len(parts) % 2 == 1, latex  # every $ is closed
    prose, math = parts[0::2], parts[1::2]
    # put each math part back as the text wrote it: the whole text again, so no word was lost or moved into math
    rebuilt = re.escape(prose[0]) + "".join(f"(.+?){re.escape(p)}" for p in prose[1:])
    found = re.fullmatch(rebuilt, text, re.S)
    assert found, (text, latex)
    assert [tex(m) for m in found.groups()] == math, (text, latex)
    for m in found.groups():  # each run is whole math: balanced brackets, no prose word, no dangling operator
        assert m.count("(") == m.count(")") and re.search(SYMBOL, m), (m, text)
        assert not re.search(r"\b[a-z]{3,}\b(?!\()", m.replace("tanh", "")), (m, text)
        assert not m.startswith(" ") and not m.endswith(" ") and m[-1] not in "⊙+−=", (m, text)
    assert not any(re.search(SYMBOL, p) for p in prose), ("a symbol left in the prose", text, latex)


@pytest.mark.parametrize("text, latex", [
    ("f(t) decides how much of each unit of c(t−1) to keep.", r"$f_t$ decides how much of each unit of $c_{t-1}$ to keep."),
    ("z(t) blends them: h(t) = (1 − z(t)) ⊙ n(t) + z(t) ⊙ h(t−1).",
     r"$z_t$ blends them: $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$."),
    ("o(t) decides how much of tanh(c(t)) to expose (as h(t)).", r"$o_t$ decides how much of $\tanh(c_t)$ to expose (as $h_t$)."),
    ("One tanh layer mixes x(t) and h(t−1) into h(t).", r"One tanh layer mixes $x_t$ and $h_{t-1}$ into $h_t$."),
    ("The candidate c̃(t), from 2 inputs (x(t) and h(t−1)) + 1 bias.",
     r"The candidate $\tilde{c}_t$, from 2 inputs ($x_t$ and $h_{t-1}$) + 1 bias."),
    ("No math here: 3 = 3.", "No math here: 3 = 3."),
])
def test_prose_tex_sets_off_the_math_and_only_the_math(text, latex):
    assert prose_tex(text) == latex


def test_the_glossary_sends_the_plain_text_and_its_latex_twin():
    phases = cells.REGISTRY["gru"].describe()["glossary"]["phases"]
    update = next(p for p in phases if p["name"] == "update")
    assert update["text"] == "z(t) blends the old state and the candidate: h(t) = (1 − z(t)) ⊙ n(t) + z(t) ⊙ h(t−1)."
    assert update["latex"] == r"$z_t$ blends the old state and the candidate: $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$."
    assert "$" not in update["text"] and "\\" not in update["text"]
