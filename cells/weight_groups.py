"""Finding the recurrent weights in a file that holds more (``pick``).

A file may hold more than one recurrent layer's weights: a whole model's
state_dict ("embedding.weight", "rnn.weight_ih_l0", "fc.weight"), a wrapper's
("module." from DataParallel, "_orig_mod." from torch.compile), or Keras
variable paths ("sequential/lstm/lstm_cell/kernel:0"). The recurrent weights
are one *group*: in torch names the part before weight_ih_l0 (ending in "."),
in Keras and TF v1 paths the directory of kernel / recurrent_kernel. One group
is taken when it is the only one (or ``prefix`` names it); a Keras
Bidirectional's forward_* and backward_* groups are one layer's two directions.
Only the root of the file may hold the bundle tensors (embedding.weight,
decoder.*): a model's own embedding or classifier is left unused, since without
its vocabulary and labels it cannot be fed text or named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from .errors import CellsError, WeightNameError, shown
from .io import EXTRA_TENSORS

_TORCH_NAME = re.compile(r"(?:weight|bias)_[a-z]+_l\d+(?:_reverse)?$")
_ARR = re.compile(r"arr_[0-9]{1,6}")  # a bounded ASCII number: int() refuses 4,300+ digits
_DIRECTION = re.compile(r"(?:^|/)(forward|backward)_")
STACKED_HINT = "; stacked Keras layers are not joined by guess: save them as kernel_l0, kernel_l1, ... (see the README)"


class AmbiguousWeightsError(WeightNameError):
    """The file holds several groups of recurrent weights, or none where ``prefix`` points."""

    def __init__(self, message: str, groups: list[str], kinds: dict[str, list[str]] | None = None):
        CellsError.__init__(self, message)
        self.missing, self.unknown, self.groups = [], [], groups
        self.kinds = kinds or {}  # group -> the kinds its weights fit, where they were read (cells.load)


def _split_path(name: str) -> tuple[str, str]:
    """('sequential/lstm/lstm_cell/', 'kernel') for 'sequential/lstm/lstm_cell/kernel:0'."""
    bare = re.sub(r":\d+$", "", name)
    if "/" not in bare:
        return "", bare
    d, var = bare.rsplit("/", 1)
    if (d == "projection" or d.endswith("/projection")) and var.startswith("kernel"):  # TF v1's projection/kernel
        d, var = d[: -len("projection")].rstrip("/"), "projection/" + var
    return (d + "/" if d else ""), var


def _groups(arrays: Mapping[str, np.ndarray], layout: str) -> dict[str, dict[str, str]]:
    """Group prefix -> {name within the group: full name}, for every group that holds recurrent weights."""
    groups: dict[str, dict[str, str]] = {}
    if layout == "torch":
        for name in arrays:
            m = _TORCH_NAME.search(name)
            if m and (m.start() == 0 or name[m.start() - 1] == "."):
                groups.setdefault(name[: m.start()], {})[name[m.start():]] = name
        return groups
    for name in arrays:
        d, var = _split_path(name)
        groups.setdefault(d, {})[var] = name
    if layout == "keras":
        return {d: g for d, g in groups.items() if any(v.startswith("recurrent_kernel") for v in g)}
    found = {d: g for d, g in groups.items() if any(v.startswith("kernel") for v in g) and any(v.startswith("bias") for v in g)}
    cells_only = {d: g for d, g in found.items() if "cell" in d.rstrip("/").rsplit("/", 1)[-1]}
    return cells_only if len(found) > 1 and cells_only else found  # TF v1: prefer ".../lstm_cell/" over a dense layer


def _pair(a: str, b: str) -> str | None:
    """The parent of a Keras Bidirectional's forward_* / backward_* groups, or None if a and b are not such a pair."""
    ma, mb = _DIRECTION.search(a), _DIRECTION.search(b)
    if not (ma and mb) or {ma.group(1), mb.group(1)} != {"forward", "backward"}:
        return None
    if a[: ma.start(1)] != b[: mb.start(1)] or a[ma.end():] != b[mb.end():]:
        return None
    return a[: ma.start(1)]


def _positional(arrays: Mapping[str, np.ndarray], layout: str) -> tuple[dict, dict, dict]:
    """numpy.savez(*layer.get_weights()) names its arrays arr_0, arr_1, ...: Keras' order is kernel, recurrent_kernel, bias."""
    n = len(arrays)
    if layout == "keras" and n in (2, 3) and set(arrays) == {f"arr_{i}" for i in range(n)}:
        k, rk, b = arrays["arr_0"], arrays["arr_1"], arrays.get("arr_2")
        if (k.ndim == 2 and rk.ndim == 2 and rk.shape[0] and k.shape[1] == rk.shape[1] and rk.shape[1] // rk.shape[0] in (1, 3, 4)
                and rk.shape[1] % rk.shape[0] == 0 and (b is None or b.shape[-1] == k.shape[1])):
            names = ("kernel", "recurrent_kernel", "bias")
            return ({names[i]: arrays[f"arr_{i}"] for i in range(n)}, {},
                    {"layout": layout, "prefix": "", "positional": ", ".join(f"arr_{i} as {names[i]}" for i in range(n))})
    fix = ("numpy.savez('w.npz', kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias), e.g. "
           "numpy.savez('w.npz', **dict(zip(['kernel', 'recurrent_kernel', 'bias'], layer.get_weights())))" if layout != "torch" else
           "numpy.savez('w.npz', **{k: v.numpy() for k, v in rnn.state_dict().items()})")
    raise WeightNameError(unknown=arrays, layout=layout, message=
        f"the arrays are unnamed ({shown(sorted(arrays, key=lambda s: int(s[4:])))}: numpy.savez(*arrays) numbers them); "
        f"only one Keras layer's 2 or 3 weights are read in that order (layout=keras). Name them: {fix}")


def pick(arrays: Mapping[str, np.ndarray], layout: str, prefix: str | None = None) -> tuple[dict, dict, dict]:
    """(the recurrent weights under the layout's own names, the bundle tensors, how they were found)."""
    if arrays and all(_ARR.fullmatch(n) for n in arrays):
        return _positional(arrays, layout)
    groups = _groups(arrays, layout)
    keys = sorted(groups)
    if prefix is not None:
        # the group itself (its trailing "." or "/" may be left off), or for paths every group under that directory
        under = prefix.rstrip("/") + "/" if layout != "torch" and prefix else None
        chosen = [k for k in keys if k in (prefix, prefix + ".", prefix + "/") or (under and k.startswith(under))]
        if not chosen:
            raise AmbiguousWeightsError(f"prefix: {prefix[:100]!r} names no recurrent weights; the file holds "
                                        f"{shown(repr(k) for k in keys) or 'none'}", keys)
    else:
        chosen = keys or [""]
    if not keys:
        _no_group_hint(arrays, layout)
    if len(chosen) == 2 and layout == "keras" and _pair(*chosen) is not None:
        fwd, bwd = sorted(chosen, key=lambda k: _DIRECTION.search(k).group(1) == "backward")
        weights = {v + "_l0": arrays[n] for v, n in groups[fwd].items()}
        weights.update({v + "_l0_reverse": arrays[n] for v, n in groups[bwd].items()})
        used, root, found = {*groups[fwd].values(), *groups[bwd].values()}, _pair(fwd, bwd), {"directions": [fwd, bwd]}
    elif len(chosen) == 1:
        root, found = chosen[0], {}
        if root == "":  # the file's own names: strict, so that a typo is an error, not a silently unused tensor
            if layout == "torch":
                members = {n: n for n in arrays if "." not in n}
            else:
                members = {v: n for n in arrays for d, v in [_split_path(n)] if d == "" and "." not in v}
        else:
            members = groups[root]
        weights, used = {v: arrays[n] for v, n in members.items()}, set(members.values())
    else:
        hint = STACKED_HINT if layout != "torch" else ""
        raise AmbiguousWeightsError(f"the file holds {len(chosen)} groups of recurrent weights: {shown(repr(k) for k in chosen)}; "
                                    f"pick one with prefix=, e.g. cells.load(..., prefix={chosen[0]!r}) or ?prefix={chosen[0]} "
                                    f"when uploading{hint}", chosen)
    extras = {n: arrays[n] for n in EXTRA_TENSORS if n in arrays} if root == "" else {}
    unused = sorted(n for n in arrays if n not in used and n not in extras)
    source = {"layout": layout, "prefix": root, **found}
    if unused:
        source["unused"] = unused[:20] + ([f"and {len(unused) - 20} more"] if len(unused) > 20 else [])
    return weights, extras, source


def layout_of(arrays: Mapping[str, np.ndarray]) -> str:
    """The layout the names say, for weights whose layout is not given: Keras' if they hold a recurrent_kernel and no
    PyTorch name, else PyTorch's (TF v1's one kernel looks like a Keras dense layer's: it is never guessed)."""
    torch = any(_TORCH_NAME.search(n) for n in arrays)
    keras = any(_split_path(n)[1].startswith("recurrent_kernel") for n in arrays)
    return "keras" if keras and not torch else "torch"


def _no_group_hint(arrays: Mapping[str, np.ndarray], layout: str) -> None:
    """No recurrent weights in this layout's names: if they are another layout's, say which."""
    names = list(arrays)
    keras = [n for n in names if _split_path(n)[1].startswith("recurrent_kernel")]
    torch = [n for n in names if _TORCH_NAME.search(n)]
    if layout != "keras" and keras:
        raise WeightNameError(unknown=names, layout=layout, message=
            f"the weights are named as Keras names them ({shown(keras, 3)}), not as the {layout} layout does; pass layout=keras")
    if layout != "torch" and torch:
        raise WeightNameError(unknown=names, layout=layout, message=
            f"the weights are named as PyTorch names them ({shown(torch, 3)}), not as the {layout} layout does; pass layout=torch")
