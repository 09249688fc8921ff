"""The registry of cell kinds: one module per kind, each exporting ``KIND``.

The server, the trainer and the page read this registry (through
``cells.REGISTRY``, ``cells.KINDS`` and ``cells.describe``) instead of
listing kinds themselves. A kind made elsewhere joins it with
:func:`register` (or, for a while, :func:`registered`); ``KINDS`` is read
from the registry each time, so it always names every registered kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from ..errors import CellsError, UnknownKindError
from .base import Kind, LayerState

#: The kinds that ship, one module each under cells/kinds/ exporting KIND, in the order the page lists them.
BUILT_IN = ("rnn", "lstm", "peephole", "cifg", "gru", "mgu", "nig", "nfg", "nog", "niaf", "noaf", "fgr", "mingru", "minlstm", "rglru", "ssm")
#: The kind a form starts on where nothing else is chosen: the article's subject.
DEFAULT = "lstm"

REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry under ``kind.name``; a name already taken is refused."""
    if not isinstance(kind, Kind) or not kind.name:
        raise CellsError(f"register: expected a named Kind instance, got {kind!r}")
    if kind.name in REGISTRY:
        raise CellsError(f"register: a kind named {kind.name!r} is already registered")
    REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Take the kind named ``name`` out of the registry."""
    get(name)
    del REGISTRY[name]


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """``kind`` is registered inside the ``with`` block only (tests, notebooks)."""
    register(kind)
    try:
        yield kind
    finally:
        REGISTRY.pop(kind.name, None)


for _module in BUILT_IN:
    register(import_module(f"{__name__}.{_module}").KIND)


def of_class(class_name: str) -> str | None:
    """The kind a framework's class or operator computes, by its name: nn.LSTM, nn.GRUCell, Keras' SimpleRNN, ONNX's
    GRU. The frameworks name them after the cells: the name less "Cell" or "Simple", lower-cased; None if no kind is
    registered by that name. So readers of framework objects and files name no kind themselves."""
    kind = class_name.removesuffix("Cell").removeprefix("Simple").lower()
    return kind if kind in REGISTRY else None


def of_reference(names: Iterator[str] | set[str] | list[str]) -> tuple[Kind, str] | None:
    """(the kind, the names' prefix) whose reference implementation saved these state_dict names (Kind.reference_marks:
    minGRU-pytorch's "to_hidden_and_gate.weight"), or None."""
    names = set(names)
    for kind in REGISTRY.values():
        for mark in sorted(kind.reference_marks)[:1]:
            for name in sorted(names):
                prefix = name.removesuffix(mark)
                if name.endswith(mark) and all(prefix + m in names for m in kind.reference_marks):
                    return kind, prefix
    return None


def of_reference_class(class_name: str) -> Kind | None:
    """The kind that reads a live module of this class (Kind.reference_classes), or None."""
    return next((k for k in REGISTRY.values() if class_name in k.reference_classes), None)


def __getattr__(name: str):
    if name == "KINDS":  # computed on each read, so a kind registered later is listed too
        return tuple(REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get(kind: object) -> Kind:
    """The kind named ``kind``, or UnknownKindError listing every kind."""
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise UnknownKindError(kind, tuple(REGISTRY))
    return REGISTRY[kind]


__all__ = ["DEFAULT", "KINDS", "REGISTRY", "Kind", "LayerState", "get", "register", "registered", "unregister"]
