"""The interface every cell kind implements, and the state one layer carries.

A kind is a module-level instance of a :class:`Kind` subclass. The model
(``cells.model``) only talks to kinds through this interface, so stacking,
bidirectional runs, layouts and bundles work the same for every kind.

Parameters use PyTorch's per-layer names without the ``_l{k}`` suffix
(``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` ...), with PyTorch's
shapes: ``weight_ih`` is (blocks*H, input), applied as ``x @ weight_ih.T``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CellsError, OptionError
from ..spec import Glossary, Option

#: What a Keras layer's weights cannot say about its activations (``Kind.assumed``; a kind may add a caveat).
KERAS_ACTIVATIONS = ("tanh, with sigmoid gates (Keras' defaults; the weights cannot say; layers built with another "
                     "activation= or recurrent_activation= are not supported")


@dataclass
class LayerState:
    """What one layer-direction carries from one step to the next.

    ``h`` is (out,), ``c`` is (hidden,) for kinds with a cell state, and
    ``gates`` holds the previous step's gate activations for kinds whose
    gates feed back (FGR), else None. ``more`` holds what else a kind
    carries, by glossary name (sLSTM's normalizer n and stabilizer m,
    mLSTM's matrix memory, Mamba's state and its convolution's last inputs).
    """

    h: np.ndarray
    c: np.ndarray | None = None
    gates: np.ndarray | None = None
    more: dict[str, np.ndarray] = field(default_factory=dict)


class Kind:
    """Base class of the cell kinds. Subclasses fill in the class attributes."""

    name: str = ""
    title: str = ""
    summary: str = ""
    #: The title and summary in Chinese ({"title", "summary"}, and "removed" of ``simplifies``); what it lacks reads in
    #: English (cells.spec: two languages).
    zh: dict[str, str] = {}
    reference: str = ""
    #: Row blocks of weight_ih / weight_hh in the torch layout, as glossary names.
    blocks: tuple[str, ...] = ()
    #: The torch-layout matrices and biases every layer-direction has (param_shapes gives their shapes and may add
    #: option-made ones: peepholes, a projection). A kind whose gates read x(t) only (minGRU, minLSTM) has no
    #: weight_hh, and the layouts read its hidden size off weight_ih.
    param_names: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    has_cell: bool = False
    options: tuple[Option, ...] = ()
    #: Layouts this kind can be read from and written to.
    layouts: tuple[str, ...] = ("torch",)
    #: Layout -> its gate-block order: block j of that layout is block ``block_order[layout][j]`` of
    #: the torch layout (Keras stores the GRU's z, r, h where torch stores r, z, n). Absent: same order.
    block_order: dict[str, tuple[int, ...]] = {}
    #: ONNX's operator for this kind (cells.kinds.of_class finds the kind by its op_type), as cells.formats.onnx reads it:
    #: the activations it may name, one direction's list in the operator's order (ONNX's defaults included) -> the
    #: options they set; a node naming others is refused. Empty: the kind is no ONNX operator's.
    onnx_activations: dict[tuple[str, ...], dict[str, Any]] = {}
    #: The operator's 0/1 attributes that are this kind's bool options (GRU: linear_before_reset -> reset_after).
    onnx_flags: dict[str, str] = {}
    #: The operator's optional inputs that make a node another kind when given (LSTM: P, the peepholes -> peephole).
    onnx_inputs: dict[str, str] = {}
    #: Names the diagram draws along its top as the state line (colah's "conveyor belt"); () for none.
    state_line: tuple[str, ...] = ()
    #: Appended to KERAS_ACTIVATIONS in ``model.assumed`` for weights read in the keras layout.
    keras_caveat: str = ""
    #: The gate block whose bias a fresh model for training starts at +1 (Gers et al. 2000), or None.
    remember_block: str | None = None
    #: What-if clamps (cells.clamp): affine name -> {operand: (param, block, how)}, how much the affine name changes when a
    #: held value changes that operand within the step: "diag" param ⊙ Δ, "matmul" Δ·param[block]ᵀ, "identity" Δ.
    clamp_terms: dict[str, dict[str, tuple[str | None, str | None, str]]] = {}
    #: The option that bounds the glossary's "clip" op, if the kind has one.
    clip_option: str | None = None
    #: The rung below this kind on /compare's ablation ladder (LSTM → GRU → minGRU → ...): the kind it simplifies, and in
    #: one line the arrow it removed (its Chinese in ``zh["removed"]``); None for a kind that is no rung.
    simplifies: tuple[str, str] | None = None
    #: The reference implementation whose weights this kind reads (:meth:`from_reference`): the class names of its torch
    #: modules (gatescope.from_torch), and the state_dict names that mark its saved weights (cells.load, an upload).
    reference_classes: tuple[str, ...] = ()
    reference_marks: frozenset[str] = frozenset()

    # -- options --------------------------------------------------------
    def check_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """Fill in defaults, coerce types, and reject unknown options by name."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            valid = ", ".join(known) or "none"
            raise OptionError(f"unknown option(s) for kind {self.name!r}: {', '.join(unknown)}; valid options: {valid}")
        out = {}
        for name, opt in known.items():
            out[name] = opt.check(given[name]) if name in given else opt.default
        return out

    # -- sizes and parameters --------------------------------------------
    def out_size(self, hidden_size: int, opts: dict) -> int:
        """Width of h: the hidden size, or the projection size when there is one."""
        return opts.get("proj_size") or hidden_size

    def sizes(self, input_size: int, hidden_size: int, opts: dict) -> dict[str, int]:
        """The width of each of the glossary's sizes (``Name.size``) for a layer whose input is ``input_size`` wide.
        A kind whose state is not hidden_size wide (Mamba's D·N values) gives its "state_size" here, and any other width
        its names have (Mamba's "state_width", N)."""
        return {"input_size": input_size, "hidden_size": hidden_size, "proj_size": self.out_size(hidden_size, opts),
                "state_size": hidden_size}

    def param_shapes(self, input_size: int, hidden_size: int, opts: dict) -> dict[str, tuple[int, ...]]:
        """Shapes of one layer-direction's parameters (torch names, no suffix)."""
        g = len(self.blocks) * hidden_size
        out = self.out_size(hidden_size, opts)
        shapes = {
            "weight_ih": (g, input_size),
            "weight_hh": (g, out),
            "bias_ih": (g,),
            "bias_hh": (g,),
        }
        return {name: shapes[name] for name in self.param_names}

    def carried(self, input_size: int, hidden_size: int, opts: dict) -> dict[str, int]:
        """What else a layer carries from step to step besides h, c and FGR's gates (LayerState.more), name -> width;
        zeros at the start of a run unless given."""
        return {}

    def step_macs(self, input_size: int, hidden_size: int, opts: dict) -> int:
        """Multiply-adds of one step, for the run's cost (app.run.cost): each weight matrix is used once a step. A kind
        with more work a step (a matrix memory, a state of N values per channel) adds it."""
        return sum(math.prod(s) for s in self.param_shapes(input_size, hidden_size, opts).values() if len(s) == 2)

    def init_params(self, input_size: int, hidden_size: int, opts: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """PyTorch's default init: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(hidden_size)
        return {
            name: rng.uniform(-bound, bound, size=shape)
            for name, shape in self.param_shapes(input_size, hidden_size, opts).items()
        }

    def zero_state(self, hidden_size: int, opts: dict, dtype) -> LayerState:
        return LayerState(h=np.zeros(self.out_size(hidden_size, opts), dtype), c=np.zeros(hidden_size, dtype) if self.has_cell else None)

    @property
    def recurrent_gates(self) -> bool:
        """Whether the previous step's gates are part of the state (FGR), as 3*hidden values per layer."""
        return False

    # -- weight files ------------------------------------------------------
    def two_biases(self, layout: str, opts: dict) -> bool:
        """Whether ``layout`` stores b_ih and b_hh apart, as one (2, G*H) bias, because they cannot be summed."""
        return False

    def options_from_bias(self, layout: str, bias_ndim: int) -> dict:
        """Options a non-torch layout's stored bias reveals by its number of dimensions."""
        return {}

    def assumed(self, layout: str, opts: dict, has_bias: bool) -> dict[str, str]:
        """Options a plain weights file in ``layout`` cannot reveal, and the value taken for each (``model.assumed``)."""
        return {"activation": KERAS_ACTIVATIONS + self.keras_caveat + ")"} if layout == "keras" else {}

    def check_file_options(self, layout: str, opts: dict) -> None:
        """Refuse options that a plain weights file in ``layout`` cannot have been trained with."""

    def from_reference(self, state: dict[str, np.ndarray], config: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
        """Our weights (names with their _l0 suffix, as cells.load reads them) and options, of the reference
        implementation's ``state`` (its state_dict's names, unprefixed) and ``config`` (its module's settings, {} for a
        saved state_dict). A CellsError names what the reference has that this kind does not."""
        raise CellsError(f"the {self.name} kind reads no reference implementation's weights")

    # -- what the page and the API read ----------------------------------
    def glossary(self, opts: dict) -> Glossary:
        raise NotImplementedError

    def positions(self, glossary: Glossary) -> dict[str, tuple[float, float]]:
        """Where each name of ``glossary`` sits in the cell diagram (see cells.diagram and kinds._grid)."""
        raise NotImplementedError

    def symbols(self, params: dict[str, np.ndarray], opts: dict) -> dict[str, Any]:
        """One layer-direction's parameters under the symbols its equations write, each as the equation uses it (a matrix
        (out, in), a vector, a constant): RG-LRU's {"W_u": ..., "Λ": ..., "c": 8.0}. It is what a reader's "W_a" or "Λ"
        holds, and what tests/test_cells_equations.py evaluates the equations with. {}: the kind's symbols are the
        framework's (W_ii, b_hf, ...: tests/test_cells_equations.weights reads them off the pre-activations' equations)."""
        return {}

    def derived(self, params: dict[str, np.ndarray], opts: dict) -> dict[str, np.ndarray]:
        """Vectors computed from one layer-direction's parameters that ``clamp_terms`` name as if they were parameters
        (RG-LRU's decay rate −c·softplus(Λ), by which log a(t) changes with r(t)); {} for a kind that needs none."""
        return {}

    def memory_roles(self, glossary: Glossary) -> dict:
        """Which names play memory, keep gate and write gate, for the model card's notes (cells.training.notes).

        This default is a kind without gates: h(t) is the memory, nothing keeps or writes it selectively. ``zh``
        holds the words (what, keep_sym, write_sym) in Chinese; a word it lacks is written in English.
        """
        return {"mem": "h", "what": "hidden state", "keep": None, "keep_sym": "", "write": None, "write_sym": "", "written": None,
                "zh": {"what": "隐藏状态"}}

    # -- the computation -------------------------------------------------
    def compile(self, params: dict[str, np.ndarray], opts: dict, dtype) -> Any:
        """Rearrange one layer-direction's parameters for :meth:`forward` (done once per model)."""
        raise NotImplementedError

    def forward(self, plan: Any, xs: np.ndarray, state: LayerState) -> tuple[dict[str, np.ndarray], LayerState]:
        """Run one layer-direction over ``xs`` (T, in).

        Returns every glossary name as a C-contiguous (T, width) array (except
        ``x``, which the model adds), and the state after the last step.
        """
        raise NotImplementedError

    # -- the backward pass (cells.backprop batches it, in float64) --------
    def tape_forward(self, p: dict, opts: dict, X: np.ndarray, start: LayerState) -> tuple[np.ndarray, dict, LayerState]:
        """Run one layer over a batch X (T, B, in), time-major, with unsuffixed float64 parameters ``p``.

        Returns the outputs (T, B, out), a cache of what :meth:`tape_backward` needs, and the final state.
        """
        raise CellsError(f"the {self.name} kind has no backward pass (Kind.tape_forward, tape_backward), "
                         "so it cannot be trained or differentiated")

    def tape_backward(self, p: dict, opts: dict, cache: dict, dY: np.ndarray, dfinal: LayerState | None, *,
                      params: bool = True, states: bool = False) -> tuple[dict | None, np.ndarray, LayerState, dict | None]:
        """Walk a cache back from the adjoints dY (T, S, out) of the outputs and ``dfinal`` of the final state.

        Returns the parameters' gradients (when ``params``), the inputs' adjoints (T, S, in), the initial
        state's adjoints, and every step's state adjoints (when ``states``: {"h": (T, S, out), "c": ...}).
        """
        raise CellsError(f"the {self.name} kind has no backward pass, so it cannot be trained or differentiated")

    @property
    def trainable(self) -> bool:
        return type(self).tape_backward is not Kind.tape_backward

    def describe(self, opts: dict | None = None) -> dict:
        opts = self.check_options(opts or {})
        glossary = self.glossary(opts)
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "simplifies": None if self.simplifies is None else {"kind": self.simplifies[0], "removed": self.simplifies[1]},
            "zh": dict(self.zh),
            "reference": self.reference,
            "has_cell": self.has_cell,
            "blocks": list(self.blocks),
            "layouts": list(self.layouts),
            "options": [o.describe() for o in self.options],
            "defaults": opts,
            "glossary": glossary.describe(),
            "memory": self.memory_roles(glossary),
            "equations": [
                {"name": n.name, "text": n.equation, "latex": n.latex,
                 "zh": {k: n.zh[w] for w, k in (("equation", "text"), ("latex", "latex")) if w in n.zh}}
                for n in glossary
                if n.op not in ("given", "shift")
            ],
        }
