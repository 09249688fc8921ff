"""What a run returns: every vector of every step, by name.

A :class:`Trace` is a read-only mapping from glossary names to (T, width)
C-contiguous arrays of the top layer's forward direction; ``trace.layer(k,
direction)`` gives any other layer. State names come in pairs that share
memory: ``h_prev`` and ``h`` are two views, one row apart, of one (T+1, H)
array, so the trace stores each state once.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from .spec import Glossary


@dataclass
class State:
    """The recurrent state of a whole model, indexed layer * directions + direction as in PyTorch.

    ``h`` is (L*D, out), ``c`` is (L*D, hidden) for kinds with a cell state,
    ``gates`` is (L*D, 3*hidden) for kinds whose gates recur (FGR), and ``more``
    what else a kind carries (Kind.carried: sLSTM's n and m, ...), name -> (L*D, width).
    """

    h: np.ndarray
    c: np.ndarray | None = None
    gates: np.ndarray | None = None
    more: dict[str, np.ndarray] = field(default_factory=dict)


class LayerTrace(Mapping):
    """One layer-direction: name -> (T, width) array, in glossary order."""

    def __init__(self, arrays: dict[str, np.ndarray], glossary: Glossary, layer: int, direction: int):
        self._arrays = arrays
        self.glossary = glossary
        self.layer_index, self.direction = layer, direction

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except KeyError:
            raise KeyError(f"{name!r} is not in this trace; its names are: {', '.join(self)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.glossary.keys())

    def __len__(self) -> int:
        return len(self.glossary.names)

    @property
    def T(self) -> int:
        return len(self._arrays["h"])

    def at(self, t: int) -> dict[str, np.ndarray]:
        return {name: self._arrays[name][t] for name in self}

    @property
    def nbytes(self) -> int:
        """Bytes held, counting memory shared between names once."""
        seen, total = set(), 0
        for a in self._arrays.values():
            base = a if a.base is None else a.base
            if id(base) not in seen:
                seen.add(id(base))
                total += base.nbytes
        return total


class Trace(Mapping):
    """Every intermediate of a run. Mapping access reads the top layer, forward direction."""

    #: One label per step (the characters, words or numbers of the input), when whoever made the input knows them:
    #: gatescope.run sets them. Only the notebook summary reads them.
    tokens: list[str] | None = None
    #: The units the summary shows first (a model card's units, those that carry the task); then the others in order.
    units: list[int] | None = None

    def __init__(self, kind: str, layers: list[list[LayerTrace]], output: np.ndarray, final: State):
        self.kind = kind
        self.layers = layers
        self.output = output  # (T, directions * out): what nn.LSTM / nn.GRU / nn.RNN return
        self.final = final    # the state after the last step (h_n, c_n)
        self._top = layers[-1][0]

    def layer(self, k: int, direction: int = 0) -> LayerTrace:
        n = len(self.layers)
        if not -n <= k < n:
            raise IndexError(f"layer {k} does not exist; this model has {n} layer(s)")
        row = self.layers[k]
        if direction not in range(len(row)):
            raise IndexError(f"direction {direction} does not exist; this model has {len(row)} direction(s)")
        return row[direction]

    def __getitem__(self, name: str) -> np.ndarray:
        return self._top[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._top)

    def __len__(self) -> int:
        return len(self._top)

    @property
    def glossary(self) -> Glossary:
        return self._top.glossary

    @property
    def T(self) -> int:
        return len(self.output)

    def at(self, t: int) -> Snapshot:
        if not -self.T <= t < self.T:
            raise IndexError(f"step {t} does not exist; the trace has {self.T} step(s)")
        return Snapshot(self, t % self.T)

    @property
    def nbytes(self) -> int:
        return sum(lt.nbytes for row in self.layers for lt in row)

    def __repr__(self) -> str:
        return f"<Trace {self.kind}: {self.T} step(s), {len(self.layers)} layer(s) x {len(self.layers[0])} direction(s); names: {', '.join(self)}>"

    def _repr_html_(self) -> str:
        """A notebook's summary: what ran, on what, and a small heatmap of the gates and states (static HTML, no script)."""
        return trace_html(self)


class Snapshot(Mapping):
    """The vectors of one timestep: name -> (width,) for the top layer; ``.layer(k, d)`` for others."""

    def __init__(self, trace: Trace, t: int):
        self.trace, self.t = trace, t

    def __getitem__(self, name: str) -> np.ndarray:
        return self.trace[name][self.t]

    def __iter__(self) -> Iterator[str]:
        return iter(self.trace)

    def __len__(self) -> int:
        return len(self.trace)

    def layer(self, k: int, direction: int = 0) -> dict[str, np.ndarray]:
        return self.trace.layer(k, direction).at(self.t)

    @property
    def output(self) -> np.ndarray:
        return self.trace.output[self.t]


# -- the notebook summary ----------------------------------------------------
# Static HTML: it must read in a notebook saved to a file, on GitHub and in nbviewer, which run no script and
# fetch nothing. The colours are the page's default scales (static/core/config.js): blues for a gate's [0, 1],
# red-white-blue around 0 for a state.

HTML_STEPS, HTML_UNITS, HTML_NAMES, HTML_TOKENS, HTML_LEVELS = 64, 8, 5, 40, 25  # odd: 0 of a state is the middle level, white
_UNIT = ((0, (0xf7, 0xfb, 0xff)), (0.25, (0xc6, 0xdb, 0xef)), (0.5, (0x6b, 0xae, 0xd6)), (0.75, (0x21, 0x71, 0xb5)), (1, (0x08, 0x30, 0x6b)))
_SIGNED = ((0, (0xb2, 0x18, 0x2b)), (0.25, (0xef, 0x8a, 0x62)), (0.5, (0xf7, 0xf7, 0xf7)), (0.75, (0x67, 0xa9, 0xcf)), (1, (0x21, 0x66, 0xac)))
_CELL = 9  # pixels of one step x one unit


def _colour(scale, v: float) -> str:
    """The colour at ``v`` in [0, 1] of a scale of (position, rgb) stops."""
    for (a, ca), (b, cb) in zip(scale, scale[1:]):
        if v <= b or b == 1:
            w = (v - a) / (b - a)
            return "#" + "".join(f"{round(x + (y - x) * w):02x}" for x, y in zip(ca, cb))


def _shown_names(trace: Trace) -> list[str]:
    """The gates and states a lecturer looks at first, in the glossary's order: *_gate, the cell state, h."""
    names = [n.name for n in trace.glossary if n.name.endswith("_gate") or n.role == "state" or n.name == "h"]
    return list(dict.fromkeys(names))[:HTML_NAMES]


def _band(a: np.ndarray, unit: bool) -> str:
    """One name as an SVG of (units, steps) cells: one path per colour level, each run of a level along a unit one rectangle.

    A rect per cell would make a 64-step summary 100 kB; paths of runs keep it to a few kB.
    """
    scaled = a if unit else 0.5 + a / (2 * (float(np.abs(a).max()) or 1.0))
    levels = np.clip(np.nan_to_num(scaled, nan=0.5) * (HTML_LEVELS - 1) + 0.5, 0, HTML_LEVELS - 1).astype(int)  # (T, units)
    runs: dict[int, list[str]] = {}
    for u in range(levels.shape[1]):
        col, t = levels[:, u], 0
        while t < len(col):
            end = t
            while end + 1 < len(col) and col[end + 1] == col[t]:
                end += 1
            runs.setdefault(int(col[t]), []).append(f"M{t} {u}h{end - t + 1}v1h-{end - t + 1}z")
            t = end + 1
    scale = _UNIT if unit else _SIGNED
    paths = "".join(f'<path fill="{_colour(scale, k / (HTML_LEVELS - 1))}" d="{"".join(d)}"/>' for k, d in sorted(runs.items()))
    T, U = levels.shape
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{T * _CELL}" height="{U * _CELL}" viewBox="0 0 {T} {U}" '
            f'preserveAspectRatio="none" shape-rendering="crispEdges">{paths}</svg>')


def _units(trace: Trace, width: int) -> list[int]:
    """The units a band shows: the trace's chosen ones first, then the rest in order, HTML_UNITS at most."""
    chosen = [int(u) for u in (trace.units or []) if 0 <= int(u) < width]
    return list(dict.fromkeys(chosen + list(range(width))))[:HTML_UNITS]


def _heatmap(trace: Trace, names: list[str], steps: int) -> str:
    """One band of rows (units) per name, one column per step, each named on its left."""
    rows = []
    for name in names:
        a = trace[name][:steps]
        band = _band(np.asarray(a[:, _units(trace, a.shape[1])], dtype=np.float64), trace.glossary[name].range == "unit")
        rows.append(f'<div style="display:flex;align-items:center;gap:8px;margin:3px 0"><span style="width:7.5em;text-align:right">'
                    f"<code>{html.escape(name)}</code></span>{band}</div>")
    return "".join(rows)


def trace_html(trace: Trace) -> str:
    """The trace's kind and sizes, its input's tokens, and a heatmap of a few names over the first steps."""
    top, first = trace.layers[-1][0], trace.layers[0][0]
    depth = f", {len(trace.layers)} layers" if len(trace.layers) > 1 else ""
    depth += ", bidirectional" if len(trace.layers[0]) > 1 else ""
    sizes = f"input_size {first['x'].shape[1]}, hidden {top['h'].shape[1]}{depth}"
    steps = min(trace.T, HTML_STEPS)
    names = _shown_names(trace)
    units = top["h"].shape[1] if not names else trace[names[0]].shape[1]
    parts = [f"<div><b>{html.escape(trace.kind)}</b> trace: {trace.T} step{'s' if trace.T != 1 else ''}; {sizes}</div>"]
    if trace.tokens:
        chip = "margin:0 3px 3px 0;padding:0 3px;border-radius:3px;background:#eef"  # one token, a space shown as ␣
        shown = "".join(f'<code style="{chip}">{html.escape(t) if t.strip() else "&#9251;"}</code>' for t in trace.tokens[:HTML_TOKENS])
        parts.append(f"<div>input: {shown}{' …' if len(trace.tokens) > HTML_TOKENS else ''}</div>")
    parts.append(_heatmap(trace, names, steps))
    parts.append(f'<div style="margin-left:calc(7.5em + 8px);width:{steps * _CELL}px;display:flex;justify-content:space-between;'
                 f'color:#555"><span>t = 0</span><span>t = {steps - 1}</span></div>')
    cut = [f"steps 0–{steps - 1} of {trace.T}"] if steps < trace.T else []
    if units > HTML_UNITS or trace.units:
        cut.append(f"units {', '.join(map(str, _units(trace, units)))} of {units}")
    note = f"shown: {', '.join(cut)}; " if cut else ""
    parts.append(f'<div style="color:#555">{note}gates 0 to 1 in blues, states red (−) to blue (+) by each name\'s largest |value|; '
                 f"every name: <code>trace[name]</code> ({html.escape(', '.join(trace))})</div>")
    return '<div class="gatescope-trace" style="font:13px sans-serif;line-height:1.6">' + "".join(parts) + "</div>"


def model_html(model) -> str:
    """A notebook's summary of a model: kind, sizes, parameters, text side, head and its card's title and notes."""
    facts = [f"input_size {model.input_size}", f"hidden {model.hidden_size}"]
    facts += [f"{model.num_layers} layers"] if model.num_layers > 1 else []
    facts += ["bidirectional"] if model.bidirectional else []
    defaults = {o.name: o.default for o in model.spec.options}
    facts += [f"{k}={v}" for k, v in model.options.items() if v != defaults.get(k)]  # what sets it apart from the kind's default
    facts.append(f"{sum(a.size for a in model.params.values()):,} parameters ({model.dtype.name})")
    if model.vocab is not None:
        facts.append(f"vocabulary of {len(model.vocab)}")
    if model.decoder is not None:
        facts.append(f"{model.head} head of {model.n_outputs}")
    card = model.card or {}
    title = f"<div><i>{html.escape(str(card['title']))}</i></div>" if card.get("title") else ""
    notes = str(card.get("notes", ""))
    notes = f'<div style="color:#555">{html.escape(notes[:400])}{"…" if len(notes) > 400 else ""}</div>' if notes else ""
    return (f'<div class="gatescope-model" style="font:13px sans-serif;line-height:1.6"><b>{html.escape(model.kind)}</b> model: '
            f"{html.escape(', '.join(facts))}{title}{notes}</div>")
