"""What a run returns: every vector of every step, by name.

A :class:`Trace` is a read-only mapping from glossary names to (T, width)
C-contiguous arrays of the top layer's forward direction; ``trace.layer(k,
direction)`` gives any other layer. State names come in pairs that share
memory: ``h_prev`` and ``h`` are two views, one row apart, of one (T+1, H)
array, so the trace stores each state once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .spec import Glossary


@dataclass
class State:
    """The recurrent state of a whole model, indexed layer * directions + direction as in PyTorch.

    ``h`` is (L*D, out), ``c`` is (L*D, hidden) for kinds with a cell state,
    and ``gates`` is (L*D, 3*hidden) for kinds whose gates recur (FGR).
    """

    h: np.ndarray
    c: np.ndarray | None = None
    gates: np.ndarray | None = None


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
