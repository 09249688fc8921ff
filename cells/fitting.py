"""Which kinds a file's weights can be, read off their names and shapes alone (nothing is allocated).

A PyTorch state_dict or a Keras layer's weights do not say their kind, but their shapes mostly do: weight_hh
stacks one block of rows per gate (nn.RNN 1, nn.GRU 3, nn.LSTM 4), a peephole LSTM adds its diagonal weights.
Some kinds share shapes (a GRU and a CIFG LSTM both stack 3 blocks); then the kind a framework itself names
(nn.LSTM, nn.GRU, nn.RNN, Keras' LSTM, GRU, SimpleRNN) is taken, since that is what wrote such a file, and the
model says what was assumed. The same reading names, in an error, the kind that weights given a wrong kind fit.
"""

from __future__ import annotations

from .errors import CellsError


class KindNeededError(CellsError):
    """Weights without a kind whose shapes do not decide one: ``kinds`` are the ones they fit (every kind of the
    layout when none does), for a form to offer."""

    def __init__(self, message: str, kinds: list[str]):
        super().__init__(message)
        self.kinds = kinds
from .kinds import REGISTRY, of_class
from .layouts import check_layout, infer, layout_shapes

#: The classes the frameworks that write such files name (nn.LSTM, keras.layers.SimpleRNN, ...), read through
#: kinds.of_class: when several kinds fit, the one a framework computes is what wrote the file.
FRAMEWORK_CLASSES = ("LSTM", "GRU", "RNN")


def why_not(kind: str, weights: dict, layout: str, opts: dict) -> str | None:
    """None if ``weights`` are exactly what ``kind`` stores in ``layout`` (given the caller's options), else why not."""
    spec = REGISTRY[kind]
    try:
        check_layout(spec, layout, {**opts, "proj_size": 0})
        cfg = infer(spec, weights, layout, opts)
        options = spec.check_options(cfg["options"])
        want = layout_shapes(spec, layout, options, cfg["num_layers"], 2 if cfg["bidirectional"] else 1,
                             cfg["input_size"], cfg["hidden_size"])
    except (CellsError, KeyError, ValueError, ZeroDivisionError) as e:
        return str(e)
    optional = {n for n in want if n.startswith("bias")} if not cfg["bias"] else set()
    unknown, missing = set(weights) - set(want), set(want) - set(weights) - optional
    if unknown or missing:
        return f"names: {sorted(unknown)[:3]} not a {kind}'s; {sorted(missing)[:3]} missing"
    wrong = next((n for n in weights if weights[n].shape != want[n]), None)
    return f"{wrong}: shape {tuple(weights[wrong].shape)}, a {kind}'s is {want[wrong]}" if wrong else None


def kinds_for(weights: dict, layout: str, opts: dict) -> list[str]:
    """Every registered kind these weights fit, in the registry's order."""
    return [k for k, spec in REGISTRY.items() if layout in spec.layouts and why_not(k, weights, layout, opts) is None]


def choose(weights: dict, layout: str, opts: dict, evidence: str) -> tuple[str, str | None]:
    """(the kind, what to say was assumed or None) for weights that came without one; CellsError when none fits."""
    fits = kinds_for(weights, layout, opts)
    framework = [k for k in fits if k in {of_class(c) for c in FRAMEWORK_CLASSES}]
    if len(fits) == 1:
        return fits[0], None
    if len(framework) == 1:
        others = [k for k in fits if k != framework[0]]
        return framework[0], (f"read off the weights' shapes ({evidence}), as the framework's own {framework[0]}; "
                              f"{', '.join(others)} {'has' if len(others) == 1 else 'have'} the same shapes: pass kind= for "
                              f"{'it' if len(others) == 1 else 'one of them'}")
    if fits:
        raise KindNeededError(f"kind: not given, and the weights fit several kinds ({', '.join(fits)}); pass kind=", fits)
    raise KindNeededError(f"kind: not given, and the weights ({evidence}) fit no kind in the {layout} layout; pass kind= "
                          f"(one of: {', '.join(REGISTRY)}) and layout= if they were not saved by PyTorch",
                          [k for k, spec in REGISTRY.items() if layout in spec.layouts])


def listed(kinds: list[str]) -> str:
    """'gru; also cifg, nig': the framework's kind first, as choose() would take it."""
    kinds = framework_first(kinds)
    return (kinds[0] + (f"; also {', '.join(kinds[1:])}" if kinds[1:] else "")) if kinds else "no kind"


def framework_first(kinds: list[str]) -> list[str]:
    framework = {of_class(c) for c in FRAMEWORK_CLASSES}
    return [k for k in kinds if k in framework] + [k for k in kinds if k not in framework]


def also_fits(kind: str, weights: dict, layout: str, opts: dict) -> str:
    """For an error about weights read as ``kind``: " These weights fit kind=lstm, not kind=gru." or ""."""
    others = [k for k in framework_first(kinds_for(weights, layout, opts)) if k != kind]
    if not others:
        return ""
    alternatives = f" (or {', '.join(others[1:4])})" if len(others) > 1 else ""
    return f" These weights fit kind={others[0]}{alternatives}, not kind={kind}."


def evidence(weights: dict) -> str:
    """The recurrent weight whose rows tell the gate blocks, with its shape: "weight_hh_l0 (72, 18)"."""
    name = next((n for n in sorted(weights) if n.startswith(("weight_hh", "recurrent_kernel"))), None) or next(iter(sorted(weights)), "")
    return f"{name} {tuple(weights[name].shape)}" if name else "no weights"
