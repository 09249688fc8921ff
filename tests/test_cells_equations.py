"""The equations the page shows are true: each one, read as a student reads it, gives the trace's numbers.

test_cells_glossary checks each name against its op and operands; this checks the text a reader sees.
Every name's ``equation`` is parsed with the precedence a reader applies (· a matrix times a vector
binds tightest, then ⊙, then + and −), evaluated on the trace's own vectors and the model's own weights,
and compared with the trace. So `written(t) = 1 − z(t) ⊙ n(t)`, which reads as 1 − (z ⊙ n), fails
(test_a_missing_parenthesis_is_caught). The ``latex`` is read into the same tree, parentheses included,
so the typeset equation says the same as the text. The grammar is small and written here; no string is
ever handed to eval.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest
from cases import CASES, IDS

from gatescope import cells

FUNCS = {"σ": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0),
         "g": lambda a: np.where(a >= 0, a + 0.5, 1 / (1 + np.exp(-a))),   # minGRU's and minLSTM's candidate
         "max": np.maximum, "clip": lambda a, lim: np.clip(a, -lim, lim),
         "exp": np.exp, "log": np.log, "softplus": lambda a: np.logaddexp(0.0, a), "√": np.sqrt,
         "SiLU": lambda a: a / (1 + np.exp(-a))}
TOKEN = re.compile(r"""
    (?P<num>\d+(?:\.\d+)?)
  | (?P<atom>[^\W\d_σ²](?:(?!²)[\w\u0303\u0304\u2032])*(?:\((?:t|t−\d+)\))?)   # f(t), h(t−1), c̃_pre, W_if, kept(t), f′(t), Λ, ā(t)
  | (?P<func>[σ√])
  | (?P<op>[+−⊙⊗·/=,±()\[\]²])
  | (?P<space>\s+)
""", re.X)
OPERAND_END, OPERAND_START = {"num", "atom", ")", "]"}, {"num", "atom", "func", "(", "["}


def tokens(text: str, juxtaposed: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, text) tokens and the notes: '(no output gate)' after an operand and a space is a note, not a factor.

    ``juxtaposed``: the operator two operands written side by side stand for (LaTeX's W_{ii} x_t is W_ii·x(t));
    None where side by side is not allowed (the text always writes its operators).
    """
    out, notes, pos, spaced = [], [], 0, False
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m, f"unreadable at {text[pos:]!r} in {text!r}"
        kind, tok = m.lastgroup, m.group()
        if kind == "atom" and tok in FUNCS:
            kind = "func"
        elif kind == "op":
            kind = tok
        pos = m.end()
        if kind == "space":
            spaced = True
            continue
        prev = out[-1][0] if out else None
        if kind == "(" and spaced and prev in OPERAND_END and juxtaposed is None:
            end = text.index(")", pos)
            notes.append(text[pos:end])
            pos, spaced = end + 1, False
            continue
        if juxtaposed and prev in OPERAND_END and kind in OPERAND_START:
            out.append((juxtaposed, juxtaposed))
        out.append((kind, tok))
        spaced = False
    return out, notes


class Parser:
    """expr := term ((+|−) term)*; term := factor ((⊙|/) factor)*; factor := power (· power)*; power := unit ²*;
    unit := number | atom | func(expr, ...) | func unit | (expr) | [expr, ...] | ±number | −unit (log a(t) is log(a(t)),
    √(1 − a) the root of the bracket). Trees are tuples; ("paren", e) kept."""

    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self):
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def take(self, kind=None):
        got = self.toks[self.i]
        assert kind is None or got[0] == kind, f"expected {kind}, got {got} in {self.toks}"
        self.i += 1
        return got[1]

    def binary(self, ops, lower):
        tree = lower()
        while self.peek() in ops:
            tree = (ops[self.take()], tree, lower())
        return tree

    def expr(self):
        return self.binary({"+": "add", "−": "sub"}, self.term)

    def term(self):
        return self.binary({"⊙": "mul", "⊗": "outer", "/": "div"}, self.factor)

    def factor(self):
        return self.binary({"·": "dot"}, self.power)

    def power(self):
        tree = self.unit()
        while self.peek() == "²":
            self.take()
            tree = ("square", tree)
        return tree

    def items(self, close):
        out = [self.expr()]
        while self.peek() == ",":
            self.take(",")
            out.append(self.expr())
        self.take(close)
        return out

    def unit(self):
        kind = self.peek()
        if kind == "num":
            return ("num", float(self.take()))
        if kind == "±":
            self.take()
            return ("pm", float(self.take("num")))
        if kind == "−":  # a negative number, as the page's numbers write it
            self.take()
            return ("neg", self.unit())
        if kind == "func":
            fn = self.take()
            if self.peek() != "(":   # log a(t): a function of the one operand after it
                return ("call", fn, [self.unit()])
            self.take("(")
            args = self.items(")")
            return ("call", "max", [("num", 0.0), *args]) if fn == "relu" else ("call", fn, args)  # relu(a) is max(0, a)
        if kind == "atom":
            return ("var", self.take())
        if kind == "(":
            self.take()
            return ("paren", self.items(")")[0])
        self.take("[")
        return ("cat", self.items("]"))


def parse(toks) -> tuple:
    """(lhs tree or None, rhs tree) of 'lhs = rhs' or of a bare definition."""
    p = Parser(toks)
    first = p.expr()
    if p.peek() == "=":
        p.take("=")
        lhs, rhs = first, p.expr()
    else:
        lhs, rhs = None, first
    assert p.peek() is None, f"left over: {toks[p.i:]}"
    return lhs, rhs


def tex_to_text(tex: str) -> str:
    """LaTeX as this project writes it, spelled in the text's tokens: \\tilde{c}^{\\mathrm{pre}}_t -> c̃_pre, h_{t-1} -> h(t−1)."""
    out = re.sub(r"\\quad\s*|\\text\{[^}]*\}", "", tex).replace(r"\,", " ")
    out = re.sub(r"\\bar\{(\w)\}", lambda m: unicodedata.normalize("NFC", m.group(1) + "\u0304"), out)   # \bar{a}: ā
    out = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: " / ".join(_bracketed(p) for p in m.groups()), out)
    out = out.replace("'", "\u2032")   # f'_t: f′(t)
    for a, b in ((r"\tilde{c}", "c\u0303"), (r"\tilde{h}", "h\u0303"), (r"\sigma", "σ"), (r"\tanh", "tanh"), (r"\max", "max"),
                 (r"\odot", "⊙"), (r"\otimes", "⊗"), (r"\Delta ", "Δ"), (r"\pm", "±"), (r"\Lambda", "Λ"), (r"\exp", "exp"), (r"\log", "log "), ("-", "−")):
        out = out.replace(a, b)
    out = re.sub(r"\\mathrm\{(\w+)\}", r"\1", out)
    out = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", out)
    out = re.sub(r"\^\{(\w+)\}_\{t−(\d+)\}", r"_\1(t−\2)", out)          # u^{pre}_{t-2}: u_pre(t−2)
    out = re.sub(r"_\{t−(\d+)\}", r"(t−\1)", re.sub(r"\^\{(\w+)\}_t\b", r"_\1", out))   # u^{pre}_t: u_pre
    out = re.sub(r"_t\b", "(t)", out).replace("^2", "²")
    out = re.sub(r"_\{(\w+)\}", r"_\1", out)
    assert "\\" not in out and "{" not in out, f"LaTeX this test cannot read: {tex!r} -> {out!r}"
    return out


def _bracketed(part: str) -> str:
    """A fraction's numerator or denominator as the text writes it: in brackets when it is more than one atom."""
    return part if re.fullmatch(r"\S+", part) else f"({part})"


def strip_parens(tree):
    if not isinstance(tree, tuple):
        return [strip_parens(t) for t in tree] if isinstance(tree, list) else tree
    if tree[0] == "paren":
        return strip_parens(tree[1])
    return tuple(strip_parens(t) for t in tree)


def evaluate(tree, env):
    """A tree's value over every step at once: vectors are (T, width), weights (rows, cols), · is W @ v (or a constant
    times v). A symbol written as an expression (log a(t), 1 − z(t)) is found by its tree: env holds it under that tree."""
    if key(tree) in env:
        return env[key(tree)]
    op = tree[0]
    if op == "num":
        return tree[1]
    if op == "var":
        return lookup(tree[1], env)
    if op == "pm":
        return tree[1]
    if op == "neg":
        return -evaluate(tree[1], env)
    if op == "square":
        return evaluate(tree[1], env) ** 2
    if op == "paren":
        return evaluate(tree[1], env)
    if op == "cat":
        return np.concatenate([evaluate(t, env) for t in tree[1]], axis=-1)
    if op == "call":
        return FUNCS[tree[1]](*(evaluate(t, env) for t in tree[2]))
    a, b = evaluate(tree[1], env), evaluate(tree[2], env)
    if op == "dot":  # a matrix (out, in) times each step's vector (T, in), or a constant (c·softplus(Λ)) times a vector,
        if isinstance(a, Weight):   # or a state of N values per channel (T, D·N) read through a step's N values (T, N): Σₙ
            return np.asarray(b @ a.T)
        return a * b if np.ndim(a) == 0 else (a.reshape(len(a), -1, b.shape[1]) * b[:, None]).sum(-1)
    if op == "outer":  # a step's vector (T, D) ⊗ a step's N values (T, N), or ⊗ a matrix (D, N) of N values per channel
        return (a[:, :, None] * (np.asarray(b)[None] if isinstance(b, Weight) else b[:, None])).reshape(len(a), -1)
    return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op](a, b)


def lookup(symbol: str, env):
    """A name's vector by its symbol, or a weight; u_pre(t−2) is u_pre's vector two steps back (0 before the first)."""
    if symbol in env:
        return env[symbol]
    m = re.fullmatch(r"(.+)\(t(?:−(\d+))?\)", symbol)
    base = m and next((b for b in (m[1], m[1] + "(t)") if b in env), None)
    assert base, f"{symbol!r} is neither a name's symbol nor a weight"
    k, a = int(m[2] or 0), env[base]
    return np.concatenate([np.zeros((k,) + a.shape[1:]), a[:len(a) - k]]) if k else a


class Weight(np.ndarray):
    """A parameter (W_ii, A, Λ), told from a step's vector (T, width) by its type, not its shape."""


def key(tree) -> str:
    """How env holds a symbol written as an expression: its tree, parentheses aside."""
    return repr(strip_parens(tree))


def weights(model) -> dict[str, np.ndarray]:
    """The model's parameters under the symbols the equations use: W_if is the forget block of weight_ih, ...

    A block's letter is read from its pre-activation's equation (W_i?·x(t)); if it were misread, the numbers
    would not match. Peepholes weight_c? are p_?, FGR's weight_gg rows are R_? for the gates fed back, in the
    glossary's order, and a projection weight_hr is W_hr. A kind whose gates read x(t) alone (minGRU) writes
    W_z·x(t): its blocks are W_? and it has no other matrix or bias. A kind whose symbols are its own (RG-LRU's W_a,
    Λ, c) says what each holds (Kind.symbols).
    """
    p = {k.removesuffix("_l0"): v for k, v in model.params.items()}
    own = model.spec.symbols(p, model.options)
    if own:
        return {k: np.asarray(w).view(Weight) if np.ndim(w) else w for k, w in own.items()}
    glossary, H = model.glossary, model.hidden_size
    of_x = "weight_hh" not in p
    pattern = r"W_(\w+)·x\(t\)" if of_x else r"W_i(\w+)·x\(t\)"
    letter = {b: re.search(pattern, glossary[f"{b}_pre"].equation).group(1) for b in cells.REGISTRY[model.kind].blocks}
    out = {}
    for k, b in enumerate(letter.values()):
        rows = slice(k * H, (k + 1) * H)
        if of_x:
            out[f"W_{b}"] = p["weight_ih"][rows]
            continue
        out |= {f"W_i{b}": p["weight_ih"][rows], f"W_h{b}": p["weight_hh"][rows], f"b_i{b}": p["bias_ih"][rows], f"b_h{b}": p["bias_hh"][rows]}
    fed_back = [n.operands[0] for n in glossary if n.op == "shift" and n.operands[0] in letter] if "weight_gg" in p else []
    for k, g in enumerate(fed_back):
        out[f"R_{letter[g]}"] = p["weight_gg"][k * H:(k + 1) * H]
    out |= {f"p_{name[-1]}": v for name, v in p.items() if re.fullmatch(r"weight_c[a-z]", name)}
    if "weight_hr" in p:
        out["W_hr"] = p["weight_hr"]
    return {k: np.asarray(w).view(Weight) for k, w in out.items()}


def says_it_is(n) -> bool:
    """Whether a name's equation defines its symbol as written: the symbol is the equation, or its left side. A symbol
    that is a short label (the GRU's W_hn·h(t−1) for W_hn·h(t−1) + b_hn) is not."""
    lhs, rhs = parse(tokens(n.equation)[0])
    return key(parse(tokens(n.symbol)[0])[1]) == key(rhs if lhs is None else lhs)


def run_case(kind: str, opts: dict, steps: int = 7):
    model = cells.build(kind, 3, 6, seed=4, dtype="float64", **opts)
    trace = model.run(np.random.default_rng(1).standard_normal((steps, 3)) * 1.5)
    env = weights(model)
    for n in model.glossary:
        if len(tokens(n.symbol)[0]) == 1:  # a symbol that is one atom names its vector: f(t), h(t−1), c̃_pre
            env[n.symbol] = trace[n.name]
        elif n.op not in ("given", "shift") and says_it_is(n):   # an expression its equation defines (log a(t) = ...,
            env[key(parse(tokens(n.symbol)[0])[1])] = trace[n.name]   # 1 − z(t)) is its vector wherever it is written
    return model, trace, env


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_shown_equation_gives_the_traces_numbers(case):
    kind, opts = case
    model, trace, env = run_case(kind, opts)
    for n in model.glossary:
        if n.op in ("given", "shift"):  # prose about an input or the previous step, not an equation
            continue
        toks, _ = tokens(n.equation)
        lhs, rhs = parse(toks)
        if lhs is None:  # a definition on its own is what the name is: its symbol cannot be a bare letter
            assert len(tokens(n.symbol)[0]) > 1, f"{n.name}: {n.equation!r} does not say what it defines"
        else:
            assert strip_parens(lhs) != strip_parens(rhs), f"{n.name}: {n.equation!r} says nothing"
            assert key(lhs) == key(parse(tokens(n.symbol)[0])[1]), \
                f"{n.name}: the left side of {n.equation!r} is not its symbol {n.symbol!r}"
        others = {k: v for k, v in env.items() if k not in (n.symbol, key(parse(tokens(n.symbol)[0])[1]))}   # never itself
        np.testing.assert_allclose(evaluate(rhs, others), trace[n.name], rtol=1e-9, atol=1e-12, err_msg=f"{n.name}: {n.equation}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_latex_says_what_the_text_says(case):
    kind, opts = case
    for n in cells.glossary(kind, **opts):
        if n.op in ("given", "shift"):
            continue
        text = parse(tokens(n.equation)[0])
        tex = parse(tokens(tex_to_text(n.latex), juxtaposed="·")[0])
        assert tex == text, f"{n.name}: LaTeX {n.latex!r} reads differently from {n.equation!r}"


def test_a_missing_parenthesis_is_caught():
    """What the GRU and MGU showed before: 1 − z(t) ⊙ n(t) is 1 − (z ⊙ n), not the written part."""
    for kind, name, old in [("gru", "written", "written(t) = 1 − z(t) ⊙ n(t)"), ("mgu", "kept", "kept(t) = 1 − f(t) ⊙ h(t−1)")]:
        _, trace, env = run_case(kind, {})
        _, rhs = parse(tokens(old)[0])
        assert not np.allclose(evaluate(rhs, env), trace[name], rtol=1e-3, atol=1e-3), old
        shown = cells.glossary(kind)[name].equation
        assert "(1 − " in shown
        np.testing.assert_allclose(evaluate(parse(tokens(shown)[0])[1], env), trace[name], rtol=1e-9, atol=1e-12)


def test_the_grammar_reads_as_a_student_does():
    env = {"a(t)": np.array([[2.0]]), "b(t)": np.array([[3.0]]), "W": np.array([[10.0]])}
    read = {"1 − a(t) ⊙ b(t)": -5.0, "(1 − a(t)) ⊙ b(t)": -3.0, "a(t) + W·b(t)": 32.0, "a(t) ⊙ W·b(t)": 60.0,
            "clip(a(t) + b(t), ±4)": 4.0, "relu(1 − b(t))": 0.0, "a(t) (a note)": 2.0}
    for text, value in read.items():
        assert evaluate(parse(tokens(text)[0])[1], env).item() == pytest.approx(value), text
    assert tokens("h(t) = tanh(c(t)) (no output gate)")[1] == ["no output gate"]
    with pytest.raises(AssertionError):
        parse(tokens("a(t) b(t)")[0])  # side by side without an operator is not an equation
    assert parse(tokens(tex_to_text(r"\mathrm{kept}_t = (1 - f_t) \odot h_{t-1}"), "·")[0]) == parse(tokens("kept(t) = (1 − f(t)) ⊙ h(t−1)")[0])
    assert parse(tokens("(a(t)) ⊙ b(t)")[0]) != parse(tokens("a(t) ⊙ b(t)")[0])  # the trees keep the parentheses


def test_no_symbol_is_its_own_equation():
    """'1 − z(t) = 1 − z(t)' and 'f(t) ⊙ h(t−1) = f(t) ⊙ h(t−1)' were shown; a name that is its definition shows it once."""
    for kind, opts in CASES:
        for n in cells.glossary(kind, **opts):
            assert n.equation != f"{n.symbol} = {n.symbol}" and not n.equation.startswith(f"{n.symbol} = {n.symbol} "), n.equation
            if n.op not in ("given", "shift"):  # a hover shows the label, then the equation: not the same line twice
                assert n.label != n.equation, (kind, opts, n.name, n.label)
    assert cells.glossary("gru")["update_complement"].equation == "1 − z(t)"
    assert cells.glossary("mgu")["reset_hidden"].equation == "f(t) ⊙ h(t−1)"
