"""Trained models shipped with gatescope: lstm, gru and rnn on each of the five training tasks.

    from gatescope.cells.presets import list_presets, load_preset
    [p["name"] for p in list_presets()]     # 'adding-gru', 'adding-lstm', ...
    model = load_preset("brackets-lstm")    # a cells.Model with vocab, head, labels and card

Each preset is a bundle ``<task>-<kind>.safetensors`` in this directory,
made by ``python -m cells.training.make_presets``; its model card (task,
accuracy, training time, what to look for in the gates) is in the bundle's
metadata. ``list_presets`` reads only the files' JSON headers, not the weights.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CellsError
from ..io import bundle_fields
from ..reading import read_header

HERE = Path(__file__).resolve().parent


def _paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(HERE.glob("*.safetensors"))}


def _header(path: Path) -> dict:
    """A bundle's decoded metadata, from the safetensors header alone."""
    return bundle_fields(read_header(path)[1].get("__metadata__") or {})


def list_presets() -> list[dict]:
    """Every preset as {"name", "kind", "task", "card"}, sorted by name."""
    out = []
    for name, path in _paths().items():
        fields = _header(path)
        card = fields.get("card", {})
        out.append({"name": name, "kind": fields.get("kind"), "task": card.get("task"), "card": card})
    return out


def load_preset(name: str):
    """The preset called ``name`` as a cells.Model; CellsError listing every name if there is none."""
    from .. import load
    paths = _paths()
    if not isinstance(name, str) or name not in paths:
        raise CellsError(f"unknown preset {name!r}; expected one of: {', '.join(paths)}")
    return load(paths[name])


__all__ = ["list_presets", "load_preset"]
