"""Readers of the files other tools write, one module per tool, chosen by ``cells.files.read``.

Each module has ``read(path, limits, prefix) -> (arrays, metadata, prefix left)``: the arrays in a layout
cells.layouts knows, metadata in a bundle's form (cells.io: "gatescope", "kind", "layout", "options", "vocab", "labels", "source",
each a JSON string) or {} for bare weights, and the prefix cells.weight_groups.pick is still to apply (None
once the reader has picked a group itself). Sizes a file declares are checked against ``limits`` before they are
allocated. A reader that finds several recurrent groups picks one by ``prefix`` and otherwise refuses, listing
each group with the kinds it can be. A module imports its format's library at the top, so a missing library is an
ImportError that cells.files turns into "pip install ...".
"""
