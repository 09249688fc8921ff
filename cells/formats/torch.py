"""PyTorch's own files (torch.save): a state_dict, or a training checkpoint holding one, read by torch itself.

``torch.load(weights_only=True)`` unpickles with torch's restricted unpickler (tensors, containers and numbers,
no code). Even so it is only called for a file the caller says is its own (cells.files, ``unpickle=True``: the
Python front door and ``gatescope convert``); the server never gets here. A whole pickled module
(``torch.save(model)``) needs the module's class, so it is refused with the way that works: load it in torch and
call gatescope.from_torch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..errors import FormatError
from ..reading import Limits, arrays_bytes, label

#: Where training scripts keep the model's state_dict inside a checkpoint dict, most common first.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


def read(path: str, limits: Limits, prefix: str | None) -> tuple[dict[str, np.ndarray], dict[str, str], str | None]:
    name = label(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # torch's UnpicklingError for a whole module names the class it would not build
        if "weights_only" in str(e) or "Unsupported global" in str(e):
            raise FormatError(f"{name}: a whole pickled module (torch.save(model)), which torch reads only by running "
                              "its code. Load it in torch yourself and pass the recurrent layer: "
                              "gatescope.from_torch(model.rnn, vocab=..., embedding=model.embed, decoder=model.fc)") from None
        raise FormatError(f"{name}: torch.load could not read it ({type(e).__name__}: {str(e)[:200]})") from None
    tensors = _state_dict(name, obj)
    arrays = {k: _numpy(v) for k, v in tensors.items()}
    total = arrays_bytes(arrays)
    limits.check("the arrays", total, "max_bytes", f"{total} bytes once decoded")
    return arrays, {}, prefix


def _state_dict(name: str, obj) -> dict:
    """The tensors of a state_dict, or of the state_dict a checkpoint dict holds under a usual key."""
    if isinstance(obj, Mapping):
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
        for key in CHECKPOINT_KEYS:
            if isinstance(obj.get(key), Mapping):
                return _state_dict(name, obj[key])
        raise FormatError(f"{name}: a dict with no tensors and none of the keys a checkpoint keeps its state_dict under "
                          f"({', '.join(CHECKPOINT_KEYS)}); it holds: {', '.join(map(str, list(obj)[:8]))}")
    raise FormatError(f"{name}: holds a {type(obj).__name__}, not a state_dict (a dict of name -> tensor)")


def _numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    return (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).numpy().copy()
