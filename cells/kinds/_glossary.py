"""Builders for glossary entries shared by several kinds.

Symbols follow PyTorch's documentation (W_ii, b_hf, ...) so an equation on
the page reads like the framework the weights came from.
"""

from __future__ import annotations

from ..spec import Name, Phase

SIG, TANH = "σ", "tanh"


def x() -> Name:
    return Name("x", "input x(t)", "x(t)", "given", "real", "given", (), "x(t): the input vector at step t", "x_t", "given", "input_size")


def h_prev(out_range: str = "signed", size: str = "hidden_size") -> Name:
    return Name("h_prev", "previous hidden state h(t−1)", "h(t−1)", "state_in", out_range, "shift", ("h",),
                "h(t−1): the hidden state after the previous step (h0 at t = 0)", "h_{t-1}", "given", size)


def c_prev() -> Name:
    return Name("c_prev", "previous cell state c(t−1)", "c(t−1)", "state_in", "real", "shift", ("c",),
                "c(t−1): the cell state after the previous step (c0 at t = 0)", "c_{t-1}", "given")


def pre(gate: str, sym: str, letter: str, phase: str, operands: tuple[str, ...], extra: str = "", extra_tex: str = "") -> Name:
    """The pre-activation W_i? x + b_i? + W_h? h + b_h? of one gate block (plus extra terms)."""
    text = f"{sym}_pre = W_i{letter}·x(t) + b_i{letter} + W_h{letter}·h(t−1) + b_h{letter}{extra}"
    tex = rf"{_tex(sym)}^{{pre}}_t = W_{{i{letter}}} x_t + b_{{i{letter}}} + W_{{h{letter}}} h_{{t-1}} + b_{{h{letter}}}{extra_tex}"
    return Name(f"{gate}_pre", f"{gate.replace('_', ' ')} pre-activation", f"{sym}_pre", "pre", "real", "affine", operands, text, tex, phase)


def act(gate: str, label: str, sym: str, fn: str, phase: str, role: str = "gate") -> Name:
    """A gate or candidate: the nonlinearity applied to its pre-activation."""
    rng = {"sigmoid": "unit", "tanh": "signed", "relu": "real", "identity": "real"}[fn]
    shown = {"sigmoid": SIG, "tanh": TANH, "relu": "relu", "identity": ""}[fn]
    tex_fn = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{relu}", "identity": ""}[fn]
    base = sym.split("(")[0]
    return Name(gate, label, sym, role, rng, fn, (f"{gate}_pre",), f"{sym} = {shown}({base}_pre)",
                rf"{_tex(sym)} = {tex_fn}({_tex(base)}^{{pre}}_t)", phase)


def product(name: str, label: str, sym: str, a: str, b: str, sa: str, sb: str, phase: str, role: str = "product", rng: str = "real") -> Name:
    return Name(name, label, sym, role, rng, "mul", (a, b), f"{sym} = {sa} ⊙ {sb}", rf"{_tex(sym)} = {_tex(sa)} \odot {_tex(sb)}", phase)


def total(name: str, label: str, sym: str, a: str, b: str, sa: str, sb: str, phase: str, role: str = "state", clip: float | None = None) -> Name:
    if clip is None:
        return Name(name, label, sym, role, "real", "add", (a, b), f"{sym} = {sa} + {sb}", rf"{_tex(sym)} = {_tex(sa)} + {_tex(sb)}", phase)
    return Name(name, label, sym, role, "real", "clip", (a, b), f"{sym} = clip({sa} + {sb}, ±{clip:g})",
                rf"{_tex(sym)} = \mathrm{{clip}}({_tex(sa)} + {_tex(sb)}, \pm {clip:g})", phase)


def one_minus(name: str, label: str, sym: str, a: str, sa: str, phase: str, role: str = "gate") -> Name:
    return Name(name, label, sym, role, "unit", "one_minus", (a,), f"{sym} = 1 − {sa}", rf"{_tex(sym)} = 1 - {_tex(sa)}", phase)


def same(name: str, label: str, sym: str, a: str, sa: str, phase: str, role: str, rng: str = "real", why: str = "") -> Name:
    """A name that equals another one in this variant (kept so diagrams stay alike)."""
    return Name(name, label, sym, role, rng, "identity", (a,), f"{sym} = {sa}{why}", rf"{_tex(sym)} = {_tex(sa)}", phase)


def _tex(sym: str) -> str:
    """'c(t−1)' -> 'c_{t-1}', 'f(t)' -> 'f_t', '1 − z(t)' -> '1 - z_t'."""
    out = sym.replace("−", "-").replace("(t-1)", "_{t-1}").replace("(t)", "_t")
    return out.replace("c̃", r"\tilde{c}").replace("h̃", r"\tilde{h}")


GIVEN = Phase("given", "Inputs", "The step starts from the input x(t) and the state the previous step left.")
