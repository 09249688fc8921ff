"""gatescope in Python: models from presets, files, bytes or live torch and Keras objects; runs; notebook views.

Everything here is a thin layer over the engine (``cells``) and the app's run layer (``app.run``), so a
model, an input and a trace mean the same in a notebook as in the page: ``gatescope.run(model, "hello")`` reads the
text as the page does, through the model's vocabulary, and gives the trace the page would draw.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import numpy as np

from gatescope import cells
from gatescope.cells import Model, Trace
from gatescope.cells.presets import list_presets, load_preset

from .frameworks import from_keras, from_torch

PRESET_PREFIX = "preset:"
MAX_STEPS = 1_000_000  # the page's max_steps guards a shared server; a notebook runs on its owner's machine
NOTEBOOK_EXTRA = 'pip install "gatescope[notebook]"'
TORCH_WRAPPERS = ("OptimizedModule", "DataParallel", "DistributedDataParallel")  # from_torch unwraps them
TEXT_HOW = {"torch": "gatescope.from_torch(layer, vocab=..., embedding=...)", "keras": "gatescope.from_keras(model, vocab=...)"}


class Presets(list):
    """The shipped presets, each {"name", "kind", "task", "card"}; a notebook shows them as a table."""

    def names(self) -> list[str]:
        return [p["name"] for p in self]

    def _repr_html_(self) -> str:
        import html
        rows = "".join(f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{html.escape(str(p['kind']))}</td>"
                       f"<td>{html.escape(str(p['card'].get('title', '')))}</td><td>{p['card'].get('accuracy', '')}</td></tr>" for p in self)
        head = "".join(f'<th style="text-align:left">{h}</th>' for h in ("name", "kind", "title", "accuracy"))
        return f"<table><tr>{head}</tr>{rows}</table>"


class Traces(list):
    """A batch's traces: a list of :class:`cells.Trace`, one per sequence, in the batch's order. A notebook shows how
    many there are and the first ones' summaries."""

    SHOWN = 3

    def _repr_html_(self) -> str:
        steps = sorted({t.T for t in self})
        span = f"{steps[0]}" if len(steps) == 1 else f"{steps[0]}–{steps[-1]}"
        more = f"<p>… and {len(self) - self.SHOWN} more</p>" if len(self) > self.SHOWN else ""
        return (f"<p><b>{len(self)}</b> traces, {span} steps each</p>"
                + "".join(f"<p>sequence {i}:</p>{t._repr_html_()}" for i, t in enumerate(self[:self.SHOWN])) + more)


def build(kind: str, input_size: int, hidden_size: int, *, seed: int = 0, **options: Any) -> Model:
    """``cells.build``: a model with PyTorch's default initialization drawn from ``seed`` (``num_layers``,
    ``bidirectional``, ``dtype`` and the kind's options are its keywords). Its ``source`` says that it is random and its
    seed, so the page, the widget and a saved bundle title it "random weights (seed N)"."""
    model = cells.build(kind, input_size, hidden_size, seed=seed, **options)
    model.source = {"seed": seed}
    return model


def presets() -> Presets:
    """Every trained model shipped with gatescope, with its card (read from the files' headers, not their weights)."""
    return Presets(list_presets())


def preset(name: str) -> Model:
    """The preset called ``name`` ("adding-lstm", ...); an error listing every name if there is none."""
    return load_preset(name.removeprefix(PRESET_PREFIX) if isinstance(name, str) else name)


def load(source: Any, kind: str | None = None, layout: str | None = None, **options: Any) -> Model:
    """A model from "preset:NAME", a file (a bundle, .safetensors, .npz, Keras' .keras and .weights.h5, ONNX, or PyTorch's
    .pt/.pth: a state_dict or a checkpoint holding one), its bytes, or a mapping.

    Bytes are read exactly as a file of them would be (the same checks, the same readers as the page's upload). A
    PyTorch file is read by torch itself, ``torch.load(weights_only=True)``: here the file is the caller's own, in the
    caller's own process; the server never unpickles. ``kind``, ``layout``, ``prefix`` and the rest are cells.load's:
    needed where the file cannot say them.
    """
    if isinstance(source, Model):
        return source
    if isinstance(source, str) and source.startswith(PRESET_PREFIX):
        return preset(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        fd, path = tempfile.mkstemp(prefix="gatescope-", suffix=".bin")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(source)
            return cells.load(path, kind, layout, unpickle=True, **options)
        except cells.CellsError as e:  # the messages name the file: here, the bytes given
            e.args = (str(e).replace(os.path.basename(path), "the bytes"),)
            raise
        finally:
            os.unlink(path)
    return cells.load(source, kind, layout, unpickle=True, **options)


def _model(source: Any, who: str = "gatescope.run") -> Model:
    """A model, a live torch module or Keras layer or model (read by from_torch / from_keras), a preset's name (with or
    without "preset:"), or what :func:`load` reads. ``who`` names the caller in an error."""
    if isinstance(source, Model):
        return source
    framework = _framework(source)
    if framework == "torch":
        return from_torch(_recurrent(source, who))
    if framework == "keras":
        return from_keras(source)
    if isinstance(source, str) and not os.path.exists(source) and source.removeprefix(PRESET_PREFIX) in {p["name"] for p in list_presets()}:
        return preset(source)
    model = load(source)
    if isinstance(source, (str, os.PathLike)):  # the file it was read from, for its title: "GRU from m.keras"
        model.source = {**model.source, "file": os.path.basename(os.fspath(source))}
    return model


def _framework(obj: Any) -> str | None:
    """"torch" or "keras" for a live object of theirs, else None. Told by its class, as from_torch and from_keras tell
    them: an object of a framework exists only once its framework is imported, so nothing is imported here."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return "torch"
    module = type(obj).__module__
    return "keras" if module.split(".")[0] in ("keras", "tf_keras") or module.startswith("tensorflow.python.keras") else None


def _recurrent(module: Any, who: str) -> Any:
    """``module`` when it is a recurrent layer (or wraps one); for a whole network, an error naming the recurrent
    layers inside it to pass, and from_torch's embedding= and decoder= for the rest of it."""
    nn = sys.modules["torch"].nn
    kinds = (nn.RNNBase, nn.RNNCellBase)
    if isinstance(module, kinds) or type(module).__name__ in TORCH_WRAPPERS:
        return module
    what = f"{type(module).__module__}.{type(module).__name__}"
    held = [(n, type(m).__name__) for n, m in module.named_modules() if n and isinstance(m, kinds)]
    if not held:
        raise cells.CellsError(f"{who}: got {what}, a torch module with no nn.LSTM, nn.GRU or nn.RNN in it; gatescope shows a "
                               "recurrent layer (gatescope.from_torch lists the ones it reads)")
    embedding = next((n for n, m in module.named_modules() if isinstance(m, nn.Embedding)), None)
    decoder = next((n for n, m in reversed(list(module.named_modules())) if isinstance(m, nn.Linear)), None)
    (name, cls), others = held[0], [f"net.{n} ({c})" for n, c in held[1:4]]
    parts = [f"net.{name}", "vocab=...", f"embedding=net.{embedding}" if embedding else "embedding=..."]
    parts += [f"decoder=net.{decoder}"] if decoder else []
    raise cells.CellsError(
        f"{who}: got {what}, a whole network, not a recurrent layer; pass net.{name} ({cls}), the recurrent layer in it, net "
        f"being this network: {who}(net.{name}, ...){'; or ' + ', '.join(others) if others else ''}. To read text and predict "
        f"through its embedding and output layer: {who}(gatescope.from_torch({', '.join(parts)}), \"some text\")")


def _batch(model: Model, data: Any) -> list | None:
    """The sequences of a batch, or None for one sequence. A batch is a list or tuple of strings or of arrays (each one
    sequence), an array or tensor of (B, T, input_size) numbers, or a (B, T) integer array of token ids for a model
    with an embedding: batch first, whatever a torch layer's batch_first says."""
    if data is None or isinstance(data, str):
        return None
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, str) or hasattr(d, "shape") for d in data):
        return list(data)
    a = cells.as_real_array("input", data)
    if a.ndim == 3 or (a.ndim == 2 and a.dtype.kind in "iu" and model.embedding is not None):
        return list(a)
    return None


def _read(model: Model, data: Any, input_type: str | None, unknown: str, seed: int) -> tuple[np.ndarray, list[str]]:
    """(xs, a token per step) of one sequence, read as the page reads it (app.run.read_input) under the notebook's
    limit; a wide array's steps are labelled by their first values."""
    from gatescope.app.run import read_input
    try:
        xs, tokens = read_input(model, data, input_type, unknown, seed, MAX_STEPS)
    except cells.CellsError as e:
        framework = next((f for f in TEXT_HOW if str(model.source.get("from", "")).startswith(f)), None)
        if isinstance(data, str) and model.vocab is None and framework:
            raise cells.CellsError(f"{e}. It came from a live {framework} layer with no vocabulary; to read text, give it its "
                                   f"vocabulary and embedding: {TEXT_HOW[framework]}") from None
        raise
    if tokens is None:  # the first two values of each step (tolist: Python floats format several times faster)
        more = ", …" if xs.shape[1] > 2 else ""
        tokens = [f"[{', '.join(f'{v:.3g}' for v in row)}{more}]" for row in xs[:, :2].tolist()]
    return xs, tokens


def input_type_of(model: Model) -> str:
    """How a string is read for ``model``: its card's input_type, else text when it has a vocabulary and an embedding."""
    from gatescope.app.run import input_type_for
    return input_type_for(model)


def _card_units(model: Model) -> list[int]:
    """The units the card's notes talk about, for the summary to show first. A card is checked when the model is made
    (cells.io.check_card); one set by hand afterwards (model.card = {...}) may hold anything, and a summary does not fail
    on it: what is not a unit of this model is left out, as the page leaves it out."""
    units = model.card.get("units") if isinstance(model.card, dict) else None
    if not isinstance(units, list):
        return []
    return [int(u) for u in units if isinstance(u, (int, np.integer)) and not isinstance(u, bool) and 0 <= u < model.hidden_size]


def run(model: Any, input: Any, *, input_type: str | None = None, unknown: str = "error", seed: int = 0,
        h0: Any = None, c0: Any = None, clamp: Any = None) -> Trace | Traces:
    """Run ``model`` over ``input`` and keep every gate: a :class:`cells.Trace`; for a batch, a :class:`Traces`.

    ``input`` is a string read as the page reads it (text through the model's vocabulary; ``input_type="numbers"``
    for "0.5, -1, 2" or "1 0; 0 1"; ``"signal"`` for "sine 64 period=16"), token ids (a 1-D integer array, for a
    model with an embedding), or a (T, input_size) array (a 1-D array is one value a step). A batch runs each of its
    sequences and gives a list of their traces (Traces), in order: a list of strings or arrays, a (B, T, input_size)
    array or tensor, or (B, T) token ids (batch first). ``unknown`` is the page's choice for text the vocabulary lacks
    ("error", "skip", "map"); ``clamp`` holds gates ("forget_gate:1", see cells.clamp). ``model`` may be a Model, a
    live torch layer or Keras layer or model (as gatescope.from_torch / from_keras read it), a preset's name or a file.
    The limits are the notebook's own (MAX_STEPS steps a sequence), not a server's.
    """
    model = _model(model, "gatescope.run")
    batch = _batch(model, input)
    if batch is not None:
        return Traces(run(model, x, input_type=input_type, unknown=unknown, seed=seed, h0=h0, c0=c0, clamp=clamp) for x in batch)
    xs, tokens = _read(model, input, input_type, unknown, seed)
    trace = model.run(xs, h0, c0, clamp=clamp)
    trace.tokens = tokens
    trace.units = _card_units(model) or None
    return trace


def _widget():
    """The notebook widget's module; an ImportError naming the extra when anywidget is not installed."""
    try:
        import anywidget  # noqa: F401
    except ImportError:
        raise ImportError(f"gatescope.show draws in a notebook with anywidget, which is not installed: {NOTEBOOK_EXTRA}") from None
    from . import widget
    return widget


def show(source: Any, input: Any = None, **view: Any):
    """The page's diagram, heatmaps and player for ``source`` on ``input``, in a notebook: a widget
    (gatescope.widget.Viewer).

    ``source`` is what :func:`run` takes: a Model, a live torch or Keras layer, a preset's name, a file. ``input`` is
    text (read through the model's vocabulary, or numbers for a model without one: "0.5, -1, 2"), an array of (steps,
    input_size) or (steps,), token ids, None for the model's own example, or a batch as :func:`run` takes one (the
    widget then has a picker of its sequences). ``view`` holds the page's view state (step=3, phases=True,
    units=[1, 4], names=..., palette=...: the URL's parameters, ``GET /api/view``), checked as the API checks them.
    The limits are the notebook's own (MAX_STEPS steps), not a server's. The widget needs no server: its kernel sends
    it the page and the run; a saved notebook keeps a still of the shown step (also what GitHub, nbviewer and nbconvert
    show). ``.trace`` is the shown run's trace, ``.save("view.html")`` writes the standalone page.
    """
    from gatescope.app.config import Settings
    from gatescope.app.errors import AppError

    model = _model(source, "gatescope.show")
    widget = _widget()
    widget.warm()
    try:
        state = widget.view_state(view)
        batch = _batch(model, input)
        given = [_given(widget, model, data, state) for data in (batch if batch is not None else [input])]
        names = [_sequence_name(i, g) for i, g in enumerate(given)] if batch is not None else None
        # the notebook's own limits: a run of MAX_STEPS steps, and no cap on the values a page or a file holds
        settings = Settings(max_steps=MAX_STEPS, max_json_values=sys.maxsize)
        return widget.Viewer(model, given, state, names=names, settings=settings)
    except AppError as e:  # the API's 422: the field, the value and the limit
        raise cells.CellsError(e.detail) from None


def _given(widget, model: Model, data: Any, state):
    """One sequence of show's input, read (widget.Given): its input as the view state says it, how it was read, its
    steps. None: the model's own example (its card's, or the page's default), as the page opens with."""
    from gatescope.app.inputs import Parsed
    from gatescope.app.run import input_of

    if data is None:
        text, input_type = input_of(state, model)
        data = text
    elif isinstance(data, str):
        text, input_type = data, state.input_type or input_type_of(model)
    else:  # an array, token ids: the view state names it by its shape (the page shows its steps' values, not this)
        text, input_type = f"({', '.join(map(str, np.shape(data)))}) array", None
    xs, tokens = _read(model, data, input_type, state.unknown, state.seed)
    return widget.Given(text, input_type or "numbers", Parsed(xs, tokens))


def _sequence_name(i: int, given) -> str:
    """How the widget's picker names a batch's sequence: its number, its steps and, for text, how it starts."""
    start = f": {given.text[:24]!r}{'…' if len(given.text) > 24 else ''}" if given.input_type == "text" else ""
    return f"{i} · {len(given.parsed.xs)} steps{start}"


def save(model: Model, path: str | os.PathLike) -> None:
    """``model.save(path)``: a bundle the page's upload and :func:`load` read back identically."""
    model.save(path)


__all__ = ["build", "load", "preset", "presets", "run", "show", "save", "from_torch", "from_keras", "Model", "Trace", "Traces",
           "Presets", "input_type_of"]
