"""A stack's layer-directions and the names of their parameters, as PyTorch numbers them.

Shared by the model (cells.model), which runs the stack, and the weight layouts (cells.layouts), which read
and write it in other frameworks' names: both import it, and neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple


def suffix(layer: int, direction: int) -> str:
    """PyTorch's parameter-name suffix: _l0, _l1_reverse, ..."""
    return f"_l{layer}" + ("_reverse" if direction else "")


class Slot(NamedTuple):
    """One layer-direction of a stack: where it is, how wide its input is, and its parameters' name suffix."""

    layer: int
    direction: int      # 0 forward, 1 reverse
    input_width: int    # input_size for layer 0; above it, the layer below's h, both directions side by side
    suffix: str         # "_l0", "_l1_reverse", ...


def walk(input_size: int, out_size: int, num_layers: int, directions: int) -> Iterator[Slot]:
    """Every layer-direction of a stack, bottom layer first and forward before reverse (PyTorch's order)."""
    for k in range(num_layers):
        width = input_size if k == 0 else directions * out_size
        for d in range(directions):
            yield Slot(k, d, width, suffix(k, d))


def expected_shapes(spec, input_size: int, hidden_size: int, num_layers: int, directions: int, opts: dict) -> dict[str, tuple[int, ...]]:
    """Full torch name -> shape of every parameter of a model."""
    return {name + slot.suffix: shape
            for slot in walk(input_size, spec.out_size(hidden_size, opts), num_layers, directions)
            for name, shape in spec.param_shapes(slot.input_width, hidden_size, opts).items()}
