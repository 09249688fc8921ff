"""A kind's cell diagram as data: nodes with positions, edges with styles, and the state line.

The glossary says what each name is computed from; the kind says where
each name sits (``Kind.positions``, on the grid of ``cells/kinds/_grid.py``)
and which names form the state line (``Kind.state_line``). This module
joins the two, for every kind alike. Plain data, no HTTP: the API serves it
as the ``diagram`` of ``GET /api/kinds``.
"""

from __future__ import annotations

from functools import lru_cache

from .kinds import get
from .kinds._grid import HEIGHT, WIDTH
from .kinds.base import Kind
from .spec import Glossary, Name


def _shape(name: Name) -> str:
    if name.op in ("sigmoid", "tanh", "relu", "identity") and name.operands and name.operands[0].endswith("_pre"):
        return "layer"  # a learned layer: the yellow box of colah's figures
    if name.op in ("mul", "add", "clip", "one_minus", "tanh", "identity"):
        return "op"     # a pointwise operation: the pink circle
    return "strip"


def _style(glossary: Glossary, source: str, target: Name, state_line: list[str]) -> str:
    if source in state_line and target.name in state_line:
        return "state"
    if source in ("c", "c_prev") and target.role == "pre":
        return "peephole"
    if source.endswith("_prev") and target.role == "pre" and source not in ("h_prev", "c_prev"):
        return "gate"   # FGR: last step's gates feed this step's
    if glossary[source].role == "gate" and target.op != "sigmoid":
        return "gate"   # a gate scaling what it gates
    return "main"


@lru_cache(maxsize=256)
def _diagram(spec: Kind, options: tuple) -> dict:
    glossary = spec.glossary(dict(options))
    pos = spec.positions(glossary)
    state_line = list(spec.state_line)
    nodes, edges = [], []
    for n in glossary:
        x, y = pos[n.name]
        nodes.append({"name": n.name, "x": x, "y": y, "shape": _shape(n), "label": n.symbol})
        for source in n.operands:
            if n.op == "shift":
                continue  # h_prev <- h is the recurrence itself, drawn as the way out and in
            edges.append({"source": source, "target": n.name, "style": _style(glossary, source, n, state_line)})
    return {"width": WIDTH, "height": HEIGHT, "nodes": nodes, "edges": edges, "state_lines": state_line}


def diagram(kind: str, options: dict | None = None) -> dict:
    """The diagram of ``kind`` under ``options``: nodes with positions, edges, and the state line.

    Cached per kind object and options: treat it as read-only.
    """
    spec = get(kind)
    opts = spec.check_options(options or {})
    return _diagram(spec, tuple(sorted(opts.items())))
