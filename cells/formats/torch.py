"""PyTorch's own files (torch.save): a state_dict, or a training checkpoint holding one, read by torch itself.

``torch.load(weights_only=True)`` unpickles with torch's restricted unpickler (tensors, containers and numbers,
no code). Even so it is only called for a file the caller says is its own (cells.files, ``unpickle=True``: the
Python front door and ``gatescope convert``); the server never gets here. A whole pickled module
(``torch.save(model)``) needs the module's class, so it is refused with the way that works: load it in torch and
call gatescope.from_torch.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Mapping

import numpy as np
import torch

from ..errors import FormatError
from ..reading import Limits, arrays_bytes, label

#: Where training scripts keep the model's state_dict inside a checkpoint dict, most common first.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


def read(path: str, limits: Limits, prefix: str | None) -> tuple[dict[str, np.ndarray], dict[str, str], str | None]:
    name = label(path)
    try:  # mmap: a big checkpoint's tensors are not all read into memory at once (zip files only)
        with warnings.catch_warnings():  # torch's note on pickle protocols is about its loader, not the user's file
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as e:
        raise _refusal(name, e) from None
    tensors = _state_dict(name, obj)
    arrays = {k: _numpy(v) for k, v in tensors.items()}
    total = arrays_bytes(arrays)
    limits.check("the arrays", total, "max_bytes", f"{total} bytes once decoded")
    return arrays, {}, prefix


def _refusal(name: str, e: Exception) -> FormatError:
    """What torch.load's error means here. Its restricted unpickler names the class it would have had to build."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
    if found and found.group(1).startswith(("numpy.", "_codecs.")):
        return FormatError(f"{name}: a pickle of NumPy arrays ({found.group(1)}), not a torch.save of tensors; save them with "
                           "numpy.savez('w.npz', **arrays) or safetensors instead")
    if found:
        return FormatError(f"{name}: a whole pickled object ({found.group(1)}; torch.save(model) saves the module itself), which "
                           "torch reads only by running its code. Load it in torch yourself and pass the recurrent layer: "
                           "gatescope.from_torch(model.rnn, vocab=..., embedding=model.embed, decoder=model.fc)")
    detail = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", str(e), re.S)
    said = detail.group(1) if detail else f"{type(e).__name__}: {str(e)}"
    return FormatError(f"{name}: torch.load(weights_only=True) could not read it ({said[:200]}); gatescope reads what "
                       "torch.save writes of a state_dict, or of a checkpoint dict holding one")


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
