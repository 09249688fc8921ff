"""Weight layouts: how PyTorch, Keras and TensorFlow v1 name, shape and order the same weights.

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

Reading a layout with one bias puts it in bias_ih and zeros in bias_hh, so
writing the model back in that layout returns the arrays unchanged.
Single-layer unidirectional models use the bare names above in keras and tf1;
deeper or bidirectional ones add PyTorch's suffixes (kernel_l1_reverse, ...).
"""

from __future__ import annotations

import re

import numpy as np

from .errors import CellsError, OptionError, ShapeError, WeightNameError
from .kinds.base import Kind

LAYOUTS = ("torch", "keras", "tf1")

# Keras orders GRU blocks z, r, h and TF v1 LSTM blocks i, j, f, o: index j of
# the framework's blocks is block PERM[j] of the torch layout.
_PERM = {("keras", "gru"): (1, 0, 2), ("tf1", "lstm"): (0, 2, 1, 3), ("tf1", "peephole"): (0, 2, 1, 3)}
_KERAS_PEEP = {"weight_ci": "input_gate_peephole_weights", "weight_cf": "forget_gate_peephole_weights", "weight_co": "output_gate_peephole_weights"}
_TF1_PEEP = {"weight_ci": "w_i_diag", "weight_cf": "w_f_diag", "weight_co": "w_o_diag"}
_SUFFIX = re.compile(r"_l(\d+)(_reverse)?$")


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
    if layout == "keras" and opts.get("proj_size"):
        raise OptionError("layout: Keras layers have no projection; proj_size > 0 needs the torch or tf1 layout")


def write_one(spec: Kind, p: dict[str, np.ndarray], layout: str, opts: dict) -> dict[str, np.ndarray]:
    """One layer-direction's torch-named parameters, in ``layout``'s names, shapes and order."""
    if layout == "torch":
        return dict(p)
    perm = _PERM.get((layout, spec.name))
    wih, whh = _blocks(p["weight_ih"], perm), _blocks(p["weight_hh"], perm)
    if layout == "keras":
        out = {"kernel": wih.T, "recurrent_kernel": whh.T}
        if spec.name == "gru" and opts.get("reset_after"):
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
    perm = _PERM.get((layout, spec.name))
    if layout == "keras":
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


def _layout_suffix(layout: str, layer: int, direction: int, single: bool) -> str:
    if layout != "torch" and single:
        return ""
    return f"_l{layer}" + ("_reverse" if direction else "")


def to_layout(model, layout: str) -> dict[str, np.ndarray]:
    """All of ``model``'s weights in ``layout``."""
    check_layout(model.spec, layout, model.options)
    return write_all(model.spec, model.params, layout, model.options, model.num_layers, model.directions,
                     model.input_size, model.hidden_size)


def write_all(spec: Kind, params: dict[str, np.ndarray], layout: str, opts: dict, num_layers: int, directions: int,
              input_size: int, hidden_size: int) -> dict[str, np.ndarray]:
    single = num_layers == 1 and directions == 1
    out_size = spec.out_size(hidden_size, opts)
    out = {}
    for k in range(num_layers):
        width = input_size if k == 0 else directions * out_size
        for d in range(directions):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            one = {n: params[n + sfx] for n in spec.param_shapes(width, hidden_size, opts)}
            lsfx = _layout_suffix(layout, k, d, single)
            out.update({name + lsfx: a for name, a in write_one(spec, one, layout, opts).items()})
    return out


# -- reading -----------------------------------------------------------------

def normalize(arrays: dict[str, np.ndarray], layout: str) -> dict[str, np.ndarray]:
    """Map framework variable paths ('rnn/lstm_cell/kernel:0') to the layout's bare names, when unambiguous."""
    if layout == "torch" or not any("/" in n or n.endswith(":0") for n in arrays):
        return arrays
    renamed = {}
    for n in arrays:
        bare = n[:-2] if n.endswith(":0") else n
        if layout == "tf1" and bare.endswith("projection/kernel"):
            bare = "projection/kernel"
        elif "/" in bare:
            bare = bare.rsplit("/", 1)[1]
        renamed[n] = bare
    if len(set(renamed.values())) != len(renamed):
        return arrays  # two paths end alike (several layers): leave the names for the error to show
    return {renamed[n]: a for n, a in arrays.items()}


def infer(spec: Kind, arrays: dict[str, np.ndarray], layout: str, opts: dict) -> dict:
    """Sizes, depth and directions from the arrays' names and shapes."""
    layers, reverse = {0}, False
    for name in arrays:
        m = _SUFFIX.search(name)
        if m:
            layers.add(int(m.group(1)))
            reverse = reverse or bool(m.group(2))
    single = layout != "torch" and not any(_SUFFIX.search(n) for n in arrays)
    first = "" if single else "_l0"
    G = len(spec.blocks)

    def need(name: str, ndim: int) -> np.ndarray:
        if name not in arrays:
            raise WeightNameError(missing=[name], layout=layout)
        a = arrays[name]
        if a.ndim != ndim:
            raise CellsError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
        return a

    found = dict(opts)
    if layout == "torch":
        whh, wih = need("weight_hh" + first, 2), need("weight_ih" + first, 2)
        hidden, input_size = whh.shape[0] // G, wih.shape[1]
        if "weight_hr" + first in arrays and "proj_size" not in opts:
            found["proj_size"] = arrays["weight_hr" + first].shape[0]
        peep_names = ("weight_ci", "weight_cf", "weight_co")
    elif layout == "keras":
        rk, kernel = need("recurrent_kernel" + first, 2), need("kernel" + first, 2)
        hidden, input_size = rk.shape[0], kernel.shape[0]
        peep_names = tuple(_KERAS_PEEP.values())
        if spec.name == "gru" and "reset_after" not in opts and "bias" + first in arrays:
            found["reset_after"] = arrays["bias" + first].ndim == 2  # only reset_after=True has a (2, 3H) bias
    else:
        bias, kernel = need("bias" + first, 1), need("kernel" + first, 2)
        hidden = bias.shape[0] // 4
        proj = arrays.get("projection/kernel" + first)
        if proj is not None and "proj_size" not in opts:
            found["proj_size"] = proj.shape[-1]
        input_size = kernel.shape[0] - (found.get("proj_size") or hidden)
        peep_names = tuple(_TF1_PEEP.values())
    if any(o.name == "peepholes" for o in spec.options) and "peepholes" not in opts:
        found["peepholes"] = any(n.startswith(peep_names) for n in arrays)
    if hidden < 1 or input_size < 1:
        raise CellsError(f"the {layout} weights give hidden_size {hidden} and input_size {input_size}; both must be >= 1")
    return {"input_size": input_size, "hidden_size": hidden, "num_layers": max(layers) + 1,
            "bidirectional": reverse, "options": found}


def read_all(spec: Kind, arrays: dict[str, np.ndarray], layout: str, cfg: dict, expected_torch: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Check ``arrays`` against what ``layout`` should hold for ``cfg`` and convert them to torch names."""
    opts = cfg["options"]
    directions = 2 if cfg["bidirectional"] else 1
    zeros = {n: np.zeros(s) for n, s in expected_torch.items()}
    out_size = spec.out_size(cfg["hidden_size"], opts)
    want = {n: a.shape for n, a in write_all(spec, zeros, layout, opts, cfg["num_layers"], directions,
                                             cfg["input_size"], cfg["hidden_size"]).items()}
    missing, unknown = set(want) - set(arrays), set(arrays) - set(want)
    if missing or unknown:
        raise WeightNameError(missing, unknown, layout, want)
    for name, shape in want.items():
        if arrays[name].shape != shape:
            raise ShapeError(name, shape, arrays[name].shape)
    single = cfg["num_layers"] == 1 and directions == 1
    params = {}
    for k in range(cfg["num_layers"]):
        width = cfg["input_size"] if k == 0 else directions * out_size
        for d in range(directions):
            lsfx, sfx = _layout_suffix(layout, k, d, single), f"_l{k}" + ("_reverse" if d else "")
            one = {n[: len(n) - len(lsfx)] if lsfx else n: a for n, a in arrays.items() if n.endswith(lsfx)}
            params.update({n + sfx: a for n, a in read_one(spec, one, layout, opts, width).items()})
    return params
