"""A model: one cell kind, its weights, stacked layers and directions, as in PyTorch.

Layer k > 0 reads the outputs of layer k-1 (both directions concatenated,
forward first). The reverse direction reads the sequence from t = T-1 down
to 0; its trace is stored in the original time order, so row t of every
direction belongs to input x(t), and its final state is the one after t = 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import clamp as _clamp
from . import kinds
from .clamp import Clamp
from .errors import CellsError, EmptySequenceError, NonFiniteError, OptionError, ShapeError, WeightNameError
from .kinds.base import LayerState
from .slots import Slot, expected_shapes, walk
from .trace import LayerTrace, State, Trace
from .vocab import Vocab


def check_size(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise OptionError(f"{name}: got {value!r}; expected an integer >= {minimum}")
    return int(value)


def check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise OptionError(f"dtype: got {dtype!r}; expected float32 or float64") from None
    if dt not in (np.float32, np.float64):
        raise OptionError(f"dtype: got {dt}; expected float32 or float64")
    return dt


def check_finite(name: str, a: np.ndarray) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise NonFiniteError(name, int(a.size - np.isfinite(a).sum()), a.size)


def as_real_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64-or-narrower NumPy array, refusing strings, objects and complex numbers."""
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise CellsError(f"{name}: not a numeric array ({e})") from None
    if a.dtype.kind not in "fiub" or a.dtype.kind == "b":
        raise CellsError(f"{name}: expected real numbers, got an array of dtype {a.dtype}")
    return a


class Model:
    """A recurrent model whose every intermediate can be traced.

    Build one with :func:`cells.build` (random weights) or :func:`cells.load`
    (weights from PyTorch, Keras, TensorFlow v1 or a gatescope bundle).
    ``params`` uses PyTorch's full names (``weight_ih_l0``, ``..._reverse``).
    """

    def __init__(self, kind: str, params: dict[str, np.ndarray], *, input_size: int, hidden_size: int,
                 num_layers: int = 1, bidirectional: bool = False, options: dict | None = None, dtype: Any = None,
                 vocab: Vocab | None = None, embedding: np.ndarray | None = None,
                 decoder: tuple[np.ndarray, np.ndarray] | None = None, labels: list[str] | None = None,
                 card: dict | None = None, source: dict | None = None, assumed: dict | None = None):
        self.spec = kinds.get(kind)
        self.kind = kind
        self.options = self.spec.check_options(options or {})
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        if not isinstance(bidirectional, (bool, np.bool_)):
            raise OptionError(f"bidirectional: got {bidirectional!r}; expected true or false")
        self.bidirectional = bool(bidirectional)
        self.directions = 2 if self.bidirectional else 1
        proj = self.options.get("proj_size") or 0
        if proj and proj >= self.hidden_size:
            raise OptionError(f"proj_size: got {proj}; expected a value smaller than hidden_size ({self.hidden_size})")
        self.out_size = self.spec.out_size(self.hidden_size, self.options)
        self._slots = tuple(walk(self.input_size, self.out_size, self.num_layers, self.directions))
        first = next(iter(params.values()), None)
        self.dtype = check_dtype(dtype if dtype is not None else (first.dtype if first is not None and first.dtype == np.float64 else np.float32))
        self.params = self._check_params(params)
        self.vocab = vocab
        self.embedding = self._check_extra("embedding.weight", embedding, (None, self.input_size))
        if vocab is not None and self.embedding is not None and len(vocab) != len(self.embedding):
            raise ShapeError("embedding.weight", (len(vocab), self.input_size), self.embedding.shape, "one row per vocabulary token")
        self.decoder = None  # (decoder.weight, decoder.bias): the linear map from each step's output to the head's
        if decoder is not None:
            w = self._check_extra("decoder.weight", decoder[0], (None, self.directions * self.out_size))
            b = self._check_extra("decoder.bias", decoder[1], (len(w),))
            self.decoder = (w, b)
        self.labels = list(labels) if labels is not None else None
        if self.labels is not None and len(self.labels) != self.n_outputs:
            raise CellsError(f"labels: {len(self.labels)} labels given but the decoder has {self.n_outputs} outputs")
        from .io import check_card  # the one check of a card: its known keys typed as read, its units units of this model
        self.card = check_card(dict(card) if hasattr(card, "keys") else card, self.hidden_size) if card else {}
        self.source = dict(source) if source else {}     # how cells.load found the weights (layout, prefix, unused, ...)
        self.assumed = dict(assumed) if assumed else {}  # option -> the value taken where the weights cannot say
        self.glossary = self.spec.glossary(self.options)
        self._plans: dict[tuple[int, int], Any] = {}

    # -- the stack ---------------------------------------------------------
    def walk(self) -> tuple[Slot, ...]:
        """Every layer-direction with its input width and suffix, indexed layer * directions + direction."""
        return self._slots

    def layer_params(self, slot: Slot) -> dict[str, np.ndarray]:
        """One layer-direction's parameters under their unsuffixed names (weight_ih, ...)."""
        names = self.spec.param_shapes(slot.input_width, self.hidden_size, self.options)
        return {n: self.params[n + slot.suffix] for n in names}

    # -- construction checks ---------------------------------------------
    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's full torch name and shape."""
        return expected_shapes(self.spec, self.input_size, self.hidden_size, self.num_layers, self.directions, self.options)

    def _check_params(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        expected = self.expected_shapes()
        missing, unknown = set(expected) - set(params), set(params) - set(expected)
        if missing or unknown:
            raise WeightNameError(missing, unknown, "torch", expected)
        out = {}
        for name, shape in expected.items():
            a = as_real_array(name, params[name])
            if a.shape != shape:
                raise ShapeError(name, shape, a.shape)
            check_finite(name, a)
            out[name] = np.ascontiguousarray(a, dtype=self.dtype)
        return out

    def _check_extra(self, name: str, a: Any, shape: tuple) -> np.ndarray | None:
        if a is None:
            return None
        a = as_real_array(name, a)
        want = tuple(a.shape[i] if s is None and i < a.ndim else s for i, s in enumerate(shape))
        if a.shape != want or 0 in a.shape:
            raise ShapeError(name, tuple("V" if s is None else s for s in shape), a.shape)
        check_finite(name, a)
        return np.ascontiguousarray(a, dtype=self.dtype)

    # -- running -----------------------------------------------------------
    def initial_state(self) -> State:
        n = self.num_layers * self.directions
        return State(
            h=np.zeros((n, self.out_size), self.dtype),
            c=np.zeros((n, self.hidden_size), self.dtype) if self.spec.has_cell else None,
            gates=np.zeros((n, 3 * self.hidden_size), self.dtype) if self._recurrent_gates else None,
            more={k: np.zeros((n, w), self.dtype) for k, w in self._carried().items()},
        )

    def _carried(self) -> dict[str, int]:
        """The widths of what else each layer carries (Kind.carried); the same for every layer, whatever its input."""
        return self.spec.carried(self.input_size, self.hidden_size, self.options)

    @property
    def _recurrent_gates(self) -> bool:
        return self.spec.recurrent_gates

    def run(self, xs: Any, h0: Any = None, c0: Any = None, *, state: State | None = None,
            clamp: Clamp | str | None = None, t0: int = 0) -> Trace:
        """Run the model over ``xs`` (T, input_size) and keep every intermediate.

        ``clamp`` holds gates or states at values ("forget:1", "input[3]:0@10-"; see cells.clamp), checked against
        the model before anything runs; ``t0`` is the step number of xs[0], so that a chunk of a longer run (a
        stream, typing) is held at the steps of the whole run.
        """
        clamp = Clamp.of(clamp).bind(self)
        t0 = check_size("t0", t0, minimum=0)
        xs = self._check_inputs("xs", xs, 2)
        state = self._check_state(h0, c0, state)
        layers, finals, inp = [], [], xs
        for k in range(self.num_layers):
            row = []
            for d in range(self.directions):
                i = k * self.directions + d
                start = LayerState(h=state.h[i], c=None if state.c is None else state.c[i], gates=None if state.gates is None else state.gates[i],
                                   more={name: a[i] for name, a in state.more.items()})
                src = inp if d == 0 else np.ascontiguousarray(inp[::-1])
                holds = _clamp.plan(clamp, self, self.walk()[i], t0, len(src)) if clamp else None
                if holds is None:
                    arrays, final = self.spec.forward(self._plan(k, d), src, start)
                else:
                    arrays, final = _clamp.forward(self.spec, self._plan(k, d), src, start, _clamp.Layer(self, self.walk()[i], holds))
                if d:  # back to the original time order
                    arrays = {name: np.ascontiguousarray(a[::-1]) for name, a in arrays.items()}
                arrays["x"] = inp
                row.append(LayerTrace(arrays, self.glossary, k, d))
                finals.append(final)
            layers.append(row)
            inp = row[0]["h"] if self.directions == 1 else np.concatenate([row[0]["h"], row[1]["h"]], axis=1)
        final = State(
            h=np.stack([f.h for f in finals]),
            c=np.stack([f.c for f in finals]) if self.spec.has_cell else None,
            gates=np.stack([f.gates for f in finals]) if self._recurrent_gates else None,
            more={name: np.stack([f.more[name] for f in finals]) for name in state.more},
        )
        return Trace(self.kind, layers, inp, final)

    def step(self, x: Any, state: State | None = None):
        """One timestep from ``state`` (zeros when None): returns (new state, snapshot of the step)."""
        if self.bidirectional:
            raise CellsError("step() needs a unidirectional model: the reverse direction of a bidirectional model "
                             "needs the whole sequence; use run()")
        x = self._check_inputs("x", x, 1)
        trace = self.run(x[None], state=state)
        return trace.final, trace.at(0)

    def _plan(self, layer: int, direction: int):
        key = (layer, direction)
        if key not in self._plans:
            slot = self.walk()[layer * self.directions + direction]
            self._plans[key] = self.spec.compile(self.layer_params(slot), self.options, self.dtype)
        return self._plans[key]

    def _check_inputs(self, name: str, xs: Any, ndim: int) -> np.ndarray:
        a = as_real_array(name, xs)
        want = ("T", self.input_size) if ndim == 2 else (self.input_size,)
        if a.ndim != ndim or a.shape[-1] != self.input_size:
            raise ShapeError(name, want, a.shape, "T timesteps of input_size values each" if ndim == 2 else "one timestep")
        if ndim == 2 and a.shape[0] == 0:
            raise EmptySequenceError(name)
        check_finite(name, a)
        return np.ascontiguousarray(a, dtype=self.dtype)

    def _check_state(self, h0: Any, c0: Any, state: State | None) -> State:
        if state is not None:
            if h0 is not None or c0 is not None:
                raise CellsError("pass either state= or h0=/c0=, not both")
            h0, c0, gates, more = state.h, state.c, state.gates, state.more
        else:
            gates, more = None, {}
        n = self.num_layers * self.directions
        zero = self.initial_state()
        if unknown := sorted(set(more) - set(zero.more)):
            raise CellsError(f"state.more: {', '.join(unknown)} is no state of the {self.kind} kind; it carries "
                             f"{', '.join(zero.more) or 'nothing besides h' + (' and c' if self.spec.has_cell else '')}")
        if c0 is not None and not self.spec.has_cell:
            raise CellsError(f"c0: the {self.kind} kind has no cell state; pass h0 only")
        out = State(h=self._state_part("h0", h0, (n, self.out_size), zero.h),
                    c=self._state_part("c0", c0, (n, self.hidden_size), zero.c) if self.spec.has_cell else None,
                    gates=self._state_part("gates", gates, (n, 3 * self.hidden_size), zero.gates) if self._recurrent_gates else None,
                    more={k: self._state_part(k, more.get(k), (n, w), zero.more[k]) for k, w in self._carried().items()})
        return out

    def _state_part(self, name: str, value: Any, shape: tuple[int, int], default: np.ndarray) -> np.ndarray:
        if value is None:
            return default
        a = as_real_array(name, value)
        if a.shape == shape[1:] and shape[0] == 1:
            a = a[None]
        if a.shape != shape:
            raise ShapeError(name, shape, a.shape, "one row per layer and direction, indexed layer * directions + direction")
        check_finite(name, a)
        return np.ascontiguousarray(a, dtype=self.dtype)

    # -- text in, predictions out -----------------------------------------
    def embed(self, ids: Any) -> np.ndarray:
        """Rows of the embedding for token ids: (T, input_size)."""
        if self.embedding is None:
            raise CellsError("this model has no embedding; feed vectors to run() instead")
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" or ids.ndim != 1 or (ids.size and (ids.min() < 0 or ids.max() >= len(self.embedding))):
            raise CellsError(f"ids: expected a 1-D array of integers in [0, {len(self.embedding)})")
        return self.embedding[ids]

    def logits(self, output: np.ndarray) -> np.ndarray:
        """The decoder applied to each step's output: (T, outputs)."""
        if self.decoder is None:
            raise CellsError("this model has no decoder (output head)")
        w, b = self.decoder
        return output @ w.T + b

    def predict(self, output: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`logits`: next-token probabilities, (T, outputs)."""
        z = self.logits(output)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    @property
    def n_outputs(self) -> int:
        """How many values the decoder makes of each step (0 without one)."""
        return 0 if self.decoder is None else len(self.decoder[0])

    @property
    def head(self) -> str | None:
        """How the decoder's outputs read: "softmax" (probabilities over the labels), "linear" (values), None without a decoder.

        The card's "head" says; without it, a model with labels is a classifier and one without is a regressor.
        """
        if self.decoder is None:
            return None
        return self.card.get("head") or ("softmax" if self.labels else "linear")

    def outputs(self, output: np.ndarray) -> np.ndarray:
        """What the head makes of each step's output, (T, outputs): :meth:`predict` for a softmax head, else :meth:`logits`."""
        return self.predict(output) if self.head == "softmax" else self.logits(output)

    # -- conversions -------------------------------------------------------
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "options": dict(self.options),
            "dtype": self.dtype.name,
        }

    def describe(self) -> dict:
        return {
            **self.config(),
            "out_size": self.out_size,
            "parameters": int(sum(a.size for a in self.params.values())),
            "vocab_size": len(self.vocab) if self.vocab is not None else None,
            "has_embedding": self.embedding is not None,
            "outputs": self.n_outputs or None,
            "card": self.card,
            "source": self.source,
            "assumed": self.assumed,
        }

    def astype(self, dtype: Any) -> Model:
        dt = check_dtype(dtype)
        return Model(self.kind, {k: a.astype(dt) for k, a in self.params.items()}, input_size=self.input_size,
                     hidden_size=self.hidden_size, num_layers=self.num_layers, bidirectional=self.bidirectional,
                     options=self.options, dtype=dt, vocab=self.vocab, embedding=self.embedding,
                     decoder=self.decoder, labels=self.labels, card=self.card, source=self.source, assumed=self.assumed)

    def to_arrays(self, layout: str = "torch") -> dict[str, np.ndarray]:
        """The weights named and shaped as ``layout`` ("torch", "keras", "tf1" or "onnx") stores them."""
        from .layouts import to_layout
        return to_layout(self, layout)

    def save(self, path, layout: str = "torch") -> None:
        """Write a gatescope bundle (.safetensors) with weights, options, vocabulary and head."""
        from .io import save_bundle
        save_bundle(self, path, layout)

    def __repr__(self) -> str:
        extra = f", num_layers={self.num_layers}" if self.num_layers > 1 else ""
        extra += ", bidirectional=True" if self.bidirectional else ""
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"Model({self.kind!r}, input_size={self.input_size}, hidden_size={self.hidden_size}{extra}{opts}, dtype={self.dtype.name})"

    def _repr_html_(self) -> str:
        from .trace import model_html  # a notebook's summary, beside the trace's
        return model_html(self)
