"""gatescope in Python: models from presets, files, bytes or live torch and Keras objects; runs; notebook views.

Everything here is a thin layer over the engine (``cells``) and the app's run layer (``app.run``), so a
model, an input and a trace mean the same in a notebook as in the page: ``gatescope.run(model, "hello")`` reads the
text as the page does, through the model's vocabulary, and gives the trace the page would draw.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from gatescope import cells
from gatescope.cells import Model, Trace, build
from gatescope.cells.presets import list_presets, load_preset

from .frameworks import from_keras, from_torch

PRESET_PREFIX = "preset:"
MAX_STEPS = 1_000_000  # the page's max_steps guards a shared server; a notebook runs on its owner's machine
NOTEBOOK_EXTRA = 'pip install "gatescope[notebook]"'


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


def _model(source: Any) -> Model:
    """A model, a preset's name (with or without "preset:"), or what :func:`load` reads."""
    if isinstance(source, str) and not os.path.exists(source) and source.removeprefix(PRESET_PREFIX) in {p["name"] for p in list_presets()}:
        return preset(source)
    return load(source)


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
        h0: Any = None, c0: Any = None, clamp: Any = None) -> Trace:
    """Run ``model`` over ``input`` and keep every gate: a :class:`cells.Trace`.

    ``input`` is a string read as the page reads it (text through the model's vocabulary; ``input_type="numbers"``
    for "0.5, -1, 2" or "1 0; 0 1"; ``"signal"`` for "sine 64 period=16"), token ids (a 1-D integer array, for a
    model with an embedding), or a (T, input_size) array (a 1-D array is one value a step). ``unknown`` is the page's
    choice for text the vocabulary lacks ("error", "skip", "map"); ``clamp`` holds gates ("forget_gate:1", see
    cells.clamp). ``model`` may be a Model, a preset's name or a file.
    """
    model = _model(model)
    from gatescope.app.run import read_input
    xs, tokens = read_input(model, input, input_type, unknown, seed, MAX_STEPS)
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
    """The page's diagram, heatmaps and player for ``source`` (a Model, a preset's name, a file) on ``input``, in a notebook.

    ``input`` is text (read through the model's vocabulary, or numbers for a model without one: "0.5, -1, 2"), an
    array of (steps, input_size) or (steps,), or None for the model's own example; ``view`` holds the page's view state
    (step=3, phases=True, units=[1, 4], names=..., palette=...: the URL's parameters, ``GET /api/view``), checked as the
    API checks them. It returns the widget (gatescope.widget.Viewer; ``.save("view.html")`` writes the standalone
    page). Offline: the widget carries the page's own modules and the run's data, and needs no server.
    """
    from gatescope.app.errors import AppError

    model = _model(source)
    widget = _widget()
    try:
        return widget.view(model, input, **view)
    except AppError as e:  # the API's 422: the field, the value and the limit
        raise cells.CellsError(e.detail) from None


def save(model: Model, path: str | os.PathLike) -> None:
    """``model.save(path)``: a bundle the page's upload and :func:`load` read back identically."""
    model.save(path)


__all__ = ["build", "load", "preset", "presets", "run", "show", "save", "from_torch", "from_keras", "Model", "Trace", "Presets",
           "input_type_of"]
