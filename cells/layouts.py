"""Weight layouts: how PyTorch, Keras, TensorFlow v1 and ONNX name, shape and order the same weights.

The engine keeps PyTorch's layout. For one layer-direction (H hidden units,
G gate blocks):

torch   weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H,), applied
        as x @ W.T; LSTM blocks i, f, g, o; GRU r, z, n. Peepholes (our names):
        weight_ci, weight_cf, weight_co (H,); projection weight_hr (P, H).
keras   kernel (I, G*H) = W_ih.T, recurrent_kernel (H, G*H) = W_hh.T, one bias
        b_ih + b_hh (G*H,). GRU blocks are z, r, h (not r, z, n), and with
        reset_after=True its bias is (2, 3H): input bias, recurrent bias.
        Peepholes: input/forget/output_gate_peephole_weights.
tf1     one kernel (I + H, 4H) applied to concat([x, h]), blocks i, j, f, o
        (j is the candidate); bias (4H,); w_i_diag, w_f_diag, w_o_diag;
        projection/kernel (H, P). forget_bias is added at run time (option).
onnx    the LSTM, GRU and RNN operators' inputs: W (G*H, I) and R (G*H, H),
        applied as x @ W.T like torch's; B (2*G*H,) is [Wb | Rb], input bias
        then recurrent bias, kept apart (the GRU's Rb_h sits inside r(t) ⊙ ...
        with linear_before_reset=1); peepholes P (3H,) = [p_i | p_o | p_f].
        Blocks as the operators order them: LSTM i, o, f, c; GRU z, r, h (each
        kind's block_order["onnx"]). ONNX stacks the directions on a first axis,
        [num_directions, ...]; here each layer-direction is one slot, as in the
        other layouts (cells.formats.onnx takes the graph's tensors apart).

Reading a layout with one bias puts it in bias_ih and zeros in bias_hh, so
writing the model back in that layout returns the arrays unchanged.
Single-layer unidirectional models use the bare names above in keras, tf1 and onnx;
deeper or bidirectional ones add PyTorch's suffixes (kernel_l1_reverse, ...).

Reading also reads sizes off names and shapes before anything is allocated
(``infer``, ``layout_shapes``), and checks PyTorch's constructor arguments
restated by the caller against them (``check_restated``); finding the
recurrent weights inside bigger files is ``cells.weight_groups.pick``.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import OptionError, ShapeError, WeightNameError, shown
from .kinds import REGISTRY
from .kinds.base import Kind
from .slots import Slot, suffix, walk
from .spec import Option

LAYOUTS = ("torch", "keras", "tf1", "onnx")

_KERAS_PEEP = {"weight_ci": "input_gate_peephole_weights", "weight_cf": "forget_gate_peephole_weights", "weight_co": "output_gate_peephole_weights"}
_TF1_PEEP = {"weight_ci": "w_i_diag", "weight_cf": "w_f_diag", "weight_co": "w_o_diag"}
_ONNX_PEEP = ("weight_ci", "weight_co", "weight_cf")  # P = [p_i | p_o | p_f]: the LSTM operator's i, o, f order
#: The names each layout keeps biases under (a file without any gets zeros: nn.LSTM(bias=False), an ONNX node without B)
_BIAS = {"torch": ("bias_ih", "bias_hh"), "keras": ("bias",), "tf1": ("bias",), "onnx": ("B",)}
_SUFFIX = re.compile(r"_l([0-9]{1,6})(_reverse)?$")  # ASCII digits, few: int() never sees 5,000 of them


def _blocks(a: np.ndarray, perm: tuple[int, ...] | None, inverse: bool = False) -> np.ndarray:
    """Reorder the gate blocks along axis 0."""
    if perm is None:
        return a
    parts = np.split(a, len(perm), axis=0)
    if inverse:
        out = [None] * len(perm)
        for j, p in enumerate(perm):
            out[p] = parts[j]
        return np.concatenate(out, axis=0)
    return np.concatenate([parts[p] for p in perm], axis=0)


def check_layout(spec: Kind, layout: str, opts: dict) -> None:
    if layout not in LAYOUTS:
        raise OptionError(f"layout: got {layout!r}; expected one of: {', '.join(LAYOUTS)}")
    if layout not in spec.layouts:
        raise OptionError(f"layout: the {spec.name} kind cannot be stored in the {layout} layout; it can be: {', '.join(spec.layouts)}")
    if layout in ("keras", "onnx") and opts.get("proj_size"):
        raise OptionError(f"layout: {'Keras layers' if layout == 'keras' else 'ONNX operators'} have no projection; "
                          "proj_size > 0 needs the torch or tf1 layout")


def write_one(spec: Kind, p: dict[str, np.ndarray], layout: str, opts: dict) -> dict[str, np.ndarray]:
    """One layer-direction's torch-named parameters, in ``layout``'s names, shapes and order."""
    if layout == "torch":
        return dict(p)
    perm = spec.block_order.get(layout)  # block j of the layout is block perm[j] of torch's
    wih, whh = _blocks(p["weight_ih"], perm), _blocks(p["weight_hh"], perm)
    if layout == "onnx":
        out = {"W": wih, "R": whh, "B": np.concatenate([_blocks(p["bias_ih"], perm), _blocks(p["bias_hh"], perm)])}
        if "weight_ci" in p:
            out["P"] = np.concatenate([p[k] for k in _ONNX_PEEP])
        return {k: np.ascontiguousarray(a) for k, a in out.items()}
    if layout == "keras":
        out = {"kernel": wih.T, "recurrent_kernel": whh.T}
        if spec.two_biases(layout, opts):
            out["bias"] = np.stack([_blocks(p["bias_ih"], perm), _blocks(p["bias_hh"], perm)])
        else:
            out["bias"] = _blocks(p["bias_ih"] + p["bias_hh"], perm)
        out.update({_KERAS_PEEP[k]: p[k] for k in _KERAS_PEEP if k in p})
        return {k: np.ascontiguousarray(a) for k, a in out.items()}
    out = {"kernel": np.concatenate([wih.T, whh.T], axis=0), "bias": _blocks(p["bias_ih"] + p["bias_hh"], perm)}
    out.update({_TF1_PEEP[k]: p[k] for k in _TF1_PEEP if k in p})
    if "weight_hr" in p:
        out["projection/kernel"] = p["weight_hr"].T
    return {k: np.ascontiguousarray(a) for k, a in out.items()}


def read_one(spec: Kind, a: dict[str, np.ndarray], layout: str, opts: dict, input_size: int) -> dict[str, np.ndarray]:
    """The inverse of :func:`write_one` (shapes already checked)."""
    if layout == "torch":
        return dict(a)
    perm = spec.block_order.get(layout)
    if layout == "onnx":
        wb, rb = np.split(a["B"], 2)  # [Wb | Rb]
        out = {"weight_ih": _blocks(a["W"], perm, True), "weight_hh": _blocks(a["R"], perm, True),
               "bias_ih": _blocks(wb, perm, True), "bias_hh": _blocks(rb, perm, True)}
        if "P" in a:
            out.update(zip(_ONNX_PEEP, np.split(a["P"], len(_ONNX_PEEP))))
    elif layout == "keras":
        out = {"weight_ih": _blocks(a["kernel"].T, perm, True), "weight_hh": _blocks(a["recurrent_kernel"].T, perm, True)}
        bias = a["bias"]
        if bias.ndim == 2:
            out["bias_ih"], out["bias_hh"] = _blocks(bias[0], perm, True), _blocks(bias[1], perm, True)
        else:
            out["bias_ih"], out["bias_hh"] = _blocks(bias, perm, True), np.zeros_like(bias)
        out.update({k: a[name] for k, name in _KERAS_PEEP.items() if name in a})
    else:
        kernel = a["kernel"]
        out = {"weight_ih": _blocks(kernel[:input_size].T, perm, True), "weight_hh": _blocks(kernel[input_size:].T, perm, True),
               "bias_ih": _blocks(a["bias"], perm, True), "bias_hh": np.zeros_like(a["bias"])}
        out.update({k: a[name] for k, name in _TF1_PEEP.items() if name in a})
        if "projection/kernel" in a:
            out["weight_hr"] = a["projection/kernel"].T
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def _layout_suffix(layout: str, slot: Slot, single: bool) -> str:
    """Keras and TF v1 name a single-layer unidirectional model's weights bare; otherwise PyTorch's suffix."""
    return "" if layout != "torch" and single else slot.suffix


def to_layout(model, layout: str) -> dict[str, np.ndarray]:
    """All of ``model``'s weights in ``layout``."""
    check_layout(model.spec, layout, model.options)
    single = model.num_layers == 1 and model.directions == 1
    out = {}
    for slot in model.walk():
        lsfx = _layout_suffix(layout, slot, single)
        out.update({name + lsfx: a for name, a in write_one(model.spec, model.layer_params(slot), layout, model.options).items()})
    return out


# -- what the weights say ------------------------------------------------------------

#: PyTorch's constructor arguments, accepted by cells.load and checked against the weights (never used to override them).
STRUCTURE = (
    Option("num_layers", None, "Stacked layers the weights must hold.", int, minimum=1),
    Option("bidirectional", None, "Whether the weights must hold a reverse direction.", bool),
    Option("hidden_size", None, "Hidden size the weights must have.", int, minimum=1),
    Option("input_size", None, "Input size the first layer's weights must have.", int, minimum=1),
    Option("proj_size", None, "LSTM projection size the weights must have (0: none).", int, minimum=0),
    Option("bias", None, "Whether the weights must hold biases (False: nn.LSTM(bias=False); zeros are used).", bool),
)


def restated(opts: dict) -> dict:
    """Take PyTorch's structure keywords out of ``opts`` (in place), checked for type; None values count as not given."""
    out = {}
    for o in STRUCTURE:
        value = opts.pop(o.name, None)
        if value is not None:
            out[o.name] = o.check(value)
    return out


def _stack(arrays: dict[str, np.ndarray]) -> tuple[dict[int, str], str | None]:
    """Layer number -> the first name with that suffix, and a name of the reverse direction (or None)."""
    layers: dict[int, str] = {}
    reverse = None
    for name in arrays:
        m = _SUFFIX.search(name)
        if m:
            layers.setdefault(int(m.group(1)), name)
            reverse = reverse or (name if m.group(2) else None)
    if layers and len(layers) != max(layers) + 1:  # checked on the names alone: no loop runs to a declared depth
        top = max(layers)
        raise WeightNameError(message=f"num_layers: the weights name layer {top} ({layers[top]}) but only {len(layers)} distinct "
                                  f"layer number(s) appear ({shown(sorted(layers))}); layers are numbered from 0 without gaps")
    return layers, reverse


def _need(arrays: dict[str, np.ndarray], layout: str, name: str, ndim: int) -> np.ndarray:
    """The array ``name``, which must be there and have ``ndim`` dimensions."""
    if name not in arrays:
        raise WeightNameError(missing=[name], layout=layout)
    a = arrays[name]
    if a.ndim != ndim:
        raise ShapeError(name, ("?",) * ndim, a.shape, f"expected a {ndim}-D array")
    return a


def infer(spec: Kind, arrays: dict[str, np.ndarray], layout: str, opts: dict) -> dict:
    """Sizes, depth, directions and biases from the arrays' names and shapes, and which names said so ("evidence")."""
    layers, reverse = _stack(arrays)
    single = layout != "torch" and not layers
    first = "" if single else "_l0"
    G = len(spec.blocks)

    def need(name: str, ndim: int) -> np.ndarray:
        return _need(arrays, layout, name, ndim)

    found = dict(opts)
    has_proj = any(o.name == "proj_size" for o in spec.options)
    proj = None
    if layout in ("torch", "onnx"):  # (G*H, in) matrices: weight_hh / R, weight_ih / W
        hname, iname = ("weight_hh", "weight_ih") if layout == "torch" else ("R", "W")
        if "weight_hh" not in spec.param_names:  # gates that read x(t) only: the blocks are counted in weight_ih / W
            hname = iname
        hname, iname = hname + first, iname + first
        rows = need(hname, 2).shape[0]
        if rows % G:
            raise ShapeError(hname, (f"{G}*hidden_size", "?"), arrays[hname].shape,
                             f"a {spec.name} stacks {G} gate blocks ({', '.join(spec.blocks)}); is this another kind?")
        hidden, input_size = rows // G, need(iname, 2).shape[1]
        proj = ("weight_hr" + first) if has_proj and "weight_hr" + first in arrays else None
        peep_names = ("weight_ci", "weight_cf", "weight_co") if layout == "torch" else ("P",)
    elif layout == "keras":
        hname, iname = "recurrent_kernel" + first, "kernel" + first
        hidden, input_size = need(hname, 2).shape[0], need(iname, 2).shape[0]
        peep_names = tuple(_KERAS_PEEP.values())
        if "bias" + first in arrays:
            found.update({k: v for k, v in spec.options_from_bias(layout, arrays["bias" + first].ndim).items() if k not in opts})
    else:
        hname, iname = "bias" + first, "kernel" + first
        hidden = need(hname, 1).shape[0] // G  # the one bias is (G*H,)
        proj = ("projection/kernel" + first) if "projection/kernel" + first in arrays else None
        peep_names = tuple(_TF1_PEEP.values())
    if has_proj:
        p = arrays[proj].shape if proj else None
        found["proj_size"] = 0 if p is None else (p[0] if layout == "torch" else p[-1])
    if layout == "tf1":
        input_size = need(iname, 2).shape[0] - (found.get("proj_size") or hidden)
    if any(o.name == "peepholes" for o in spec.options) and "peepholes" not in opts:
        found["peepholes"] = any(n.startswith(peep_names) for n in arrays)
    bias = next((n for n in arrays if n.startswith(_BIAS[layout])), None)
    if hidden < 1 or input_size < 1:
        raise ShapeError(iname, ("input_size", "hidden"), arrays[iname].shape,
                         f"the {layout} weights give hidden_size {hidden} and input_size {input_size}; both must be >= 1")
    evidence = {"hidden": hname, "input": iname, "proj": proj, "reverse": reverse, "bias": bias, "layers": layers}
    return {"input_size": input_size, "hidden_size": hidden, "num_layers": (max(layers) + 1) if layers else 1,
            "bidirectional": reverse is not None, "bias": layout == "tf1" or bias is not None, "options": found,
            "evidence": evidence}


def check_restated(spec: Kind, given: dict, cfg: dict, arrays: dict[str, np.ndarray], layout: str) -> None:
    """Each structure keyword the caller gave must agree with the weights; the error says what the weights hold."""
    ev = cfg["evidence"]

    def shape(name: str) -> str:
        return str(tuple(arrays[name].shape))

    def differ(key: str, said: str) -> OptionError:
        return OptionError(f"{key}: {given[key]!r} given, but {said}")

    n = cfg["num_layers"]
    if "num_layers" in given and given["num_layers"] != n:
        stem = ev["input"].removesuffix("_l0")  # name each layer by its input weight where it has one
        names = shown([stem + suffix(k, 0) if stem + suffix(k, 0) in arrays else ev["layers"][k] for k in sorted(ev["layers"])]) or ev["input"]
        raise differ("num_layers", f"the weights hold {n} layer{'s' if n > 1 else ''} ({names})")
    if "bidirectional" in given and given["bidirectional"] != cfg["bidirectional"]:
        raise differ("bidirectional", f"the weights hold a reverse direction ({ev['reverse']})" if ev["reverse"] else
                     f"the weights hold one direction (no {ev['input'].replace('_l0', '')}_l0_reverse)")
    if "hidden_size" in given and given["hidden_size"] != cfg["hidden_size"]:
        raise differ("hidden_size", f"{ev['hidden']} has shape {shape(ev['hidden'])}: hidden_size {cfg['hidden_size']}")
    if "input_size" in given and given["input_size"] != cfg["input_size"]:
        raise differ("input_size", f"{ev['input']} has shape {shape(ev['input'])}: input_size {cfg['input_size']}")
    if given.get("proj_size"):
        if "proj_size" not in cfg["options"]:
            raise differ("proj_size", f"the {spec.name} kind has no projection (only {_kinds_with('proj_size')} do)")
    if "proj_size" in given and given["proj_size"] != cfg["options"].get("proj_size", 0):
        p = cfg["options"]["proj_size"]
        raise differ("proj_size", f"{ev['proj']} has shape {shape(ev['proj'])}: proj_size {p}" if p else
                     f"the weights hold no projection (no {'weight_hr_l0' if layout == 'torch' else 'projection/kernel'})")
    if "bias" in given and given["bias"] != cfg["bias"]:
        raise differ("bias", f"the weights hold {ev['bias']}" if ev["bias"] else
                     f"the weights hold no biases (no {'bias_ih_l0, bias_hh_l0' if layout == 'torch' else _BIAS[layout][0]})")


def _kinds_with(option: str) -> str:
    """'lstm and peephole': the registered kinds that have ``option``."""
    names = [k for k, spec in REGISTRY.items() if any(o.name == option for o in spec.options)]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def layout_shapes(spec: Kind, layout: str, opts: dict, num_layers: int, directions: int, input_size: int,
                  hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every array ``layout`` stores for this structure; computed, never allocated."""
    single = num_layers == 1 and directions == 1
    out = {}
    for slot in walk(input_size, spec.out_size(hidden_size, opts), num_layers, directions):
        width = slot.input_width
        p = spec.param_shapes(width, hidden_size, opts)
        if layout == "keras":
            gh, o = p["weight_ih"][0], p["weight_hh"][1]
            one = {"kernel": (width, gh), "recurrent_kernel": (o, gh),
                   "bias": (2, gh) if spec.two_biases(layout, opts) else (gh,)}
            one.update({name: p[k_] for k_, name in _KERAS_PEEP.items() if k_ in p})
        elif layout == "onnx":
            gh = p["weight_ih"][0]
            one = {"W": p["weight_ih"], "R": p["weight_hh"], "B": (2 * gh,)}
            if "weight_ci" in p:
                one["P"] = (len(_ONNX_PEEP) * hidden_size,)
        elif layout == "tf1":
            gh, o = p["weight_ih"][0], p["weight_hh"][1]
            one = {"kernel": (width + o, gh), "bias": (gh,)}
            one.update({name: p[k_] for k_, name in _TF1_PEEP.items() if k_ in p})
            if "weight_hr" in p:
                one["projection/kernel"] = p["weight_hr"][::-1]
        else:
            one = p
        lsfx = _layout_suffix(layout, slot, single)
        out.update({name + lsfx: shape for name, shape in one.items()})
    return out


def read_all(spec: Kind, arrays: dict[str, np.ndarray], layout: str, cfg: dict) -> dict[str, np.ndarray]:
    """Check ``arrays`` against what ``layout`` should hold for ``cfg`` and convert them to torch names.

    Without any bias in the file (nn.LSTM(bias=False), Keras use_bias=False), the biases are zeros.
    """
    opts = cfg["options"]
    directions = 2 if cfg["bidirectional"] else 1
    want = layout_shapes(spec, layout, opts, cfg["num_layers"], directions, cfg["input_size"], cfg["hidden_size"])
    zeros = {n for n in want if n.startswith(_BIAS[layout]) and n not in arrays} if not cfg["bias"] else set()
    missing, unknown = set(want) - set(arrays) - zeros, set(arrays) - set(want)
    if missing or unknown:
        raise WeightNameError(missing, unknown, layout, want)
    for name, shape in want.items():
        if name not in zeros and arrays[name].shape != shape:
            raise ShapeError(name, shape, arrays[name].shape)
    if zeros:  # allocated only once every shape is known to fit
        ref = next(a.dtype for n, a in arrays.items() if a.dtype.kind == "f") if any(a.dtype.kind == "f" for a in arrays.values()) else np.float32
        arrays = {**arrays, **{n: np.zeros(want[n], ref) for n in zeros}}
    single = cfg["num_layers"] == 1 and directions == 1
    by_suffix: dict[str, dict[str, np.ndarray]] = {}
    for n, a in arrays.items():
        m = _SUFFIX.search(n) if layout == "torch" or not single else None
        by_suffix.setdefault(m.group(0) if m else "", {})[n[: m.start()] if m else n] = a
    params = {}
    for slot in walk(cfg["input_size"], spec.out_size(cfg["hidden_size"], opts), cfg["num_layers"], directions):
        one = read_one(spec, by_suffix[_layout_suffix(layout, slot, single)], layout, opts, slot.input_width)
        params.update({n + slot.suffix: a for n, a in one.items()})
    return params
