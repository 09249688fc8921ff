"""What to look for in a trained model's gates, measured on the model itself.

``card_notes(model, task)`` runs the model (``model.run``, so it sees
the same names the page shows) on a fixed probe set of the task's data,
finds the units that carry the task's variable (the first symbol, the
bracket depth, the quotation, the running sum ...), and writes what their
state and gates do, with the measured numbers. Units are numbered from 0.
It also gives those units as data, the card's ``units``, so the page can
draw them without reading the prose.

Which gate keeps and which writes depends on the kind (each says so in ``Kind.memory_roles``):

    kind            memory   keeps the old state          writes the new
    LSTM family     c(t)     forget f(t)                  input i(t)
    GRU             h(t)     update z(t)                  1 - z(t)
    MGU             h(t)     1 - f(t)                     forget f(t)
    RNN             h(t)     (no gates)
"""

from __future__ import annotations

import numpy as np

from ..model import Model
from .tasks import Task

PROBE_SEED = 12345


def _roles(model: Model) -> dict:
    """Which trace names play memory, keep gate and write gate for this kind, and how to call them (the kind says)."""
    return model.spec.memory_roles(model.glossary)


def _run(model: Model, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Stack every name of the top layer's trace over a batch: name -> (B, T, width)."""
    traces = [model.run(x) for x in inputs]
    return {name: np.stack([tr[name] for tr in traces]) for name in traces[0]}


def _inputs(model: Model, batch) -> np.ndarray:
    if batch.ids is not None and model.embedding is not None:
        return model.embedding.astype(np.float64)[batch.ids]
    return batch.inputs


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of a (N, H) with b (N,); 0 where either is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean()
    den = np.sqrt((a * a).sum(axis=0) * (b * b).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 1e-12, (a * b[:, None]).sum(axis=0) / np.where(den > 1e-12, den, 1.0), 0.0)
    return r


def _eta2(a: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Share of each column's variance explained by the group means (eta squared)."""
    total = ((a - a.mean(axis=0)) ** 2).sum(axis=0)
    between = sum((groups == g).sum() * (a[groups == g].mean(axis=0) - a.mean(axis=0)) ** 2 for g in np.unique(groups))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 1e-12, between / np.where(total > 1e-12, total, 1.0), 0.0)


def card_notes(model: Model, task: Task) -> tuple[str, list[int]]:
    """The card's "notes" (which units carry the task's variable, and what their gates do, in numbers) and its
    "units": every unit the notes name, the ones that carry the variable first, each once."""
    rng = np.random.default_rng(PROBE_SEED)
    fn = {"remember": _remember, "brackets": _brackets, "charlm": _charlm, "sine": _sine, "adding": _adding}[task.name]
    text, units = fn(model, task, rng)
    return text, list(dict.fromkeys(int(u) for u in units))


def describe_gates(model: Model, task: Task) -> str:
    """The card's "notes" alone."""
    return card_notes(model, task)[0]


def _remember(model, task, rng):
    ro = _roles(model)
    # the state just before the '?', over every length from seq_len // 2 to seq_len, so that a unit that
    # merely counts steps cannot pass for a memory
    held, first = [], []
    for T in range(task.seq_len // 2, task.seq_len + 1):
        b = task.batch(rng, 8, T)
        held.append(_run(model, _inputs(model, b))[ro["mem"]][:, -2])
        first.append(b.extra["first"])
    held, first = np.concatenate(held), np.concatenate(first)
    eta = _eta2(held, first)
    u = int(eta.argmax())
    means = ", ".join(f"{held[first == k, u].mean():+.2f}" for k in range(len(task.labels)))
    lead = (f"Unit {u}'s {ro['what']} holds the first letter" if eta[u] >= 0.5 else
            f"No unit holds the first letter; the closest is unit {u}'s {ro['what']}")
    parts = [f"{lead}: just before the '?', the first letter explains {eta[u]:.2f} of its variance over lengths "
             f"{task.seq_len // 2} to {task.seq_len} (eta squared; mean {ro['mem']} after A, B, C, D: {means})."]
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, _inputs(model, batch))
    if ro["keep"]:
        k = tr[ro["keep"]][:, 1:-1, u]
        parts.append(f"Its {ro['keep_sym']} averages {k.mean():.2f} over the distractors (lowest {k.min():.2f}); "
                     f"over all units it averages {tr[ro['keep']][:, 1:-1].mean():.2f}.")
    if ro["write"]:
        g = tr[ro["write"]][..., u]
        parts.append(f"Its {ro['write_sym']} is {g[:, 0].mean():.2f} at the first letter and "
                     f"{g[:, 1:-1].mean():.2f} on the distractors.")
    if ro["written"]:
        w = tr["written"][..., u]
        size = np.abs(w)
        parts.append(f"What it writes, |{ro['written']}|, is {size[:, 0].mean():.2f} at the first letter and "
                     f"{size[:, 1:-1].mean():.2f} on the distractors.")
        # do the distractors' writes push the memory further the way it already points (a latch)?
        along = (np.sign(tr[ro["mem"] + "_prev"][:, 1:-1, u]) * w[:, 1:-1]).mean()
        if size[:, 1:-1].mean() > 0.1 and along > 0.5 * size[:, 1:-1].mean():
            parts.append(f"Those writes mostly push {ro['mem']} further the way it already points (mean of "
                         f"sign({ro['mem']}(t−1)) · written = {along:+.2f}): they reinforce the stored letter instead "
                         "of overwriting it, a latch.")
    else:
        parts.append("An Elman RNN has no gates: a letter can survive only through W_hh.")
    return " ".join(parts), [u]


def _brackets(model, task, rng):
    ro = _roles(model)
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, _inputs(model, batch))
    depth = batch.extra["depth"].reshape(-1)
    ids = batch.ids.reshape(-1)
    m = tr[ro["mem"]].reshape(-1, tr[ro["mem"]].shape[-1])
    r = _corr(m, depth.astype(float))
    u = int(np.abs(r).argmax())
    steps = ", ".join(f"{m[depth == d, u].mean():+.2f}" for d in range(task.max_depth + 1) if (depth == d).any())
    lead = (f"Unit {u}'s {ro['what']} counts open brackets" if abs(r[u]) >= 0.8 else
            f"No unit counts the brackets cleanly; the closest is unit {u}'s {ro['what']}")
    parts = [f"{lead}: it correlates with the depth at r = {r[u]:+.2f}; its mean at depths 0, 1, 2, ... is {steps}."]
    for key, sym in (("keep", "keep_sym"), ("write", "write_sym")):
        if ro[key]:
            g = tr[ro[key]].reshape(-1, m.shape[1])[:, u]
            by = ", ".join(f"{g[ids == k].mean():.2f} on '{tok}'" for k, tok in enumerate(task.tokens))
            parts.append(f"Its {ro[sym]} is {by}.")
    if not ro["keep"]:
        parts.append("Without gates, the count is kept by W_hh's feedback alone.")
    return " ".join(parts), [u]


def _charlm(model, task, rng):
    ro = _roles(model)
    mem, keep, keep_sym = ro["mem"], ro["keep"], ro["keep_sym"]
    ids = task.ids
    n = 3000
    start = task.split + 500
    window = ids[start:start + n]
    x = model.embedding.astype(np.float64)[window]
    tr = _run(model, x[None])
    m = tr[mem][0]
    quote = task.tokens.index('"')
    inside = (np.cumsum(ids == quote)[start:start + n] % 2).astype(float)   # parity of '"' so far in the whole text
    space = (window == 0).astype(float)
    pos = np.zeros(n)
    for t in range(1, n):
        pos[t] = 0 if window[t] == 0 else pos[t - 1] + 1                   # characters since the last space
    found, units = [], []
    for label, feature in (("whether the text is inside a quotation", inside), ("spaces", space),
                           ("the position inside a word", pos)):
        r = _corr(m, feature)
        u = int(np.abs(r).argmax())
        found.append(f"unit {u} tracks {label} (r = {r[u]:+.2f})" if abs(r[u]) >= 0.3 else
                     f"no unit tracks {label} (the closest, unit {u}, has r = {r[u]:+.2f})")
        units.append((abs(r[u]) < 0.3, u))  # the units that track a feature first, then the closest ones
    what = "cell states" if mem == "c" else "hidden states"
    text = f"On {n} characters of held-out text, the {what}: " + "; ".join(found) + "."
    if keep:
        text += f" The {keep_sym} averages {tr[keep][0].mean():.2f} over all units and characters."
    return text, [u for _, u in sorted(units, key=lambda x: x[0])]


def _sine(model, task, rng):
    ro = _roles(model)
    mem, keep, keep_sym = ro["mem"], ro["keep"], ro["keep_sym"]
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, batch.inputs)
    w = task.warmup
    m = tr[mem][:, w:].reshape(-1, tr[mem].shape[-1])
    clean = batch.extra["clean"]
    slope = np.diff(clean, axis=1, prepend=clean[:, :1])[:, w:].reshape(-1)
    value = clean[:, w:].reshape(-1)
    rv, rs = _corr(m, value), _corr(m, slope)
    uv, us = int(np.abs(rv).argmax()), int(np.abs(rs).argmax())
    what = "cell state" if mem == "c" else "hidden state"
    def verb(r):
        return "follows" if abs(r) >= 0.8 else "comes closest to following"
    text = (f"Unit {uv}'s {what} {verb(rv[uv])} the current value of the signal (r = {rv[uv]:+.2f}) and unit {us}'s "
            f"{verb(rs[us])} its slope (r = {rs[us]:+.2f}): value and slope are what a next-step prediction of a sine needs.")
    if keep:
        text += f" The {keep_sym} averages {tr[keep][:, w:].mean():.2f}."
    return text, [uv, us]


def _adding(model, task, rng):
    ro = _roles(model)
    mem, keep, write, keep_sym, write_sym = ro["mem"], ro["keep"], ro["write"], ro["keep_sym"], ro["write_sym"]
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, batch.inputs)
    target = batch.targets[:, -1, 0]
    r = _corr(tr[mem][:, -1], target)                         # the state after the last input
    u = int(np.abs(r).argmax())
    what = "cell state" if mem == "c" else "hidden state"
    lead = (f"Unit {u}'s {what} carries the sum" if abs(r[u]) >= 0.8 else
            f"No unit carries the sum; the closest is unit {u}'s {what}")
    parts = [f"{lead}: after the last step it correlates with the answer at r = {r[u]:+.2f}."]
    marked = batch.extra["markers"].astype(bool)
    if write:
        g = tr[write][..., u]
        parts.append(f"Its {write_sym} is {g[marked].mean():.2f} at the two marked steps and {g[~marked].mean():.2f} elsewhere.")
    if keep:
        parts.append(f"Its {keep_sym} averages {tr[keep][..., u].mean():.2f}.")
    if not keep and not write:
        parts.append("Without gates, every step's value leaks into the state; only W_hh can sort marked from unmarked.")
    return " ".join(parts), [u]
