"""gatescope in Python and in notebooks: see inside recurrent cells, every gate of every step.

    import gatescope
    model = gatescope.preset("adding-lstm")              # or gatescope.load("preset:adding-lstm"), gatescope.presets()
    model = gatescope.build("gru", input_size=3, hidden_size=8, seed=0)
    model = gatescope.load("model.safetensors")          # a bundle, .keras, .onnx, .pt state_dict (torch.load weights_only)
    gatescope.convert("m.pt", "m.safetensors", vocab=chars)  # a file of your own as a bundle the server reads
    model = gatescope.from_torch(net.rnn, vocab=chars, embedding=net.embed, decoder=net.fc)
    model = gatescope.from_keras(keras_model)
    trace = gatescope.run(model, "hello world")          # a cells.Trace; a notebook shows its summary
    trace["forget_gate"]                                 # (T, hidden) array
    model.save("model.safetensors")                      # the page's upload reads it back
    gatescope.show(model, "hello world", step=3)         # the page's views in the notebook: pip install "gatescope[notebook]"

The engine is ``gatescope.cells`` and the web app ``gatescope.app``; this module is their documented front door.
The distribution claims this one top-level name: a project of the user's own with an ``app`` or a ``cells`` package
stays its own.
"""

from pathlib import Path as _Path

# In a source checkout the engine and the app stand beside this package, in the design card's folders (cells/, app/,
# with static/, templates/ and lessons/ beside them); the wheel puts them inside it (pyproject.toml). Either way they
# are gatescope.cells and gatescope.app, and nothing imports them by another name (tests/test_code_shape.py).
_CHECKOUT = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "cells").is_dir() and (_CHECKOUT / "cells" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # noqa: F821 - a package's own __path__

from .api import Model, Presets, Trace, Traces, build, from_keras, from_torch, input_type_of, load, preset, presets, run, save, show
from .convert import convert

__version__ = "0.1.0"

__all__ = ["build", "load", "preset", "presets", "run", "show", "save", "from_torch", "from_keras", "convert", "Model", "Trace", "Traces",
           "Presets", "input_type_of", "__version__"]
