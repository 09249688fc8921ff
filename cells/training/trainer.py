"""Train a cell on a task: Adam, global-norm clipping, seeded, cancellable, in one thread.

    from gatescope.cells.training import train
    run = train("lstm", "brackets", hidden_size=16, steps=600, seed=0,
                callback=lambda step, loss, acc: print(step, loss, acc))
    run.model            # a cells.Model with vocab, embedding, head, labels and card
    run.model.save("brackets-lstm.safetensors")
    run.history          # {"step": [...], "loss": [...], "accuracy": [...]}
    run.stopped          # "done", "cancelled", "time budget" or "diverged"

A step draws a fresh batch, runs the batched forward pass
(``cells.backprop``), applies a linear head (softmax for classes, plain for
regression), backpropagates the task's loss through head and cell, clips the
global gradient norm and takes one Adam step. Everything is float64; the
returned model is cast to ``dtype`` (float32 by default, to keep bundles
small) and then evaluated on fresh data, which is what its card reports.

Seeds: weights come from ``seed`` (cells.build), the head and the training
batches from separate streams derived from it, and the final evaluation from
another, so the same arguments give the same model, bit for bit, on the
same machine.

Threads: this module starts none. NumPy's BLAS (OpenBLAS here) may use more
than one core for a matrix product, but only for large ones; at the sizes
LIMITS allows the products are small, and setting OPENBLAS_NUM_THREADS=1
in the environment pins it to one core for certain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .. import backprop
from ..errors import CellsError
from ..kinds import DEFAULT as DEFAULT_KIND
from ..kinds import get as get_kind
from ..model import Model
from ..vocab import Vocab
from . import tasks as _tasks
from .notes import card_notes, card_zh
from .optim import Adam, clip_global_norm

# (smallest, largest) accepted value of each training argument; floats marked open are exclusive at the bottom.
LIMITS: dict[str, tuple[float, float]] = {
    "hidden_size": (1, 128),
    "num_layers": (1, 2),
    "steps": (1, 20_000),
    "batch_size": (1, 256),
    "learning_rate": (0.0, 1.0),      # 0 excluded
    "clip": (0.0, 1000.0),            # 0 excluded; None turns clipping off
    "time_budget": (0.0, 600.0),      # seconds; 0 excluded
    "seed": (0, 2**32 - 1),
    "report_every": (1, 20_000),
    "snapshot_every": (1, 20_000),
    "eval_sequences": (1, 4096),
}
FORGET_BIAS_INIT = 1.0   # added to the forget gate's bias at initialization (Gers et al. 2000; Jozefowicz et al. 2015)


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class Training:
    """What train() returns."""

    model: Model                         # the trained model, with its card
    history: dict[str, list]             # per reported step: "step", "loss", "accuracy" (of that step's training batch)
    stopped: str                         # "done", "cancelled", "time budget" or "diverged"
    steps: int                           # optimizer steps taken
    seconds: float                       # wall-clock time of the training loop
    evaluation: dict = field(default_factory=dict)   # loss and accuracy on fresh data


def _int(name: str, value: Any) -> int:
    lo, hi = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise CellsError(f"{name}: got {value!r}; expected an integer from {lo} to {hi}")
    if not lo <= value <= hi:
        raise CellsError(f"{name}: got {value}; the limit is {lo} to {hi}")
    return int(value)


def _float(name: str, value: Any, *, nullable: bool = False) -> float | None:
    lo, hi = LIMITS[name]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise CellsError(f"{name}: got {value!r}; expected a number above {lo:g} and at most {hi:g}")
    if not lo < value <= hi:
        raise CellsError(f"{name}: got {value:g}; the limit is above {lo:g} and at most {hi:g}")
    return float(value)


def check_request(kind: str, task: str, *, hidden_size: int, num_layers: int, steps: int, batch_size: int,
                  learning_rate: float, seed: int, seq_len: int | None, clip: float | None, time_budget: float | None,
                  options: dict | None, report_every: int = 1, eval_sequences: int = 512, snapshot_every: int = 100) -> dict:
    """Every argument checked against LIMITS, the kind's options and the task's lengths; CellsError names the first bad one."""
    spec = get_kind(kind)
    t = _tasks.get(task)
    if options is not None and not isinstance(options, dict):
        raise CellsError(f"options: got {type(options).__name__}; expected a mapping of the kind's options")
    opts = spec.check_options(dict(options or {}))
    out = {"kind": kind, "task": t.name, "options": opts}
    for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers), ("steps", steps),
                        ("batch_size", batch_size), ("seed", seed), ("report_every", report_every),
                        ("eval_sequences", eval_sequences), ("snapshot_every", snapshot_every)):
        out[name] = _int(name, value)
    out["learning_rate"] = _float("learning_rate", learning_rate)
    out["clip"] = _float("clip", clip, nullable=True)
    out["time_budget"] = _float("time_budget", time_budget, nullable=True)
    out["seq_len"] = t.check_len(seq_len)
    if opts.get("proj_size") and opts["proj_size"] >= out["hidden_size"]:
        raise CellsError(f"options.proj_size: got {opts['proj_size']}; "
                         f"expected a value smaller than hidden_size ({out['hidden_size']})")
    return out


def train(kind: str = DEFAULT_KIND, task: str = "remember", *, hidden_size: int = 32, num_layers: int = 1, steps: int = 500,
          batch_size: int = 32, learning_rate: float = 1e-2, seed: int = 0, seq_len: int | None = None,
          clip: float | None = 1.0, time_budget: float | None = 120.0, options: dict | None = None,
          cancel: Cancel | None = None, callback: Callable[[int, float, float], None] | None = None,
          report_every: int = 1, snapshot: Callable[[int, Model], None] | None = None, snapshot_every: int = 100,
          snapshot_start: bool = False, eval_sequences: int = 512, dtype: str = "float32") -> Training:
    """Train a fresh ``kind`` model on ``task`` and return it with its history and card.

    Stops after ``steps`` steps, when ``cancel.is_set()`` (checked before
    every step), when ``time_budget`` seconds have passed, or when the loss
    stops being finite; whatever stops it, the model of the last completed
    step comes back, evaluated and carded. ``callback(step, loss, accuracy)``
    is called every ``report_every`` steps and at step ``steps``; the
    loss and accuracy are those of that step's training batch.
    ``snapshot(step, model)`` is called every ``snapshot_every`` steps (and at step 0, untrained, if ``snapshot_start``)
    with a copy of the model as it is after that step (head, vocabulary and labels, no card), e.g. to trace a probe
    while training runs; snapshot_cadence() picks a ``snapshot_every`` for a run's length.
    """
    cfg = check_request(kind, task, hidden_size=hidden_size, num_layers=num_layers, steps=steps, batch_size=batch_size,
                        learning_rate=learning_rate, seed=seed, seq_len=seq_len, clip=clip, time_budget=time_budget,
                        options=options, report_every=report_every, eval_sequences=eval_sequences,
                        snapshot_every=snapshot_every)
    t = _tasks.get(task)
    model = initial_model(kind, t, cfg["hidden_size"], cfg["num_layers"], cfg["seed"], cfg["options"])
    params = dict(model.params)                                   # float64 arrays, updated in place
    W, b = (np.array(a) for a in model.decoder)
    params["decoder.weight"], params["decoder.bias"] = W, b
    adam = Adam(params, lr=cfg["learning_rate"])
    data = np.random.default_rng([cfg["seed"], 2])
    history: dict[str, list] = {"step": [], "loss": [], "accuracy": []}
    stopped, done = "done", 0
    start = time.perf_counter()
    T = cfg["seq_len"]
    if snapshot is not None and snapshot_start:  # "before": what training starts from
        snapshot(0, finished_model(model, t, W, b, dtype))
    for step in range(1, cfg["steps"] + 1):
        interrupted = _interrupted(cancel, cfg["time_budget"], start)
        if interrupted:
            stopped = interrupted
            break
        length = int(data.integers(max(t.min_len, T // 2), T + 1)) if t.vary_length else T
        batch = t.batch(data, cfg["batch_size"], length)
        loss, accuracy, grads = _loss_and_grads(model, t, batch, W, b)
        if grads is None:
            stopped = "diverged"
            break
        clip_global_norm(grads, cfg["clip"])
        adam.step(params, grads)
        done = step
        if step % cfg["report_every"] == 0 or step == cfg["steps"]:
            for key, value in (("step", step), ("loss", loss), ("accuracy", accuracy)):
                history[key].append(value)
            if callback is not None:
                callback(step, loss, accuracy)
        if snapshot is not None and step % cfg["snapshot_every"] == 0:
            snapshot(step, finished_model(model, t, W, b, dtype))
    seconds, final = time.perf_counter() - start, finished_model(model, t, W, b, dtype)
    evaluation = evaluate(final, t, sequences=cfg["eval_sequences"], seq_len=T, seed=[cfg["seed"], 3])
    final.card = _card(final, t, kind, cfg, evaluation, done=done, seconds=seconds, stopped=stopped)
    return Training(final, history, stopped, done, seconds, evaluation)


SNAPSHOTS = 40  # about how many snapshots snapshot_cadence() gives a run of any length: enough to scrub, few enough to keep


def snapshot_cadence(steps: int, per_snapshot: int, budget: int, target: int = SNAPSHOTS) -> int:
    """The ``snapshot_every`` that gives a run of ``steps`` steps about ``target`` snapshots besides step 0 and the
    last step (every step, for a shorter run), and no more than ``budget`` values in all at ``per_snapshot`` each.

    A run then has floor(steps / every) + 2 snapshots at most: 1,500 steps give 41 (every 38), 20,000 give 42.
    """
    room = budget // max(1, per_snapshot) - 2                    # step 0 and the last step are kept too
    if room < 1:
        raise CellsError(f"snapshots: one snapshot holds {per_snapshot} values; the budget of {budget} holds fewer than 3")
    return max(1, -(-steps // min(target, room)))


def _interrupted(cancel: Cancel | None, time_budget: float | None, start: float) -> str | None:
    """Why training must stop before the next step ("cancelled", "time budget"), or None."""
    if cancel is not None and cancel.is_set():
        return "cancelled"
    if time_budget is not None and time.perf_counter() - start >= time_budget:
        return "time budget"
    return None


def _loss_and_grads(model: Model, t: _tasks.Task, batch, W: np.ndarray, b: np.ndarray):
    """One batch's loss and accuracy, and every parameter's gradient (head included); no gradients if the loss is not finite."""
    tape = backprop.forward(model, batch.inputs)
    out = tape.output @ W.T + b                                  # the head: logits or predictions
    loss, d_out = t.loss(out, batch)
    if not math.isfinite(loss):
        return loss, None, None
    accuracy = t.accuracy(out, batch)
    grads = backprop.backward(tape, d_out @ W).params           # dLoss/dh(t) = dLoss/dout W
    grads["decoder.weight"] = d_out.reshape(-1, d_out.shape[-1]).T @ tape.output.reshape(-1, tape.output.shape[-1])
    grads["decoder.bias"] = d_out.sum(axis=(0, 1))
    return loss, accuracy, grads


def _card(final: Model, t: _tasks.Task, kind: str, cfg: dict, evaluation: dict, *, done: int, seconds: float, stopped: str) -> dict:
    """The trained model's card: what it learned, how well, how it was trained, and what its gates do (the notes,
    and the units they name as data: the units the page draws first)."""
    notes = card_notes(final, t)
    evaluated_on, evaluated_on_zh = t.evaluated_on(evaluation["sequences"], evaluation["lengths"])
    return {
        "title": f"{final.spec.title} · {t.title}",
        "task": t.name,
        "task_title": t.title,
        "description": t.description,
        "kind": kind,
        "options": cfg["options"],
        "hidden_size": cfg["hidden_size"],
        "num_layers": cfg["num_layers"],
        "accuracy": round(evaluation["accuracy"], 4),
        "accuracy_rule": t.accuracy_rule,
        "loss": round(evaluation["loss"], 5),
        "loss_kind": "cross-entropy" if t.output == "classes" else "mean squared error",
        "evaluated_on": evaluated_on,
        "steps": done,
        "batch_size": cfg["batch_size"],
        "learning_rate": cfg["learning_rate"],
        "clip": cfg["clip"],
        "seq_len": cfg["seq_len"],
        "seed": cfg["seed"],
        "train_seconds": round(seconds, 2),
        "stopped": stopped,
        "input_type": t.input_type,
        "input_size": t.input_size,
        "example": t.example,
        "head": "softmax" if t.output == "classes" else "linear",
        "notes": notes.text,
        "units": notes.units,
        "zh": card_zh(final, t, evaluated_on_zh, notes.zh),   # the words above in Chinese, the notes' numbers the same
    }


def initial_model(kind: str, task: _tasks.Task, hidden_size: int, num_layers: int, seed: int, options: dict) -> Model:
    """A float64 model with PyTorch's init from ``seed``, the forget gates' bias raised by 1, and a random head."""
    from .. import build
    model = build(kind, task.input_size, hidden_size, num_layers=num_layers, seed=seed, dtype="float64", **options)
    spec = model.spec
    if spec.remember_block is not None:
        k = spec.blocks.index(spec.remember_block)
        for slot in model.walk():
            model.params["bias_hh" + slot.suffix][k * hidden_size:(k + 1) * hidden_size] += FORGET_BIAS_INIT
    rng = np.random.default_rng([seed, 1])
    bound = 1.0 / math.sqrt(model.out_size)
    head = (rng.uniform(-bound, bound, (len(task.labels), model.out_size)), np.zeros(len(task.labels)))
    return with_task(model, task, head, "float64")


def with_task(model: Model, task: _tasks.Task, head, dtype: str) -> Model:
    """``model`` with the task's vocabulary, identity embedding, labels and the given head, in ``dtype``."""
    text = task.input_type == "text"
    return Model(model.kind, {k: v for k, v in model.params.items()}, input_size=model.input_size,
                       hidden_size=model.hidden_size, num_layers=model.num_layers, options=model.options, dtype=dtype,
                       vocab=Vocab(task.tokens) if text else None, embedding=np.eye(len(task.tokens)) if text else None,
                       decoder=head, labels=list(task.labels))


def finished_model(model: Model, task: _tasks.Task, W: np.ndarray, b: np.ndarray, dtype: str) -> Model:
    """A copy of the model being trained, with the task's head, that later training steps leave alone."""
    copy = Model(model.kind, {k: v.copy() for k, v in model.params.items()}, input_size=model.input_size,
                 hidden_size=model.hidden_size, num_layers=model.num_layers, options=model.options, dtype="float64")
    return with_task(copy, task, (W.copy(), b.copy()), dtype)


def outputs(model: Model, inputs: np.ndarray) -> np.ndarray:
    """The head's outputs (logits or predictions) for a batch of input sequences, (B, T, outputs), in float64."""
    if model.decoder is None:
        raise CellsError("this model has no head (decoder); it was not trained on a task")
    tape = backprop.forward(model, inputs)
    W, b = (a.astype(np.float64) for a in model.decoder)
    return tape.output @ W.T + b


def eval_lengths(task: _tasks.Task, seq_len: int) -> list[int]:
    """The lengths a model is evaluated on: every training length for tasks that vary it, else seq_len."""
    return list(range(max(task.min_len, seq_len // 2), seq_len + 1)) if task.vary_length else [seq_len]


def evaluate(model: Model, task: str | _tasks.Task, *, sequences: int = 512, seq_len: int | None = None,
             seed: Any = 0, batch_size: int = 256) -> dict:
    """Mean loss and accuracy of a trained model on about ``sequences`` fresh sequences of ``task``.

    For tasks trained on varying lengths (remember, brackets), the sequences
    are spread evenly over every length from seq_len // 2 to seq_len, as in
    training; charlm reads its held-out text.
    """
    t = _tasks.get(task) if isinstance(task, str) else task
    rng = np.random.default_rng(seed)
    lengths = eval_lengths(t, t.check_len(seq_len))
    per = max(1, -(-sequences // len(lengths)))
    total_loss = total_acc = 0.0
    weight = 0
    for length in lengths:
        left = per
        while left > 0:
            n = min(batch_size, left)
            batch = t.batch(rng, n, length, held_out=True)
            text = batch.ids is not None and model.embedding is not None
            inputs = model.embedding.astype(np.float64)[batch.ids] if text else batch.inputs
            out = outputs(model, inputs)
            loss, _ = t.loss(out, batch)
            total_loss += loss * n
            total_acc += t.accuracy(out, batch) * n
            weight += n
            left -= n
    return {"loss": total_loss / weight, "accuracy": total_acc / weight, "sequences": weight,
            "lengths": [lengths[0], lengths[-1]]}


__all__ = ["LIMITS", "SNAPSHOTS", "Training", "train", "snapshot_cadence", "evaluate", "outputs", "check_request", "initial_model"]
