"""A weights file read whatever wrote it: the reader is chosen by the file's first bytes (``cells.reading.sniff``).

    safetensors, .npz      cells.reading (the safetensors package, NumPy with allow_pickle=False)
    .keras, .weights.h5    cells.formats.keras (h5py): the architecture from the archive's config.json
    .onnx                  cells.formats.onnx (the onnx package: the "onnx" extra)
    .pt, .pth              cells.formats.torch: torch.load(weights_only=True), and only for a caller that says the
                           file is its own (``unpickle=True``: the Python front door and the CLI). The server never
                           unpickles; its refusal says how to convert the file on the user's machine.

Every reader answers alike: the arrays, and metadata in a bundle's form (``cells.io``: kind, layout, options,
vocab, labels, source as JSON strings) when the file says more than weights, so ``cells.load`` reads every file
the same way. Formats that hold several recurrent groups by name (a .keras model, an ONNX graph) pick one with
``prefix`` in their reader, and the error for none picked lists each group with the kinds it can be.
"""

from __future__ import annotations

import importlib
import os

import numpy as np

from .errors import FormatError
from .reading import FORMAT_NAMES, Limits, article, label, read_arrays, sniff

#: format -> (the module that reads it, the pip extra its library comes with, or None for a core dependency)
READERS = {"keras": ("keras", None), "keras_weights": ("keras", None), "onnx": ("onnx", "onnx"), "torch": ("torch", None)}

CONVERT_HINT = ("convert it on your own machine: a state_dict or a checkpoint with `gatescope convert {name} -o model.safetensors` "
                "(add --vocab and --prefix as needed); a whole model (torch.save(model)) in Python, where torch can build it: "
                "gatescope.from_torch(model.rnn, vocab=...).save('model.safetensors'), model.rnn being its nn.LSTM, nn.GRU or nn.RNN")


def read(path: str | os.PathLike, limits: Limits, *, prefix: str | None = None,
         unpickle: bool = False) -> tuple[dict[str, np.ndarray], dict[str, str], str | None]:
    """(arrays, bundle-style metadata or {}, the prefix still to apply: None once a reader has picked the group)."""
    fmt = sniff(path)
    if fmt in ("safetensors", "npz"):
        arrays, metadata = read_arrays(path, limits=limits)
        return arrays, metadata, prefix
    if fmt == "torch" and not unpickle:
        raise FormatError(f"{label(path)}: a PyTorch pickle (torch.save), which gatescope reads only as its owner's own file "
                          f"(gatescope.load, gatescope convert), never as one it received: " + CONVERT_HINT.format(name=_shown_name(path)))
    module, extra = READERS[fmt]
    reader = _reader(module, extra, fmt, path)
    return reader.read(os.fspath(path), limits, prefix)


def _shown_name(path) -> str:
    """The file's name for a command to copy; an upload's temporary name says nothing to its owner."""
    name = label(path)
    return name if name.endswith((".pt", ".pth", ".bin", ".ckpt", ".tar")) else "model.pt"


def _reader(module: str, extra: str | None, fmt: str, path):
    try:
        return importlib.import_module(f"{__package__}.formats.{module}")
    except ImportError as e:  # the format's library is missing (a reader imports it at the top)
        how = f"pip install 'gatescope[{extra}]'" if extra else f"pip install {e.name}"
        raise FormatError(f"{label(path)}: {article(FORMAT_NAMES[fmt])} file; reading it needs {e.name}, which is not installed: {how}") from None
