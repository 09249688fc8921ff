"""Builders for glossary entries shared by several kinds.

Symbols follow PyTorch's documentation (W_ii, b_hf, ...) so an equation on
the page reads like the framework the weights came from. Each builder takes
the Chinese of its label (``zh=``) beside the English one; the words the
builders write themselves are translated here (``GATE_ZH``), in the source
article's terms.
"""

from __future__ import annotations

from ..spec import Name, Phase
from ..spec import tex as _tex  # the equations' LaTeX and the phases' are written by the same rules

SIG, TANH = "σ", "tanh"

#: A gate block's name in Chinese, as the article (a Chinese translation) calls it.
GATE_ZH = {"input_gate": "输入门", "forget_gate": "遗忘门", "output_gate": "输出门", "reset_gate": "重置门",
           "update_gate": "更新门", "candidate": "候选值"}


def x() -> Name:
    return Name("x", "input x(t)", "x(t)", "given", "real", "given", (), "x(t): the input vector at step t", "x_t", "given", "input_size",
                {"label": "输入 x(t)", "equation": "x(t)：第 t 步的输入向量"})


def h_prev(out_range: str = "signed", size: str = "hidden_size") -> Name:
    return Name("h_prev", "previous hidden state h(t−1)", "h(t−1)", "state_in", out_range, "shift", ("h",),
                "h(t−1): the hidden state after the previous step (h0 at t = 0)", "h_{t-1}", "given", size,
                {"label": "上一步的隐藏状态 h(t−1)", "equation": "h(t−1)：上一步之后的隐藏状态（t = 0 时为 h0）"})


def c_prev() -> Name:
    return Name("c_prev", "previous cell state c(t−1)", "c(t−1)", "state_in", "real", "shift", ("c",),
                "c(t−1): the cell state after the previous step (c0 at t = 0)", "c_{t-1}", "given",
                zh={"label": "上一步的细胞状态 c(t−1)", "equation": "c(t−1)：上一步之后的细胞状态（t = 0 时为 c0）"})


def pre(gate: str, sym: str, letter: str, phase: str, operands: tuple[str, ...], extra: str = "", extra_tex: str = "") -> Name:
    """The pre-activation W_i? x + b_i? + W_h? h + b_h? of one gate block (plus extra terms)."""
    text = f"{sym}_pre = W_i{letter}·x(t) + b_i{letter} + W_h{letter}·h(t−1) + b_h{letter}{extra}"
    tex = rf"{_tex(sym)}^{{\mathrm{{pre}}}}_t = W_{{i{letter}}} x_t + b_{{i{letter}}} + W_{{h{letter}}} h_{{t-1}} + b_{{h{letter}}}{extra_tex}"
    return Name(f"{gate}_pre", f"{gate.replace('_', ' ')} pre-activation", f"{sym}_pre", "pre", "real", "affine", operands, text, tex, phase,
                zh={"label": f"{GATE_ZH[gate]}预激活"})


def act(gate: str, label: str, sym: str, fn: str, phase: str, role: str = "gate", zh: str = "") -> Name:
    """A gate or candidate: the nonlinearity applied to its pre-activation (no call at all for the identity)."""
    rng = {"sigmoid": "unit", "tanh": "signed", "relu": "real", "identity": "real"}[fn]
    shown = {"sigmoid": SIG, "tanh": TANH, "relu": "relu", "identity": ""}[fn]
    base = sym.split("(")[0] + "_pre"
    rhs = f"{shown}({base})" if shown else base
    return Name(gate, label, sym, role, rng, fn, (f"{gate}_pre",), _eq(sym, rhs), _tex_eq(sym, rhs), phase, zh=_label(zh))


def product(name: str, label: str, sym: str, a: str, b: str, sa: str, sb: str, phase: str, role: str = "product", rng: str = "real",
            zh: str = "") -> Name:
    rhs = f"{operand(sa)} ⊙ {operand(sb)}"
    return Name(name, label, sym, role, rng, "mul", (a, b), _eq(sym, rhs), _tex_eq(sym, rhs), phase, zh=_label(zh))


def total(name: str, label: str, sym: str, a: str, b: str, sa: str, sb: str, phase: str, role: str = "state", clip: float | None = None,
          zh: str = "") -> Name:
    rhs = f"{sa} + {sb}"  # a sum binds loosest, so neither term needs parentheses
    if clip is None:
        return Name(name, label, sym, role, "real", "add", (a, b), _eq(sym, rhs), _tex_eq(sym, rhs), phase, zh=_label(zh))
    rhs = f"clip({rhs}, ±{clip:g})"
    return Name(name, label, sym, role, "real", "clip", (a, b), _eq(sym, rhs), _tex_eq(sym, rhs), phase, zh=_label(zh))


def one_minus(name: str, label: str, sym: str, a: str, sa: str, phase: str, role: str = "gate", zh: str = "") -> Name:
    rhs = f"1 − {operand(sa)}"
    return Name(name, label, sym, role, "unit", "one_minus", (a,), _eq(sym, rhs), _tex_eq(sym, rhs), phase, zh=_label(zh))


def same(name: str, label: str, sym: str, a: str, sa: str, phase: str, role: str, rng: str = "real", why: str = "",
         zh: str = "", why_zh: str = "") -> Name:
    """A name that equals another one in this variant (kept so diagrams stay alike); ``why`` is a note after it
    (``why_zh`` in Chinese)."""
    words = _label(zh)
    if why_zh:
        words |= {"equation": _eq(sym, sa) + why_zh, "latex": _tex_eq(sym, sa) + _tex_note(why_zh)}
    return Name(name, label, sym, role, rng, "identity", (a,), _eq(sym, sa) + why, _tex_eq(sym, sa) + _tex_note(why), phase, zh=words)


def _tex_note(note: str) -> str:
    """A note after an equation, set as text beside its LaTeX."""
    return rf" \quad \text{{{note.strip()}}}" if note else ""


def _label(zh: str) -> dict[str, str]:
    """A builder's ``zh`` as a Name's words: its label in Chinese ({} when not given: the label reads in English)."""
    return {"label": zh} if zh else {}


# -- writing an equation -------------------------------------------------------
# Precedence as a reader takes it: · (a matrix times a vector) binds tightest, then ⊙, then + and −. A
# builder is given its operands' symbols as text, and a symbol may itself be an expression (1 − z(t),
# r(t) ⊙ h(t−1)); spliced in bare, 1 − z(t) ⊙ n(t) would read as 1 − (z(t) ⊙ n(t)). So an operand with an
# operator outside its own brackets is parenthesised, and a name whose symbol is its definition is written once.

_OPERATORS = (" + ", " − ", " ⊙ ", "·", ", ")


def _top_level(text: str) -> str:
    """``text`` with every bracketed part blanked out: what is left is its outermost structure."""
    out, depth = [], 0
    for ch in text:
        depth += ch in "(["
        out.append(ch if depth == 0 else " ")
        depth -= ch in ")]"
    return "".join(out)


def operand(sym: str) -> str:
    """``sym`` as an operand of ⊙ or of 1 −: parenthesised when it is a compound expression."""
    return f"({sym})" if any(op in _top_level(sym) for op in _OPERATORS) else sym


def _eq(sym: str, rhs: str) -> str:
    """'sym = rhs', or just rhs when the symbol already spells its definition (no '1 − z(t) = 1 − z(t)')."""
    return rhs if sym == rhs else f"{sym} = {rhs}"


def _tex_eq(sym: str, rhs: str) -> str:
    return _tex(_eq(sym, rhs))


GIVEN = Phase("given", "Inputs", "The step starts from the input x(t) and the state the previous step left.",
              {"title": "输入", "text": "这一步从输入 x(t) 和上一步留下的状态开始。"})
