"""What a cell kind declares about itself: its options and its glossary.

The glossary is the single list of names a trace holds ("input_gate",
"forget_gate", "c", "kept", ...). The server sends it to the page and the
page labels its legend, heatmaps and diagram from it, so no name is spelled
twice. The words are chosen once, here, and mean one thing everywhere:
a gate is ``*_gate`` (char-rnn's in_gate, forget_gate), ``input`` is only
ever the text or numbers a user gives, a *size* is one of the model's sizes
(input_size, hidden_size, proj_size) and ``vocab`` is a model's tokens.

Each :class:`Name` also records how it is computed from other names (``op``
and ``operands``). That is what the page draws as the diagram's arrows, and a
test recomputes every such name from its inputs in a real trace, so the
picture cannot drift from the math.

**Two languages.** The words a reader sees (a kind's title and summary, an
option's doc, a name's label and the prose in its equation, a phase's title
and text) are written in English and, beside them in the same declaration,
in Chinese: each :class:`Name`, :class:`Phase`, :class:`Option` and kind has
a ``zh`` dict keyed by the English field it translates (``{"label": "遗忘门
f(t)"}``; a phase's ``{"title", "text"}`` gains its ``latex``, made from the
Chinese text by the same rules). ``describe()`` sends it as is, beside the
English fields: a reader in Chinese takes ``{**entry, **entry["zh"]}``. A field
it lacks (an equation with no words in it; everything of a kind registered
without Chinese) reads in English, so a kind needs no Chinese to work.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import OptionError

# Roles of a name; the page groups and colors by these.
ROLES = ("given", "state_in", "pre", "gate", "candidate", "product", "state", "output")
#: "state_size" is a kind's own state's width where it is not the hidden size (Kind.sizes): Mamba's D·N, mLSTM's heads·d·d;
#: "state_width" the N values one channel of Mamba's state holds (its B(t) and C(t), shared by the channels).
SIZES = ("hidden_size", "input_size", "proj_size", "state_size", "state_width")
# Value ranges; "unit" is [0, 1] (sigmoid gates), "signed" is [-1, 1] (tanh), "real" is unbounded.
RANGES = ("unit", "signed", "real")
# Ops whose result the engine stores; "affine" means a matmul with weights (or a learned vector, clamp_terms' "diag"); "g" is
# minGRU's and minLSTM's candidate activation (cells._math.g); "div" the first operand over the second (minLSTM's
# f′ = f / (f + i)); "sub" the first less the second; "max" the larger of the two; "exp", "softplus" log(1 + eᵃ),
# "log_sigmoid" log σ(a), "silu" a·σ(a), "sqrt", "abs", "neg" (−a) and "sqrt_one_minus_square" √(1 − a²) of one
# operand (RG-LRU's multiplier, one factor in its paper): the exponential gates and
# stabilizers of sLSTM and mLSTM, RG-LRU's decay, Mamba's step size. "outer" and "contract" are the state-space cells'
# products of a vector of the channels with one of the state's N values: outer(a, b)[d, n] = a[d]·b[n], flattened
# row-major, and contract(S, b)[d] = Σₙ S[d, n]·b[n].
OPS = ("given", "affine", "sigmoid", "tanh", "relu", "identity", "g", "one_minus", "mul", "div", "add", "sub", "max", "exp",
       "softplus", "log_sigmoid", "silu", "sqrt", "sqrt_one_minus_square", "abs", "neg", "outer", "contract", "clip", "shift")
# The ops of one kind each, until the kinds that use them are registered and the page spells them out (cells.kinds.slstm,
# mlstm): "capped_add" (a, b, c, n) is a + b, at most c where n = 0 (sLSTM's f̃′ + m(t−1) at a sequence's first step);
# per head g of mLSTM's matrix memory, "head_outer" a_g b_gᵀ, "head_scale" a_g S_g, "head_matvec" S_g b_g, "head_dot" a_gᵀ b_g.
OPS += ("capped_add", "head_outer", "head_scale", "head_matvec", "head_dot")


@dataclass(frozen=True)
class Option:
    """One keyword option of a cell kind, with its default and its check."""

    name: str
    default: Any
    doc: str
    type: type
    choices: tuple | None = None
    minimum: float | None = None
    nullable: bool = False
    zh: dict[str, str] = field(default_factory=dict, compare=False)  # {"doc": the doc in Chinese}
    #: the model size this option's value must divide ("hidden_size": heads of block-diagonal weights; the kind refuses
    #: a value that does not, naming both)
    divides: str | None = None

    def check(self, value: Any) -> Any:
        """Return ``value`` coerced to the option's type, or raise OptionError naming it."""
        if value is None:
            if self.nullable:
                return None
            raise OptionError(f"option {self.name}: None is not allowed; expected {self._expected()}")
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise OptionError(f"option {self.name}: got {value!r}; expected true or false")
        if self.type is int:
            if isinstance(value, bool) or not _is_integral(value):
                raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}")
            value = int(value)
        elif self.type is float:
            if isinstance(value, bool):
                raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}") from None
            if not math.isfinite(value):
                raise OptionError(f"option {self.name}: got {value!r}; expected a finite number")
        elif self.type is str:
            if not isinstance(value, str):
                raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}")
        if self.choices is not None and value not in self.choices:
            raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}")
        if self.minimum is not None and value < self.minimum:
            raise OptionError(f"option {self.name}: got {value!r}; expected {self._expected()}")
        return value

    def _expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.type]
        if self.minimum is not None:
            kind += f" >= {self.minimum:g}"
        return kind + (" or null" if self.nullable else "")

    def describe(self) -> dict:
        return {
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "doc": self.doc,
            "choices": list(self.choices) if self.choices is not None else None,
            "minimum": self.minimum,
            "nullable": self.nullable,
            "divides": self.divides,
            "zh": dict(self.zh),
        }


def _is_integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            int(value)
        except ValueError:
            return False
        return True
    return False


@dataclass(frozen=True)
class Name:
    """One vector the trace holds at every timestep.

    ``op`` and ``inputs`` say how it is computed: ``mul`` of its two inputs,
    ``sigmoid`` of its one input, ``affine`` (a matmul with the weights; the
    inputs then name the vectors that enter it), ``shift`` (the previous
    step's value of the input), ``given`` (supplied from outside).
    """

    name: str
    label: str
    symbol: str
    role: str
    range: str
    op: str
    operands: tuple[str, ...]
    equation: str
    latex: str
    phase: str
    size: str = "hidden_size"  # which of the model's sizes the vector has: hidden_size, input_size or proj_size
    #: the Chinese of its words: {"label"}, and "equation" (with "latex" where the LaTeX has words) when the equation has prose
    zh: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self):
        assert self.role in ROLES, self.role
        assert self.range in RANGES, self.range
        assert self.op in OPS, self.op
        assert self.size in SIZES, self.size

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "symbol": self.symbol,
            "role": self.role,
            "range": self.range,
            "op": self.op,
            "operands": list(self.operands),
            "equation": self.equation,
            "latex": self.latex,
            "phase": self.phase,
            "size": self.size,
            "zh": dict(self.zh),
        }


# -- writing math ---------------------------------------------------------------
# An equation is written once, as text in the page's notation ("c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ c̃(t)"), and its
# LaTeX is made from that text by fixed rules, so the two cannot say different things.

_TEX_WORDS = (("c̃", r"\tilde{c}"), ("h̃", r"\tilde{h}"), ("σ(", r"\sigma("), ("tanh(", r"\tanh("), ("relu(", r"\mathrm{relu}("),
              ("clip(", r"\mathrm{clip}("), (" ⊙ ", r" \odot "), ("·", " "), ("±", r"\pm "), ("−", "-"))


def tex(text: str) -> str:
    """The LaTeX of an equation written in the page's text: 'kept(t) = (1 − f(t)) ⊙ h(t−1)' ->
    '\\mathrm{kept}_t = (1 - f_t) \\odot h_{t-1}'. A word of several letters is upright (\\mathrm), as a name."""
    out = re.sub(r"(?<![\\\w])([A-Za-z]{2,})(?=\(t)", r"\\mathrm{\1}", text)     # kept(t), written(t): names, not products
    out = re.sub(r"([^\s(]+?)_pre\b", r"\1^{\\mathrm{pre}}_t", out)         # f_pre -> f^{\mathrm{pre}}_t
    out = out.replace("(t−1)", "_{t-1}").replace("(t)", "_t")
    out = re.sub(r"\b([A-Za-z])_([A-Za-z]{2,})\b", r"\1_{\2}", out)            # W_hn -> W_{hn}
    for plain, latex in _TEX_WORDS:
        out = out.replace(plain, latex)
    return out


# Prose names its vectors in the same notation ("f(t) decides how much of each unit of c(t−1) to keep"). A run of
# math in it is a run of these tokens, back to back, that holds at least one symbol of step t: a vector (f(t),
# c(t−1), c̃(t)), a call (tanh(, σ(), a bracket, a number, an operator with its spaces. "tanh layer" is a word.
_SYMBOL = r"[A-Za-z]+\u0303?\(t(?:−1)?\)"
_MATH_TOKEN = re.compile(rf"{_SYMBOL}|(?:σ|tanh|relu)\(|[()]|\d+(?:\.\d+)?| [⊙+−=] |·")


def _math_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of math in prose: tokens back to back, cut where a bracket of the prose's own
    closes or opens, without the operators at its ends, and only if it holds a symbol."""
    runs: list[list[re.Match]] = []
    for m in _MATH_TOKEN.finditer(text):
        if runs and runs[-1][-1].end() == m.start():
            runs[-1].append(m)
        else:
            runs.append([m])
    out = []
    for run in runs:
        for part in (p[::-1] for forward in _cut(run, ")") for p in _cut(forward[::-1], "(")):
            while part and part[-1].group().startswith((" ", "·")):
                part.pop()
            while part and part[0].group().startswith((" ", "·")):
                part.pop(0)
            if any(re.fullmatch(_SYMBOL, m.group()) for m in part):
                out.append((part[0].start(), part[-1].end()))
    return out


def _cut(run: list[re.Match], close: str) -> list[list[re.Match]]:
    """The run in parts, cut at each bracket ``close`` that closes nothing of the run's own (read in the run's order)."""
    opened = "(" if close == ")" else ")"
    parts: list[list[re.Match]] = [[]]
    depth = 0
    for m in run:
        depth += m.group().count(opened) - m.group().count(close)
        if depth < 0:
            parts.append([])
            depth = 0
        else:
            parts[-1].append(m)
    return parts


def prose_tex(text: str) -> str:
    """Prose with its math set off for KaTeX: 'f(t) decides how much of c(t−1) to keep' ->
    '$f_t$ decides how much of $c_{t-1}$ to keep'. The prose itself is left as written."""
    assert "$" not in text, f"prose with a $ cannot be told from its math: {text!r}"
    out, at = [], 0
    for start, end in _math_runs(text):
        out += [text[at:start], f"${tex(text[start:end])}$"]
        at = end
    return "".join(out) + text[at:]


@dataclass(frozen=True)
class Phase:
    """One stage of the step animation (the article's order), and what it shows: ``text`` is plain prose, ``latex``
    the same prose with its math set off as $…$ in LaTeX (made from ``text``), for the page to typeset; ``zh`` the
    title and text in Chinese, to which the Chinese latex is added the same way."""

    name: str
    title: str
    text: str
    zh: dict[str, str] = field(default_factory=dict, compare=False)
    latex: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "latex", prose_tex(self.text))
        if "text" in self.zh:
            object.__setattr__(self, "zh", {**self.zh, "latex": prose_tex(self.zh["text"])})


@dataclass
class Glossary:
    """The names of one kind under given options, in diagram order."""

    names: tuple[Name, ...]
    phases: tuple[Phase, ...]
    _index: dict[str, Name] = field(init=False, repr=False)

    def __post_init__(self):
        self._index = {n.name: n for n in self.names}
        assert len(self._index) == len(self.names), "duplicate names"
        known = set(self._index)
        for n in self.names:
            missing = set(n.operands) - known
            assert not missing, f"{n.name} reads unknown names {missing}"
        phases = {p.name for p in self.phases}
        assert all(n.phase in phases for n in self.names), "name in unknown phase"

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> Name:
        return self._index[name]

    def keys(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.names)

    @property
    def renamed(self) -> dict[str, str]:
        """Names as gatescope spelled them before gates were ``*_gate`` ("forget", "input_pre", ...) -> today's,
        so a permalink or a script written then still finds its vector."""
        out = {}
        for n in self.names:
            stem, gate, suffix = n.name.partition("_gate")
            if gate and suffix in ("", "_pre", "_prev"):
                out[stem + suffix] = n.name
        return out

    def lookup(self, name: str) -> str | None:
        """``name`` as this glossary spells it (an old spelling translated), or None when it has no such name."""
        return name if name in self._index else self.renamed.get(name)

    def describe(self) -> dict:
        return {
            "names": [n.describe() for n in self.names],
            "phases": [{"name": p.name, "title": p.title, "text": p.text, "latex": p.latex, "zh": dict(p.zh)} for p in self.phases],
            "renamed": self.renamed,
        }
