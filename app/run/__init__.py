"""The run layer: the one road from a request to a run, for every entry point.

    request (a ViewState; or a model and an input) -> plan: every cost counted, nothing allocated
        -> model (built or loaded) -> run (made once, kept for the page load's other requests) -> wire (app/wire.py)

The page route, the WebSocket and SSE, /api/trace, gradients, exports, the lesson checker, the CLI, gatescope.run and
the notebook widget all come through here. A request's cost is counted before anything it sizes exists: the model's
weights (a random model's from its recipe), steps x layers x directions with each step's fixed overhead, the held
steps of a clamp at their real cost, the run without the clamp beside it, the trace's bytes, the characters a stream
keeps. Dependencies point one way: cells <- app.run <- {the server, the offline page, the notebook}; nothing here
imports FastAPI or Starlette (tests/test_code_shape.py).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatescope import cells

from .. import store as store_mod
from ..config import Settings
from ..errors import AppError, over_limit
from ..inputs import Parsed, parse
from ..schemas import ViewState
from .cost import COUNTS, HELD_OVERHEAD, STEP_OVERHEAD, Cost, check, cost, cost_of
from .plan import (Plan, bound_clamp, clamp_of, input_of, input_type_for, plan, reads_no_text, shown_of, source_of,
                   text_model_offer)

# -- the run: made once, read by every request of a page load -----------------------------------------------------------

class Made:
    """A plan's model and input made ready, and its runs (with and without the clamp), each computed once, on demand."""

    def __init__(self, p: Plan, model: cells.Model):
        self.model, self.source, self.input, self.input_type, self.parsed = model, p.source, p.input, p.input_type, p.parsed
        self.clamp, self.cost = bound_clamp(p.clamp, model), p.cost
        self._runs: dict[bool, cells.Trace] = {}
        self._lock = threading.Lock()

    def trace(self, clamped: bool = True) -> cells.Trace:
        held = clamped and bool(self.clamp)
        with self._lock:  # two requests of one page load ask at once: one runs, the other waits for it
            if held not in self._runs:
                COUNTS["run"] += 1
                self._runs[held] = self.model.run(self.parsed.xs, clamp=self.clamp if held else None)
            return self._runs[held]

    def ran(self, clamped: bool = True) -> cells.Trace | None:
        return self._runs.get(clamped and bool(self.clamp))

    def nbytes(self) -> int:
        """What keeping it holds: the input, both runs' traces at most (as counted in the plan), the model."""
        return self.parsed.xs.nbytes + max(self.cost.trace_bytes, 1) + store_mod.model_bytes(self.model)


@dataclass
class Run:
    """One request's view of a run: what it shows (layer, direction, names) of a made run."""
    view: ViewState
    made: Made
    layer: int
    direction: int
    names: list[str]

    model = property(lambda self: self.made.model)
    source = property(lambda self: self.made.source)
    input = property(lambda self: self.made.input)
    input_type = property(lambda self: self.made.input_type)
    parsed = property(lambda self: self.made.parsed)
    clamp = property(lambda self: self.made.clamp)

    def trace(self, clamped: bool = True) -> cells.Trace:
        """The whole run (with the clamp unless ``clamped`` is False), computed once for every request that shares it."""
        return self.made.trace(clamped)

    def normalized(self) -> dict:
        """The view state with defaults filled in: what a permalink to this view holds (the clamp as applied)."""
        out = self.view.model_dump(exclude_none=True)
        out.update(self.source)
        out["input"], out["input_type"] = self.input, self.input_type
        out.pop("clamp", None)
        if self.clamp:
            out["clamp"] = str(self.clamp)
        return out

    @property
    def compared(self) -> bool:
        """Whether the stream carries the run without the clamp beside the clamped one."""
        return bool(self.clamp) and self.view.clamp_compare

    def at(self, layer: int, direction: int) -> Run:
        """The same run, showing another layer and direction."""
        return Run(self.view.model_copy(update={"layer": layer, "direction": direction}), self.made, layer, direction, self.names)


class RunCache:
    """The runs made lately, by what makes them (Plan.key): a page load's page, stream and panels share one. Bounded in
    bytes (a quarter of model_cache_bytes) and in idle time (AGE): it spans a page load, not a session."""

    AGE = 30.0  # a page load's stream and panels ask within seconds of its page

    def __init__(self, budget: int):
        self.budget, self.used, self._items, self._lock = budget, 0, OrderedDict(), threading.Lock()

    def get(self, key: str) -> Made | None:
        with self._lock:
            item, now = self._items.get(key), time.monotonic()
            if item is None or now - item[1] > self.AGE:
                return None
            self._items[key] = (item[0], now, item[2])  # its age counts from its last use: the order is by last use
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, made: Made) -> None:
        size = made.nbytes()
        if size > self.budget // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.used -= old[2] if old else 0
            now = time.monotonic()
            self._items[key] = (made, now, size)
            self.used += size
            while self._items:  # the oldest first: past the budget, or past its age (nothing else would free it)
                first, (_, when, s) = next(iter(self._items.items()))
                if self.used <= self.budget and now - when <= self.AGE:
                    break
                del self._items[first]
                self.used -= s


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(store, settings: Settings) -> RunCache:
    with _caches_lock:
        if store not in _caches:
            _caches[store] = RunCache(settings.model_cache_bytes // 4)
        return _caches[store]


def resolve(view: ViewState, settings: Settings, store: store_mod.ModelStore) -> Run:
    """The view's run, every limit checked before the work it bounds; made once for the requests that share it."""
    p = plan(view, settings, store)
    cache, key = _cache(store, settings), p.key()
    made = cache.get(key)
    if made is None:
        COUNTS["resolve"] += 1
        model = p.model or store.random(p.source["kind"], p.parsed.xs.shape[1], view.hidden, view.layers, view.bidirectional, view.seed,
                                        p.options)
        made = Made(p, model)
        cache.put(key, made)
    layer, names = shown_of(view, made.model)
    return Run(view, made, layer, view.direction, names)


def of_model(model: cells.Model, given: Any, view: ViewState, settings: Settings) -> Run:
    """A cells Model and an input (text, an array of steps x input width, or None for the model's own example), as
    the server resolves a view of it: the offline page and the notebook widget."""
    if isinstance(given, str):
        view = view.model_copy(update={"input": given})
    elif given is not None:
        xs = np.asarray(given, dtype=np.float64)
        xs = xs.reshape(-1, 1) if xs.ndim == 1 else xs
        if xs.ndim != 2:
            raise AppError(422, f"input: an array of shape {xs.shape}; expected (steps, input width) or (steps,)", "input")
        view = view.model_copy(update={"input": "; ".join(" ".join(f"{v:.9g}" for v in row) for row in xs), "input_type": "numbers"})
    COUNTS["plan"] += 1
    text, input_type = input_of(view, model)
    parsed = parse(text, input_type, model, seed=view.seed, unknown=view.unknown, max_steps=settings.max_steps,
                   max_width=settings.max_input_width)
    clamp = clamp_of(view, settings)
    p = Plan(view, {}, model, model.spec, model.options, text, input_type, parsed, clamp, Cost(0, 0, 0))
    p.cost, shape = cost_of(model, len(parsed.xs), clamp, view.clamp_compare)
    check(p.cost, settings, shape, weights=False)
    COUNTS["resolve"] += 1
    layer, names = shown_of(view, model)
    return Run(view, Made(p, model), layer, view.direction, names)


def gradient_flow(r: Run, settings: Settings) -> dict[str, np.ndarray]:
    """How far back the last hidden state reaches (cells.gradient_flow), held to max_gradient_work; a clamped run
    has none (its backward pass is of the model as it is)."""
    if r.clamp:
        raise AppError(422, f"clamp: {str(r.clamp)!r} is not applied to gradients, which are of the model as it is (a clamped run "
                            "has no backward pass here); leave clamp out of /api/gradients", "clamp")
    m, T = r.model, len(r.parsed.xs)
    work = T * m.hidden_size * m.out_size * m.num_layers
    if work > settings.max_gradient_work:
        raise over_limit("input", f"{T} steps x {m.hidden_size} hidden x {m.out_size} outputs x {m.num_layers} layers = {work}",
                         settings.max_gradient_work, "max_gradient_work")
    try:
        return cells.gradient_flow(m, r.parsed.xs)
    except cells.CellsError as e:
        raise AppError(422, str(e)) from None


# -- a stream's run, extended ---------------------------------------------------------------------------------------------

@dataclass
class Typed:
    """What a stream has read so far: characters (held to max_input_chars in all) and the pieces they made."""
    chars: int
    pieces: int
    steps: int


def typed_of(r: Run) -> Typed:
    m = r.model if "kind" not in r.source else None
    pieces = len(r.parsed.xs) if r.input_type == "numbers" else len(m.vocab.split(r.input) if m and m.vocab else r.input)
    return Typed(len(r.input), pieces, len(r.parsed.xs))


def extend(r: Run, text: str, typed: Typed, settings: Settings) -> Parsed:
    """The new steps of a run extended by ``text`` (a WebSocket's {"type": "append"}), checked as the run itself was:
    the characters of the whole input so far (kept or skipped), its width, and the steps and work of the whole run.
    ``typed`` is what came before (an error names positions in the whole input); it is advanced when the text reads."""
    if r.model.bidirectional:
        raise AppError(422, "append: typing needs a unidirectional model; the reverse direction would change every step", "input")
    if r.input_type == "signal":
        raise AppError(422, "append: a signal cannot be extended; change the signal instead", "input")
    chars = typed.chars + len(text)
    if chars > settings.max_input_chars:  # skipped characters count too: each is read (and costs) as a kept one does
        raise over_limit("input", f"{chars} characters in all, with what was typed before", settings.max_input_chars, "max_input_chars",
                         hint="open a new view to go on")
    model = None if "kind" in r.source else r.model
    offset = typed.steps if r.input_type == "numbers" else typed.pieces
    parsed = parse(text, r.input_type, model, seed=r.view.seed, unknown=r.view.unknown,
                   max_steps=settings.max_steps, max_width=settings.max_input_width, offset=offset)
    m = r.model
    if parsed.xs.shape[1] != m.input_size:
        raise AppError(422, f"input: each step has {parsed.xs.shape[1]} value(s); this model takes {m.input_size}", "input")
    total = typed.steps + len(parsed.xs)
    if total > settings.max_steps:
        raise over_limit("input", f"{total} steps in all", settings.max_steps, "max_steps")
    c, shape = cost_of(m, total, r.clamp, r.view.clamp_compare)
    check(c, settings, shape, weights=False)
    typed.chars, typed.steps = chars, total
    typed.pieces += len(parsed.xs) if r.input_type == "numbers" else len(model.vocab.split(text) if model and model.vocab else text)
    return parsed


# -- the notebook's way in ------------------------------------------------------------------------------------------------

def read_input(model: cells.Model, data: Any, input_type: str | None, unknown: str, seed: int,
               max_steps: int) -> tuple[np.ndarray, list[str] | None]:
    """(xs, one token per step) from typed text, numbers or a signal (read by the page's own rules), ids or an array:
    what gatescope.run reads, with the notebook's limits (its owner's machine, not a shared server's)."""
    if isinstance(data, str):
        try:
            parsed = parse(data, input_type or input_type_for(model), model, seed=seed, unknown=unknown, max_steps=max_steps)
        except AppError as e:
            raise cells.CellsError(e.detail) from None
        return parsed.xs, parsed.tokens
    a = cells.as_real_array("input", data)
    if a.ndim == 1 and a.dtype.kind in "iu" and model.embedding is not None:  # token ids
        tokens = [model.vocab.tokens[i] for i in a] if model.vocab is not None and a.size and a.max() < len(model.vocab) else None
        return model.embed(a), tokens
    if a.ndim == 1 and model.input_size == 1:  # one value a step
        a = a[:, None]
    return a, [f"{v:.3g}" for v in a[:, 0]] if a.ndim == 2 and a.shape[1] == 1 else None


__all__ = ["COUNTS", "HELD_OVERHEAD", "STEP_OVERHEAD", "Cost", "Plan", "Run", "Typed", "check", "cost", "cost_of", "plan", "resolve",
           "of_model", "extend", "gradient_flow", "read_input", "input_type_for", "input_of", "shown_of", "clamp_of", "source_of",
           "reads_no_text", "text_model_offer"]
