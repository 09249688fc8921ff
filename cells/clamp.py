"""What if: hold a gate or a state at a value and run the rest of the sequence from it.

    clamp = Clamp.parse("forget:1;input[3]:0@10-")
    trace = model.run(xs, clamp=clamp)      # or clamp="forget:1"

A clamp is one or more *holds* joined by ``;``. A hold reads

    [l<layer>.]<name>[<units>]:<value>[@<steps>]

- ``name``: a gate or state of the kind's glossary, by its name (``forget_gate``, ``c``, ``h``,
  ``candidate``) or by the gate's short word (``forget``, ``input``, ``output``, ``reset``, ``update``);
- ``units``: ``[3]``, ``[0,2,5]``, ``[2-5]`` (both ends included); none: every unit;
- ``value``: a finite number inside the name's range ([0, 1] for a sigmoid gate, [−1, 1] for a tanh one);
- ``steps``: ``@5``, ``@3-7`` (both ends included), ``@10-`` (from step 10 on); none: every step.
  Steps are numbered in the input's order for both directions. A step past the end of a run holds
  nothing, so a hold from step 10 takes effect when typing reaches step 10;
- ``l<layer>.``: that layer only (both directions); none: every layer and direction.

What a hold means, in the math: the held name's value at those units and steps *is* the value, and
everything computed from it is computed from the value, within the step (a held forget gate changes
kept, c, tanh(c), h) and after it (c and h flow on to every later step). Clamping a gate holds its
activation, never its pre-activation: f = 1 is a statement about the gate, z_f = +inf is not a number.
Holds apply in the order written, so where two cover the same unit and step the later one wins.

How it runs, for every kind without code of its own: the stretches of steps that no hold touches run
through the kind's own loop unchanged; each held step runs through it alone, and then the held names are
set and every name downstream of them in that step is computed again from the glossary's ops (each
Name's ``op`` and ``operands``). An ``affine`` name downstream of a hold (a peephole's p_o ⊙ c(t), a
projection W_hr·m(t), the GRU's candidate) changes by a term its kind declares in ``Kind.clamp_terms``;
a name whose downstream holds an affine term the kind does not declare cannot be clamped, and saying
so names the ones that can. A clamped run has no backward pass: gradients are of the model as it is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import _math
from .errors import CellsError
from .kinds.base import LayerState
from .spec import Glossary

MAX_TEXT = 1_000    # characters of a whole clamp
MAX_HOLDS = 16      # holds in one clamp
MAX_INDEX = 10**7   # the largest unit or step a hold may name, before any model is known
CLAMPABLE_ROLES = ("gate", "candidate", "state", "output")  # what a lecturer holds; products and pre-activations follow
RANGES = {"unit": (0.0, 1.0), "signed": (-1.0, 1.0), "real": (-math.inf, math.inf)}

_HOLD = re.compile(r"(?:l(?P<layer>\d+)\.)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<units>[^\]]*)\])?"
                   r":(?P<value>[^@]*)(?:@(?P<steps>.*))?", re.ASCII)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_SPAN = re.compile(r"(\d+)(?:(-)(\d*))?", re.ASCII)
EXAMPLE = "write name[units]:value@steps, e.g. forget:1, input[3]:0@10-, c[0-3]:0.5@2-8"


class ClampError(CellsError):
    """A clamp that cannot be read or applied; ``part`` is the hold (or the whole text) at fault."""

    def __init__(self, part: str, problem: str):
        self.part = part
        super().__init__(f"clamp {part!r}: {problem}" if part else f"clamp: {problem}")


def _fmt(v: float) -> str:
    """The shortest text that reads back as ``v``: 1, 0.25, -1e-07."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _span(text: str, part: str, what: str, open_end: bool) -> tuple[int, int | None]:
    """'5' -> (5, 5); '3-7' -> (3, 7); '10-' -> (10, None) where an open end is allowed."""
    m = _SPAN.fullmatch(text.strip())
    if not m or (m.group(2) and not m.group(3) and not open_end):
        shown = "5, 3-7 or 10-" if open_end else "5 or 2-5"
        raise ClampError(part, f"{what} {text!r}: expected {shown}")
    lo = int(m.group(1))
    hi = None if m.group(2) and not m.group(3) else int(m.group(3) or lo)
    for n in (lo, hi):
        if n is not None and n > MAX_INDEX:
            raise ClampError(part, f"{what[:-1]} {n} is over the limit of {MAX_INDEX}")
    if hi is not None and hi < lo:
        raise ClampError(part, f"{what} {text!r}: the range runs downwards; write {hi}-{lo}")
    return lo, hi


def _units(text: str, part: str) -> tuple[tuple[int, int], ...]:
    """'0,2-5,3' -> ((0, 0), (2, 5)): sorted, overlaps merged, so two spellings of one set are one value."""
    spans = sorted(_span(s, part, "units", False) for s in text.split(","))
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


@dataclass(frozen=True)
class Hold:
    """One name held at one value: at ``units`` (inclusive ranges; () every unit), over ``steps``
    ((first, last or None for open); None every step), in ``layer`` (None every layer)."""

    name: str
    value: float
    units: tuple[tuple[int, int], ...] = ()
    steps: tuple[int, int | None] | None = None
    layer: int | None = None

    @classmethod
    def parse(cls, text: str) -> Hold:
        part = text.strip()
        m = _HOLD.fullmatch(part)
        if not m:
            raise ClampError(part, EXAMPLE)
        value = m.group("value").strip()
        if not _NUMBER.fullmatch(value) or not math.isfinite(float(value)):
            raise ClampError(part, f"value {value!r} is not a finite number")
        units = _units(m.group("units"), part) if m.group("units") is not None else ()
        steps = _span(m.group("steps"), part, "steps", True) if m.group("steps") is not None else None
        layer = m.group("layer")
        if layer is not None and int(layer) > MAX_INDEX:
            raise ClampError(part, f"layer {int(layer)} is over the limit of {MAX_INDEX}")
        return cls(m.group("name"), float(value), units, steps, None if layer is None else int(layer))

    def __str__(self) -> str:
        layer = "" if self.layer is None else f"l{self.layer}."
        units = "" if not self.units else "[" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in self.units) + "]"
        steps = ""
        if self.steps is not None:
            a, b = self.steps
            steps = f"@{a}" if a == b else f"@{a}-" + ("" if b is None else str(b))
        return f"{layer}{self.name}{units}:{_fmt(self.value)}{steps}"

    def index(self, width: int) -> slice | np.ndarray:
        """The held units of a vector ``width`` wide, as an index."""
        if not self.units:
            return slice(None)
        return np.concatenate([np.arange(lo, hi + 1) for lo, hi in self.units])

    def step_range(self, t0: int, T: int) -> range:
        """The held steps among t0 .. t0 + T - 1, as offsets from t0."""
        first, last = self.steps if self.steps is not None else (0, None)
        end = t0 + T - 1 if last is None else min(last, t0 + T - 1)
        return range(max(first, t0) - t0, end - t0 + 1)


@dataclass(frozen=True)
class Clamp:
    """A parsed clamp: its holds in the order written. ``str()`` gives text that ``parse`` reads back as the same value."""

    holds: tuple[Hold, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Clamp:
        """Read a clamp; every limit (length, holds, indices) is checked before anything is built from it."""
        if not isinstance(text, str):
            raise ClampError("", f"expected text such as 'forget:1', got {type(text).__name__}")
        if len(text) > MAX_TEXT:
            raise ClampError("", f"{len(text)} characters is over the limit of {MAX_TEXT}")
        if not text.strip():
            return cls()
        parts = text.split(";")
        if len(parts) > MAX_HOLDS:
            raise ClampError("", f"{len(parts)} holds is over the limit of {MAX_HOLDS}")
        if any(not p.strip() for p in parts):
            raise ClampError(text.strip(), f"an empty hold between semicolons; {EXAMPLE}")
        return cls(tuple(Hold.parse(p) for p in parts))

    @classmethod
    def of(cls, value: Clamp | str | None) -> Clamp:
        return value if isinstance(value, Clamp) else cls() if value is None else cls.parse(value)

    def __str__(self) -> str:
        return ";".join(str(h) for h in self.holds)

    def __bool__(self) -> bool:
        return bool(self.holds)

    def held(self, T: int, num_layers: int) -> int:
        """How many (layer, step) pairs of a T-step run some hold touches (each runs alone): what a run's cost counts."""
        total = 0
        for k in range(num_layers):
            end = -1  # the last step counted so far
            for first, last in sorted((h.steps or (0, None)) for h in self.holds if h.layer in (None, k)):
                last, first = T - 1 if last is None else min(last, T - 1), max(first, end + 1)
                total, end = (total + last - first + 1, last) if last >= first else (total, end)
        return total

    def bind(self, model) -> Clamp:
        """The clamp checked against ``model``: names in the glossary's spelling, values in range, units and
        layers that exist. What ``model.run`` applies, and what a server reports as applied."""
        if not self.holds:
            return self
        glossary, allowed = model.glossary, clampable(model.spec, model.glossary)
        return Clamp(tuple(_bind(h, model, glossary, allowed) for h in self.holds))


def _bind(h: Hold, model, glossary: Glossary, allowed: tuple[str, ...]) -> Hold:
    part = str(h)
    name = glossary.lookup(h.name)
    if name not in allowed:
        why = "" if name is None else (f"{name} cannot be held: hold a gate, a candidate or a state, not a pre-activation, an input, "
                                       "a previous step's value or a product of others; ")
        raise ClampError(part, f"{why or f'no gate or state {h.name!r} in {model.kind}; '}clampable: {', '.join(allowed)}")
    entry = glossary[name]
    lo, hi = RANGES[entry.range]
    if not lo <= h.value <= hi:
        raise ClampError(part, f"value {_fmt(h.value)} is outside {name}'s range [{_fmt(lo)}, {_fmt(hi)}]")
    width = model.spec.sizes(model.input_size, model.hidden_size, model.options)[entry.size]
    if h.units and h.units[-1][1] >= width:
        raise ClampError(part, f"unit {h.units[-1][1]} is past {name}'s {width} units (0-{width - 1})")
    if h.layer is not None and h.layer >= model.num_layers:
        raise ClampError(part, f"layer {h.layer} does not exist; this model has {model.num_layers} layer(s) (l0-l{model.num_layers - 1})")
    return Hold(name, h.value, h.units, h.steps, h.layer)


# -- the math of a held step ---------------------------------------------------------

def _edges(glossary: Glossary) -> dict[str, list[str]]:
    """name -> the names computed from it within a step (a shift reads the previous step, so it is no edge)."""
    out: dict[str, list[str]] = {n.name: [] for n in glossary}
    for n in glossary:
        if n.op != "shift":
            for o in n.operands:
                out[o].append(n.name)
    return out


def downstream(glossary: Glossary, name: str) -> list[str]:
    """Every name computed, within the step, from ``name``."""
    edges, seen, todo = _edges(glossary), [], [name]
    while todo:
        for m in edges[todo.pop()]:
            if m not in seen:
                seen.append(m)
                todo.append(m)
    return seen


def clampable(spec, glossary: Glossary) -> tuple[str, ...]:
    """The names of ``glossary`` a clamp may hold: gates, candidates and states whose effect within the step the
    glossary's ops (and, for affine names, the kind's ``clamp_terms``) can compute."""
    terms = spec.clamp_terms
    out = []
    for n in glossary:
        if n.role not in CLAMPABLE_ROLES or n.op in ("given", "shift", "affine") and n.role != "output":
            continue
        if n.equation == n.symbol:  # 1 − z(t): an expression of another name, which the equations write out, not a vector of its own
            continue
        changed = {n.name, *downstream(glossary, n.name)}
        if all(set(glossary[m].operands) & changed <= set(terms.get(m, {}))
               for m in changed - {n.name} if glossary[m].op == "affine"):
            out.append(n.name)
    return tuple(out)


def order(glossary: Glossary) -> list[str]:
    """The glossary's names with every name after the names it is computed from within a step."""
    done: list[str] = []

    def visit(name: str) -> None:
        if name not in done:
            n = glossary[name]
            for o in () if n.op == "shift" else n.operands:
                visit(o)
            done.append(name)

    for n in glossary:
        visit(n.name)
    return done


class Layer:
    """What a held step of one layer-direction needs: the glossary in compute order, the kind's affine terms with the
    layer's weights, and the holds at each step of this run (in processing order: reversed for direction 1)."""

    def __init__(self, model, slot, holds: list[list[tuple[str, object, float]]]):
        self.glossary, self.order, self.holds = model.glossary, order(model.glossary), holds
        params = model.layer_params(slot)
        self.params, self.hidden = {**params, **model.spec.derived(params, model.options)}, model.hidden_size
        self.terms, option = model.spec.clamp_terms, model.spec.clip_option
        self.clip = model.options.get(option) if option else None
        self.shifts = [(n.name, n.operands[0]) for n in model.glossary if n.op == "shift"]
        self.more = set(model.spec.carried(slot.input_width, model.hidden_size, model.options))   # carried by name
        self.blocks = model.spec.blocks
        self._reach: dict[frozenset[str], list] = {}

    def term(self, name: str, operand: str, delta: np.ndarray) -> np.ndarray:
        """How much the affine ``name`` changes when ``operand`` changes by ``delta`` (Kind.clamp_terms)."""
        param, block, how = self.terms[name][operand]
        if how == "identity":
            return delta
        w = self.params[param]
        if block is not None:
            k = self.blocks.index(block)
            w = w[k * self.hidden:(k + 1) * self.hidden]
        return w * delta if how == "diag" else delta @ w.T

    def compute(self, n, row: dict[str, np.ndarray], old: dict[str, np.ndarray], changed: set[str]) -> np.ndarray:
        if n.op == "affine":  # what the kind's loop computed, plus the declared change of each changed operand
            out = old[n.name].copy()
            for o in n.operands:
                if o in changed:
                    out += self.term(n.name, o, row[o] - old[o])
            return out
        a = [row[o] for o in n.operands]
        if n.op == "clip":
            total = a[0] + a[1]
            return np.clip(total, -self.clip, self.clip) if self.clip is not None else total
        if n.op in _math.POINTWISE:
            return _math.POINTWISE[n.op](*a)
        raise ClampError("", f"{n.name}: no rule to compute its op {n.op!r} again")

    def reach(self, held: frozenset[str]) -> list[tuple[object, tuple[str, ...]]]:
        """The names a step holding ``held`` sets or computes again, in compute order, each with its operands."""
        if held not in self._reach:
            touched = held | {m for h in held for m in downstream(self.glossary, h)}
            self._reach[held] = [(self.glossary[m], () if self.glossary[m].op == "shift" else self.glossary[m].operands)
                                 for m in self.order if m in touched]
        return self._reach[held]

    def step(self, row: dict[str, np.ndarray], held: list[tuple[str, object, float]]) -> None:
        """Set the held names of one step's values ``row`` (in place) and compute again what follows from them.
        No array of ``row`` is written into (each name gets a new one), so ``old`` can share them."""
        old = dict(row)
        changed: set[str] = set()
        for n, operands in self.reach(frozenset(h[0] for h in held)):
            name = n.name
            if not changed.isdisjoint(operands):
                row[name] = self.compute(n, row, old, changed).astype(row[name].dtype, copy=False)
                changed.add(name)
            for hname, index, value in held:
                if hname == name:
                    row[name] = row[name].copy()
                    row[name][index] = value
                    changed.add(name)

    def state(self, row: dict[str, np.ndarray], after: LayerState) -> LayerState:
        """The state a held step leaves: what the glossary's shifts carry (h, c, recurrent gates, the kind's own names), from
        the held row, and the rest of ``after``, the kind's own step's, which no hold reaches (Mamba's convolution window)."""
        carried = {prev: row[src] for prev, src in self.shifts}
        more = {**after.more, **{src: row[src].copy() for prev, src in self.shifts if src in self.more}}   # sLSTM's n, m, ...
        gates = [row[src] for prev, src in self.shifts if prev not in ("h_prev", "c_prev") and src not in self.more]
        return LayerState(h=carried.get("h_prev", row["h"]).copy(), c=carried["c_prev"].copy() if "c_prev" in carried else None,
                          gates=np.concatenate(gates) if gates else None, more=more)


def plan(clamp: Clamp, model, slot, t0: int, T: int) -> list[list[tuple[str, object, float]]] | None:
    """The holds of each step a layer-direction processes (reversed for the reverse direction), or None when none
    touches this layer-direction in steps t0 .. t0 + T - 1."""
    steps: list[list[tuple[str, object, float]]] = [[] for _ in range(T)]
    glossary = model.glossary
    width = model.spec.sizes(slot.input_width, model.hidden_size, model.options)
    for h in clamp.holds:
        if h.layer is not None and h.layer != slot.layer:
            continue
        entry = (h.name, h.index(width[glossary[h.name].size]), h.value)
        for t in h.step_range(t0, T):
            steps[T - 1 - t if slot.direction else t].append(entry)
    return steps if any(steps) else None


def forward(spec, kernel, xs: np.ndarray, start: LayerState, layer: Layer) -> tuple[dict[str, np.ndarray], LayerState]:
    """The kind's forward pass over ``xs`` with ``layer.holds`` applied: free stretches in one call of the kind's loop,
    each held step alone, held and recomputed; every stretch written into one (T, width) array per name.
    A state and its previous value are two views of one (T + 1, width) array, one row apart, as the kinds' own loops make them."""
    state, t, T = start, 0, len(xs)
    prev_of = {src: prev for prev, src in layer.shifts}   # h -> h_prev, c -> c_prev, ...
    prevs = set(prev_of.values())
    out: dict[str, np.ndarray] = {}
    while t < T:
        end = t + 1
        if not layer.holds[t]:
            while end < T and not layer.holds[end]:
                end += 1
        arrays, state = spec.forward(kernel, xs[t:end], state)
        if layer.holds[t]:
            row = {k: v[0] for k, v in arrays.items()}
            layer.step(row, layer.holds[t])
            arrays, state = {k: v[None] for k, v in row.items()}, layer.state(row, state)
        if not out:
            for k, v in arrays.items():
                if k not in prevs:
                    out[k] = np.empty((T + (k in prev_of),) + v.shape[1:], v.dtype)
            for src, prev in prev_of.items():
                out[src][0] = arrays[prev][0]
        for k, v in arrays.items():
            if k in prev_of:
                out[k][t + 1:end + 1] = v
            elif k not in prevs:
                out[k][t:end] = v
        t = end
    for src, prev in prev_of.items():
        both = out[src]
        out[prev], out[src] = both[:-1], both[1:]
    return out, state
