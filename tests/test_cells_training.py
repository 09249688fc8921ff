"""The training tasks, Adam, the trainer and the shipped presets."""

import threading

import numpy as np
import pytest
from cases import CASES, IDS

from gatescope import cells
from gatescope.cells.presets import list_presets, load_preset
from gatescope.cells.training import LIMITS, TASKS, evaluate, make_presets, train
from gatescope.cells.training.notes import describe_gates
from gatescope.cells.training.optim import Adam, clip_global_norm
from gatescope.cells.training.trainer import check_request


def rng(seed=0):
    return np.random.default_rng(seed)


# -- tasks ---------------------------------------------------------------------

@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_is_seeded_and_shaped(name):
    t = TASKS[name]
    a, b = t.batch(rng(5), 6, t.seq_len), t.batch(rng(5), 6, t.seq_len)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)
    assert not np.array_equal(a.inputs, t.batch(rng(6), 6, t.seq_len).inputs)
    assert a.inputs.shape == (6, t.seq_len, t.input_size) and a.mask.shape == (6, t.seq_len) and a.mask.any()
    if t.output == "classes":
        assert a.targets.shape == (6, t.seq_len) and 0 <= a.targets.min() and a.targets.max() < len(t.labels)
    else:
        assert a.targets.shape == (6, t.seq_len, len(t.labels))
    if t.input_type == "text":
        assert np.array_equal(a.inputs, np.eye(len(t.tokens))[a.ids])       # one-hot rows of the vocabulary
    assert t.encode(t.example).shape[1] == t.input_size
    d = t.describe()
    assert d["head"] == ("softmax" if t.output == "classes" else "linear") and d["accuracy_rule"]


def test_remember_asks_for_the_first_letter_at_the_end():
    t = TASKS["remember"]
    b = t.batch(rng(), 50, 10)
    assert (b.ids[:, -1] == t.tokens.index("?")).all() and (b.ids[:, :-1] < 4).all()
    assert np.array_equal(b.targets[:, -1], b.ids[:, 0])
    assert b.mask[:, -1].all() and not b.mask[:, :-1].any()


def test_brackets_targets_are_the_depth():
    t = TASKS["brackets"]
    b = t.batch(rng(), 50, 200)
    step = np.select([b.ids == 0, b.ids == 1], [1, -1], 0)
    assert np.array_equal(b.targets, np.cumsum(step, axis=1))
    assert b.targets.min() == 0 and b.targets.max() == t.max_depth    # both bounds are reached, never crossed
    assert b.mask.all()


def test_charlm_reads_the_public_domain_text_and_predicts_the_next_character():
    t = TASKS["charlm"]
    assert t.source.stat().st_size < 300_000 and (t.source.parent / "README.md").read_text().count("public domain")
    assert t.text.startswith("pride and prejudice") and set(t.text) == set(t.tokens)
    b = t.batch(rng(), 8, 30)
    assert np.array_equal(b.targets[:, :-1], b.ids[:, 1:])             # the target is the next input
    text = "".join(t.tokens[i] for i in np.r_[b.ids[0], b.targets[0, -1]])
    assert text in t.text
    held = t.batch(rng(), 8, 30, held_out=True)
    assert all("".join(t.tokens[i] for i in row) in t.text[t.split:] for row in held.ids)


def test_sine_predicts_the_next_clean_value():
    t = TASKS["sine"]
    b = t.batch(rng(), 200, 40)
    clean = b.extra["clean"]
    assert np.array_equal(b.targets[:, :-1, 0], clean[:, 1:])
    assert abs(np.std(b.inputs[..., 0] - clean) - t.noise) < 0.005
    assert not b.mask[:, :t.warmup].any() and b.mask[:, t.warmup:].all()


def test_adding_marks_one_value_in_each_half():
    t = TASKS["adding"]
    b = t.batch(rng(), 4000, 20)
    values, markers = b.inputs[..., 0], b.inputs[..., 1]
    assert (markers[:, :10].sum(axis=1) == 1).all() and (markers[:, 10:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(b.targets[:, -1, 0], (values * markers).sum(axis=1))
    baseline = ((1.0 - b.targets[:, -1, 0]) ** 2).mean()                # always answering 1
    assert baseline == pytest.approx(t.baseline_mse, rel=0.05)


@pytest.mark.parametrize("name", ["brackets", "adding"])
def test_loss_gradient_matches_finite_differences(name):
    t = TASKS[name]
    b = t.batch(rng(), 3, 8)
    out = rng(1).standard_normal(b.targets.shape if t.output == "regression" else b.targets.shape + (len(t.labels),))
    _, grad = t.loss(out, b)
    num = np.zeros_like(out)
    for idx in np.ndindex(out.shape):
        up, down = out.copy(), out.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        num[idx] = (t.loss(up, b)[0] - t.loss(down, b)[0]) / 2e-6
    np.testing.assert_allclose(grad, num, atol=1e-8)


def test_accuracy_rules():
    t = TASKS["adding"]
    b = t.batch(rng(), 100, 10)
    assert t.accuracy(b.targets, b) == 1.0
    assert t.accuracy(b.targets + 0.05, b) == 0.0                         # outside Hochreiter & Schmidhuber's 0.04
    c = TASKS["brackets"]
    b = c.batch(rng(), 10, 10)
    perfect = np.eye(len(c.labels))[b.targets] * 10
    assert c.accuracy(perfect, b) == 1.0 and c.loss(perfect, b)[0] < 1e-3


def test_numbers_parse_in_the_page_format():
    assert TASKS["sine"].encode("0.5, -1, 2").tolist() == [[0.5], [-1.0], [2.0]]
    assert TASKS["adding"].encode("1 0; 0 1").tolist() == [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(cells.CellsError, match="rows of 2"):
        TASKS["adding"].encode("1 0; 0")
    with pytest.raises(cells.CellsError, match="not in the remember vocabulary"):
        TASKS["remember"].encode("AbC?")


# -- optimizer -------------------------------------------------------------------

def test_adam_minimizes_a_quadratic_and_clipping_bounds_the_norm():
    w = {"w": np.array([3.0, -2.0])}
    opt = Adam(w, lr=0.1)
    for _ in range(300):
        opt.step(w, {"w": 2 * w["w"]})
    assert np.abs(w["w"]).max() < 1e-2
    g = {"a": np.array([3.0, 4.0]), "b": np.array([12.0])}
    assert clip_global_norm(g, 1.0) == pytest.approx(13.0)
    assert np.sqrt(sum((v ** 2).sum() for v in g.values())) == pytest.approx(1.0)
    g = {"a": np.array([0.3, 0.4])}
    clip_global_norm(g, 1.0)
    assert g["a"].tolist() == [0.3, 0.4]


# -- trainer ---------------------------------------------------------------------

SMALL = dict(hidden_size=4, steps=15, batch_size=8, seed=3, eval_sequences=32)


def test_same_seed_same_model_and_history():
    a, b = train("lstm", "brackets", seq_len=20, **SMALL), train("lstm", "brackets", seq_len=20, **SMALL)
    assert a.history == b.history
    assert all(np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params)
    c = train("lstm", "brackets", seq_len=20, **{**SMALL, "seed": 4})
    assert c.history["loss"] != a.history["loss"]


def test_a_short_run_lowers_the_loss():
    run = train("gru", "brackets", hidden_size=8, steps=150, batch_size=16, seq_len=30, learning_rate=0.02, seed=0,
                eval_sequences=64)
    first, last = np.mean(run.history["loss"][:10]), np.mean(run.history["loss"][-10:])
    assert last < 0.5 * first
    assert run.stopped == "done" and run.steps == 150 and len(run.history["step"]) == 150


def test_callback_reports_progress():
    seen = []
    train("rnn", "sine", callback=lambda s, loss, acc: seen.append((s, loss, acc)), report_every=5, seq_len=12, **SMALL)
    assert [s for s, _, _ in seen] == [5, 10, 15]
    assert all(np.isfinite(loss) and 0 <= acc <= 1 for _, loss, acc in seen)


def test_snapshots_are_frozen_copies_of_the_model_during_training():
    shots = []
    run = train("gru", "remember", snapshot=lambda step, m: shots.append((step, m, m.params["weight_hh_l0"].copy())),
                snapshot_every=5, **SMALL)
    assert [s for s, _, _ in shots] == [5, 10, 15]
    for _, m, w in shots:
        assert np.array_equal(m.params["weight_hh_l0"], w)          # later steps did not move it
        assert m.run(m.embed(m.vocab.encode("AB?"))).output.shape == (3, 4) and m.decoder is not None
    assert not np.array_equal(shots[0][2], shots[1][2])
    assert np.array_equal(shots[-1][1].params["weight_hh_l0"], run.model.params["weight_hh_l0"])


def test_cancel_stops_at_once_and_returns_a_usable_model(tmp_path):
    cancel = threading.Event()

    def cb(step, loss, acc):
        if step == 4:
            cancel.set()
            cancel.set()                      # cancelling twice is harmless

    run = train("lstm", "remember", cancel=cancel, callback=cb, **{**SMALL, "steps": 1000})
    assert run.stopped == "cancelled" and run.steps == 4 and run.history["step"][-1] == 4
    assert run.model.card["stopped"] == "cancelled" and run.model.card["steps"] == 4
    trace = run.model.run(run.model.embed(run.model.vocab.encode("ABCA?")))
    assert trace.output.shape == (5, 4)
    run.model.save(tmp_path / "m.safetensors")
    assert cells.load(tmp_path / "m.safetensors").card["stopped"] == "cancelled"
    before = train("lstm", "remember", cancel=cancel, **SMALL)   # already cancelled: no step at all
    assert before.steps == 0 and before.stopped == "cancelled" and np.isfinite(before.evaluation["loss"])


class TickingClock:
    """Stands in for the trainer's ``time`` module: every reading of perf_counter is one second after the last."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


def test_time_budget_lets_no_step_start_past_it(monkeypatch):
    """The budget is checked before every step: with 3.5 s and one second per reading, steps 1-3 start at 1, 2, 3 s, step 4 would start at 4 s."""
    from gatescope.cells.training import trainer
    monkeypatch.setattr(trainer, "time", TickingClock())
    run = train("gru", "charlm", time_budget=3.5, **{**SMALL, "steps": 20_000})
    assert run.stopped == "time budget" and run.steps == 3 and run.history["step"] == [1, 2, 3]
    assert run.seconds == 5.0                                   # read at the start, before steps 1-4, and at the end
    assert run.model.card["stopped"] == "time budget" and run.model.card["steps"] == 3
    assert np.isfinite(run.evaluation["loss"])
    monkeypatch.setattr(trainer, "time", TickingClock())
    assert train("gru", "charlm", time_budget=0.5, **SMALL).steps == 0      # spent before the first step
    monkeypatch.setattr(trainer, "time", TickingClock())
    assert train("gru", "charlm", time_budget=600, **SMALL).stopped == "done"  # 15 steps take 15 s of the 600


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_kind_and_option_trains(case):
    kind, opts = case
    run = train(kind, "adding", options=opts, seq_len=8, **SMALL)
    assert run.steps == 15 and np.isfinite(run.history["loss"]).all()
    assert run.model.kind == kind and run.model.card["kind"] == kind
    assert all(run.model.options[k] == v for k, v in opts.items()) and run.model.card["options"] == run.model.options


@pytest.mark.parametrize("kwargs,message", [
    ({"hidden_size": 1000}, "hidden_size: got 1000; the limit is 1 to 128"),
    ({"hidden_size": 2.5}, "hidden_size: got 2.5; expected an integer"),
    ({"steps": 10**6}, "steps: got 1000000; the limit is 1 to 20000"),
    ({"steps": 0}, "steps: got 0; the limit is 1 to 20000"),
    ({"batch_size": 0}, "batch_size: got 0; the limit is 1 to 256"),
    ({"num_layers": 3}, "num_layers: got 3; the limit is 1 to 2"),
    ({"learning_rate": 0}, "learning_rate: got 0; the limit is above 0 and at most 1"),
    ({"learning_rate": 5.0}, "learning_rate: got 5; the limit is above 0 and at most 1"),
    ({"learning_rate": float("nan")}, "learning_rate: got nan"),
    ({"seed": -1}, "seed: got -1; the limit is 0 to"),
    ({"snapshot_every": 0}, "snapshot_every: got 0; the limit is 1 to 20000"),
    ({"clip": -1.0}, "clip: got -1; the limit is above 0"),
    ({"time_budget": 1e9}, "time_budget: got 1e\\+09; the limit is above 0 and at most 600"),
    ({"seq_len": 5000}, "seq_len: got 5000; the remember task takes an integer from 2 to 400"),
    ({"task": "sorting"}, "task: unknown task 'sorting'; expected one of: remember, brackets, charlm, sine, adding"),
    ({"kind": "transformer"}, "unknown cell kind 'transformer'"),
    ({"options": {"peepholes": True}}, "unknown option\\(s\\) for kind 'lstm': peepholes"),
    ({"options": {"proj_size": 8}}, "options.proj_size: got 8; expected a value smaller than hidden_size \\(4\\)"),
])
def test_limits_are_enforced_with_clear_messages(kwargs, message):
    args = {"kind": "lstm", "task": "remember", **SMALL, **kwargs}
    with pytest.raises(cells.CellsError, match=message):
        train(args.pop("kind"), args.pop("task"), **args)


REQUEST = dict(kind="lstm", task="remember", hidden_size=4, num_layers=1, steps=15, batch_size=8, learning_rate=0.01, seed=0,
               seq_len=None, clip=1.0, time_budget=60.0, options=None)


@pytest.mark.parametrize("name", list(LIMITS))
def test_each_declared_limit_is_the_one_enforced(name):
    """check_request (what train runs first) accepts each LIMITS bound and refuses just past it, naming the argument."""
    lo, hi = LIMITS[name]
    ask = lambda value: check_request(**{**REQUEST, name: value})
    assert ask(hi)[name] == hi
    over, under = (hi + 1, lo - 1) if isinstance(hi, int) else (hi * 1.5, lo)     # float bounds are open at the bottom
    for bad in (over, under):
        with pytest.raises(cells.CellsError, match=f"^{name}: got "):
            ask(bad)
    if isinstance(lo, int):
        assert ask(lo)[name] == lo


def test_the_limits_table_is_what_train_reads(monkeypatch):
    monkeypatch.setitem(LIMITS, "hidden_size", (1, 3))
    with pytest.raises(cells.CellsError, match="hidden_size: got 4; the limit is 1 to 3"):
        train("lstm", "remember", **SMALL)


# -- presets ---------------------------------------------------------------------

CARD_FIELDS = ("title", "task", "kind", "hidden_size", "accuracy", "loss", "steps", "seed", "train_seconds",
               "input_type", "example", "head", "notes", "accuracy_rule")


def test_presets_cover_every_task_and_kind_with_complete_cards():
    presets = list_presets()
    assert sorted(p["name"] for p in presets) == sorted(f"{t}-{k}" for t in TASKS for k in make_presets.KINDS)
    for p in presets:
        card = p["card"]
        assert all(f in card for f in CARD_FIELDS), p["name"]
        assert p["name"] == f"{card['task']}-{card['kind']}" == f"{p['task']}-{p['kind']}"
        assert card["input_type"] == TASKS[card["task"]].input_type and card["head"] in ("softmax", "linear")
        assert 0 <= card["accuracy"] <= 1 and card["train_seconds"] < 120 and card["stopped"] == "done"
        assert "Unit " in card["notes"] or "unit " in card["notes"]
    from gatescope.cells.presets import HERE
    sizes = [f.stat().st_size for f in HERE.glob("*.safetensors")]
    assert max(sizes) < 150_000 and sum(sizes) < 2_000_000


def test_unknown_preset_lists_the_names():
    with pytest.raises(cells.CellsError, match="unknown preset 'nope'; expected one of: adding-gru, adding-lstm"):
        load_preset("nope")


@pytest.mark.parametrize("name", [p["name"] for p in list_presets()])
def test_preset_card_accuracy_is_reproduced_on_fresh_data(name):
    model = load_preset(name)
    card = model.card
    task = TASKS[card["task"]]
    fresh = evaluate(model, task, sequences=512, seq_len=card["seq_len"], seed=[987, 654])   # not the card's seed
    assert fresh["accuracy"] == pytest.approx(card["accuracy"], abs=0.06), (fresh, card["accuracy"])
    x = task.encode(card["example"]) if task.input_type == "numbers" else model.embed(model.vocab.encode(card["example"]))
    assert np.isfinite(model.run(x).output).all()


@pytest.mark.parametrize("name", ["brackets-lstm", "remember-gru", "adding-lstm", "charlm-rnn"])
def test_preset_notes_are_computed_from_the_model(name):
    model = load_preset(name)
    assert describe_gates(model, TASKS[model.card["task"]]) == model.card["notes"]
