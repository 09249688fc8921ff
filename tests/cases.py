"""Every kind with every option value, generated from the registry: the one list the engine tests parametrize over.

For each kind in ``cells.REGISTRY``: its defaults; each option moved off its
default, one at a time (every other choice of a choice or true/false option,
one value off the default for a number); and, for a kind with several
options, all of them off their defaults at once, so that options meet (a
clip on a biased forget gate, the projection of a clipped cell). A new kind
or option in the registry is covered here without touching this file;
tests/test_cells_reference.py checks that every kind and value appears.
"""

from __future__ import annotations

from gatescope import cells
from gatescope.cells.spec import Option

#: Every case builds with any hidden size from this one up (a projection must be narrower than the cell).
HIDDEN_MIN = 3


def other_values(opt: Option) -> list:
    """The values of one option the cases try besides its default. An option that must divide a size (RG-LRU's heads)
    is tried by its kind's own tests, at sizes it divides: the cases build every hidden size from HIDDEN_MIN up."""
    if opt.divides:
        return []
    if opt.choices is not None:
        return [c for c in opt.choices if c != opt.default]
    if opt.type is bool:
        return [not opt.default]
    base = opt.default if opt.default is not None else (opt.minimum or 0)
    return [opt.type(base + (2 if opt.type is int else 0.5))]


def kind_cases(kind: str) -> list[tuple[str, dict]]:
    options = cells.REGISTRY[kind].options
    out = [(kind, {})]
    out += [(kind, {opt.name: v}) for opt in options for v in other_values(opt)]
    moved = [opt for opt in options if other_values(opt)]
    if len(moved) > 1:
        out.append((kind, {opt.name: other_values(opt)[0] for opt in moved}))
    return out


def case_id(case: tuple[str, dict]) -> str:
    kind, opts = case
    return kind + "".join(f"-{k}={v}" for k, v in opts.items())


CASES: list[tuple[str, dict]] = [case for kind in cells.KINDS for case in kind_cases(kind)]
IDS = [case_id(c) for c in CASES]
