"""gatescope in Python and in notebooks: see inside recurrent cells, every gate of every step.

    import gatescope
    model = gatescope.preset("adding-lstm")              # or gatescope.load("preset:adding-lstm"), gatescope.presets()
    model = gatescope.build("gru", input_size=3, hidden_size=8, seed=0)
    model = gatescope.load("model.safetensors")          # a bundle or weights file, or its bytes; never a pickle
    model = gatescope.from_torch(net.rnn, vocab=chars, embedding=net.embed, decoder=net.fc)
    model = gatescope.from_keras(keras_model)
    trace = gatescope.run(model, "hello world")          # a cells.Trace; a notebook shows its summary
    trace["forget_gate"]                                 # (T, hidden) array
    model.save("model.safetensors")                      # the page's upload reads it back
    gatescope.show(model, "hello world", step=3)         # the page's views in the notebook: pip install "gatescope[notebook]"

The engine itself is the ``cells`` package; this one is its documented front door.
"""

from .api import Model, Presets, Trace, build, from_keras, from_torch, input_type_of, load, preset, presets, run, save, show

__version__ = "0.1.0"

__all__ = ["build", "load", "preset", "presets", "run", "show", "save", "from_torch", "from_keras", "Model", "Trace", "Presets",
           "input_type_of", "__version__"]
