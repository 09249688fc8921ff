"""The registry of cell kinds: one module per kind, each exporting ``KIND``.

The server and the page read this registry (through ``cells.KINDS`` and
``cells.describe``) instead of listing kinds themselves.
"""

from __future__ import annotations

from ..errors import UnknownKindError
from . import cifg, fgr, gru, lstm, mgu, nfg, niaf, nig, noaf, nog, peephole, rnn
from .base import Kind, LayerState

_MODULES = (rnn, lstm, peephole, cifg, gru, mgu, nig, nfg, nog, niaf, noaf, fgr)
REGISTRY: dict[str, Kind] = {m.KIND.name: m.KIND for m in _MODULES}
KINDS: tuple[str, ...] = tuple(REGISTRY)


def get(kind: object) -> Kind:
    """The kind named ``kind``, or UnknownKindError listing every kind."""
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise UnknownKindError(kind, KINDS)
    return REGISTRY[kind]


__all__ = ["KINDS", "REGISTRY", "Kind", "LayerState", "get"]
