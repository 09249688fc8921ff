"""What to look for in a trained model's gates, measured on the model itself.

``card_notes(model, task)`` runs the model (``model.run``, so it sees
the same names the page shows) on a fixed probe set of the task's data,
finds the units that carry the task's variable (the first symbol, the
bracket depth, the quotation, the running sum ...), and writes what their
state and gates do, with the measured numbers. Units are numbered from 0.
It also gives those units as data, the card's ``units``, so the page can
draw them without reading the prose. Each sentence is written in English and
in Chinese side by side, from the same numbers formatted once (``Notes.zh``;
the kind names its memory and gates in Chinese in ``memory_roles``), and
``card_zh`` gathers the card's other words in Chinese.

Which gate keeps and which writes depends on the kind (each says so in ``Kind.memory_roles``):

    kind            memory   keeps the old state          writes the new
    LSTM family     c(t)     forget f(t)                  input i(t)
    GRU             h(t)     update z(t)                  1 - z(t)
    MGU             h(t)     1 - f(t)                     forget f(t)
    RNN             h(t)     (no gates)
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from ..model import Model
from .tasks import Task

PROBE_SEED = 12345


class Notes(NamedTuple):
    text: str          # the card's "notes"
    zh: str            # the same notes in Chinese, with the same numbers
    units: list[int]   # the card's "units"


class _Say:
    """The notes' sentences, each added in both languages at once; a number is formatted once, before both use it."""

    def __init__(self):
        self.en: list[str] = []
        self.zh: list[str] = []

    def __call__(self, en: str, zh: str) -> None:
        self.en.append(en)
        self.zh.append(zh)

    def text(self) -> tuple[str, str]:
        return " ".join(self.en), _spaced("".join(self.zh))


_CJK = "\u4e00-\u9fff"


def _spaced(text: str) -> str:
    """Chinese with a space where a Chinese character meets a Latin letter, a digit or a symbol: "单元 0 的细胞状态"."""
    text = re.sub(f"([{_CJK}])(?=[A-Za-z0-9(|'+\\-])", r"\1 ", text)
    return re.sub(f"(?<=[A-Za-z0-9)|'])([{_CJK}])", r" \1", text)


def _roles(model: Model) -> tuple[dict, dict]:
    """Which trace names play memory, keep gate and write gate for this kind, and how to call them (the kind says),
    and those words in Chinese (in English where the kind has none)."""
    ro = dict(model.spec.memory_roles(model.glossary))
    for gate in ("keep", "write"):   # a gate as wide as the memory speaks for each unit of it; Mamba's B(t) (N values) does not
        if ro[gate] and model.glossary[ro[gate]].size != model.glossary[ro["mem"]].size:
            ro[gate] = None
    return ro, {**{k: ro[k] for k in ("what", "keep_sym", "write_sym")}, **ro.get("zh", {})}


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


def card_notes(model: Model, task: Task) -> Notes:
    """The card's "notes" (which units carry the task's variable, and what their gates do, in numbers), the same
    in Chinese, and its "units": every unit the notes name, the ones that carry the variable first, each once."""
    rng = np.random.default_rng(PROBE_SEED)
    fn = {"remember": _remember, "brackets": _brackets, "charlm": _charlm, "sine": _sine, "adding": _adding}[task.name]
    say = _Say()
    units = fn(model, task, rng, say)
    return Notes(*say.text(), list(dict.fromkeys(int(u) for u in units)))


def describe_gates(model: Model, task: Task) -> str:
    """The card's "notes" alone."""
    return card_notes(model, task).text


def card_zh(model: Model, task: Task, evaluated_on: str, notes: str) -> dict[str, str]:
    """A card's words in Chinese, beside its English fields of the same names: the model's title as the page shows it
    (the kind's title · the task's), the task's words, what the accuracy was measured on, and the notes."""
    words = {**task.zh, "title": f"{model.spec.zh.get('title', model.spec.title)} · {task.zh.get('title', task.title)}"}
    return {**words, "task_title": task.zh.get("title", task.title), "evaluated_on": evaluated_on,
            "loss_kind": "交叉熵" if task.output == "classes" else "均方误差", "notes": notes}


def _remember(model, task, rng, say):
    ro, zh = _roles(model)
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
    lo, hi, e, mem = task.seq_len // 2, task.seq_len, f"{eta[u]:.2f}", ro["mem"]
    strong = eta[u] >= 0.5
    lead = (f"Unit {u}'s {ro['what']} holds the first letter" if strong else
            f"No unit holds the first letter; the closest is unit {u}'s {ro['what']}")
    lead_zh = f"单元{u}的{zh['what']}存着第一个字母" if strong else f"没有单元存着第一个字母；最接近的是单元{u}的{zh['what']}"
    say(f"{lead}: just before the '?', the first letter explains {e} of its variance over lengths {lo} to {hi} "
        f"(eta squared; mean {mem} after A, B, C, D: {means}).",
        f"{lead_zh}：在“?”之前的一步，第一个字母解释了它在长度{lo}到{hi}上{e}的方差（η 平方；A、B、C、D 之后{mem}的均值：{means}）。")
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, _inputs(model, batch))
    if ro["keep"]:
        k = tr[ro["keep"]][:, 1:-1, u]
        avg, low, every = f"{k.mean():.2f}", f"{k.min():.2f}", f"{tr[ro['keep']][:, 1:-1].mean():.2f}"
        say(f"Its {ro['keep_sym']} averages {avg} over the distractors (lowest {low}); over all units it averages {every}.",
            f"它的{zh['keep_sym']}在干扰项上平均为{avg}（最低{low}）；所有单元平均为{every}。")
    if ro["write"]:
        g = tr[ro["write"]][..., u]
        at, off = f"{g[:, 0].mean():.2f}", f"{g[:, 1:-1].mean():.2f}"
        say(f"Its {ro['write_sym']} is {at} at the first letter and {off} on the distractors.",
            f"它的{zh['write_sym']}在第一个字母处为{at}，在干扰项上为{off}。")
    if ro["written"]:
        _latch(tr, ro, u, say)
    else:
        say("An Elman RNN has no gates: a letter can survive only through W_hh.", "Elman RNN 没有门：字母只能靠 W_hh 留存下来。")
    return [u]


def _latch(tr, ro, u, say):
    """How big the memory unit's writes are, and whether the distractors' writes push it the way it already points."""
    w = tr["written"][..., u]
    size = np.abs(w)
    at, off, mem = f"{size[:, 0].mean():.2f}", f"{size[:, 1:-1].mean():.2f}", ro["mem"]
    say(f"What it writes, |{ro['written']}|, is {at} at the first letter and {off} on the distractors.",
        f"它写入的量 |{ro['written']}| 在第一个字母处为{at}，在干扰项上为{off}。")
    # do the distractors' writes push the memory further the way it already points (a latch)?
    along = (np.sign(tr[mem + "_prev"][:, 1:-1, u]) * w[:, 1:-1]).mean()
    if size[:, 1:-1].mean() > 0.1 and along > 0.5 * size[:, 1:-1].mean():
        a = f"{along:+.2f}"
        say(f"Those writes mostly push {mem} further the way it already points (mean of sign({mem}(t−1)) · written = {a}): "
            "they reinforce the stored letter instead of overwriting it, a latch.",
            f"这些写入大多把{mem}沿它已有的方向继续推（sign({mem}(t−1)) · written 的均值 = {a}）：它们加强存下的字母，"
            "而不是把它改写，像一个锁存器。")


def _brackets(model, task, rng, say):
    ro, zh = _roles(model)
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, _inputs(model, batch))
    depth = batch.extra["depth"].reshape(-1)
    ids = batch.ids.reshape(-1)
    m = tr[ro["mem"]].reshape(-1, tr[ro["mem"]].shape[-1])
    r = _corr(m, depth.astype(float))
    u = int(np.abs(r).argmax())
    steps = ", ".join(f"{m[depth == d, u].mean():+.2f}" for d in range(task.max_depth + 1) if (depth == d).any())
    strong, rr = abs(r[u]) >= 0.8, f"{r[u]:+.2f}"
    lead = (f"Unit {u}'s {ro['what']} counts open brackets" if strong else
            f"No unit counts the brackets cleanly; the closest is unit {u}'s {ro['what']}")
    lead_zh = f"单元{u}的{zh['what']}在数未闭合的括号" if strong else f"没有单元干净地数出括号；最接近的是单元{u}的{zh['what']}"
    say(f"{lead}: it correlates with the depth at r = {rr}; its mean at depths 0, 1, 2, ... is {steps}.",
        f"{lead_zh}：它与深度的相关系数 r = {rr}；在深度 0, 1, 2, ... 上它的均值为 {steps}。")
    for key, sym in (("keep", "keep_sym"), ("write", "write_sym")):
        if ro[key]:
            g = tr[ro[key]].reshape(-1, m.shape[1])[:, u]
            by = [(f"{g[ids == k].mean():.2f}", tok) for k, tok in enumerate(task.tokens)]
            say(f"Its {ro[sym]} is " + ", ".join(f"{v} on '{tok}'" for v, tok in by) + ".",
                f"它的{zh[sym]}" + "，".join(f"在“{tok}”上为{v}" for v, tok in by) + "。")
    if not ro["keep"]:
        say("Without gates, the count is kept by W_hh's feedback alone.", "没有门，计数只靠 W_hh 的反馈保存。")
    return [u]


def _charlm(model, task, rng, say):
    ro, zh = _roles(model)
    ids = task.ids
    n = 3000
    start = task.split + 500
    window = ids[start:start + n]
    tr = _run(model, model.embedding.astype(np.float64)[window][None])
    m = tr[ro["mem"]][0]
    quote = task.tokens.index('"')
    inside = (np.cumsum(ids == quote)[start:start + n] % 2).astype(float)   # parity of '"' so far in the whole text
    space = (window == 0).astype(float)
    pos = np.zeros(n)
    for t in range(1, n):
        pos[t] = 0 if window[t] == 0 else pos[t - 1] + 1                   # characters since the last space
    found, found_zh, units = [], [], []
    for label, label_zh, feature in (("whether the text is inside a quotation", "文本是否在引号内", inside), ("spaces", "空格", space),
                                     ("the position inside a word", "词内的位置", pos)):
        r = _corr(m, feature)
        u = int(np.abs(r).argmax())
        rr, tracks = f"{r[u]:+.2f}", abs(r[u]) >= 0.3
        found.append(f"unit {u} tracks {label} (r = {rr})" if tracks else f"no unit tracks {label} (the closest, unit {u}, has r = {rr})")
        found_zh.append(f"单元{u}跟踪{label_zh}（r = {rr}）" if tracks else f"没有单元跟踪{label_zh}（最接近的单元{u}的 r = {rr}）")
        units.append((not tracks, u))  # the units that track a feature first, then the closest ones
    what = "cell states" if ro["mem"] == "c" else "hidden states"
    say(f"On {n} characters of held-out text, the {what}: " + "; ".join(found) + ".",
        f"在{n}个留出文本的字符上，各单元的{zh['what']}：" + "；".join(found_zh) + "。")
    if ro["keep"]:
        avg = f"{tr[ro['keep']][0].mean():.2f}"
        say(f"The {ro['keep_sym']} averages {avg} over all units and characters.", f"{zh['keep_sym']}在所有单元和字符上平均为{avg}。")
    return [u for _, u in sorted(units, key=lambda x: x[0])]


def _sine(model, task, rng, say):
    ro, zh = _roles(model)
    mem = ro["mem"]
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
    (v, vzh), (s, szh) = (("follows", "跟随") if abs(r) >= 0.8 else ("comes closest to following", "最接近于跟随") for r in (rv[uv], rs[us]))
    a, b = f"{rv[uv]:+.2f}", f"{rs[us]:+.2f}"
    say(f"Unit {uv}'s {what} {v} the current value of the signal (r = {a}) and unit {us}'s {s} its slope (r = {b}): "
        "value and slope are what a next-step prediction of a sine needs.",
        f"单元{uv}的{zh['what']}{vzh}信号的当前值（r = {a}），单元{us}的{zh['what']}{szh}它的斜率（r = {b}）：预测正弦的下一个值正需要值和斜率。")
    if ro["keep"]:
        avg = f"{tr[ro['keep']][:, w:].mean():.2f}"
        say(f"The {ro['keep_sym']} averages {avg}.", f"{zh['keep_sym']}平均为{avg}。")
    return [uv, us]


def _adding(model, task, rng, say):
    ro, zh = _roles(model)
    mem, keep, write = ro["mem"], ro["keep"], ro["write"]
    batch = task.batch(rng, 64, task.seq_len)
    tr = _run(model, batch.inputs)
    target = batch.targets[:, -1, 0]
    r = _corr(tr[mem][:, -1], target)                         # the state after the last input
    u = int(np.abs(r).argmax())
    what = "cell state" if mem == "c" else "hidden state"
    strong, rr = abs(r[u]) >= 0.8, f"{r[u]:+.2f}"
    lead = f"Unit {u}'s {what} carries the sum" if strong else f"No unit carries the sum; the closest is unit {u}'s {what}"
    lead_zh = f"单元{u}的{zh['what']}携带着和" if strong else f"没有单元携带着和；最接近的是单元{u}的{zh['what']}"
    say(f"{lead}: after the last step it correlates with the answer at r = {rr}.", f"{lead_zh}：最后一步之后，它与答案的相关系数 r = {rr}。")
    marked = batch.extra["markers"].astype(bool)
    if write:
        g = tr[write][..., u]
        at, off = f"{g[marked].mean():.2f}", f"{g[~marked].mean():.2f}"
        say(f"Its {ro['write_sym']} is {at} at the two marked steps and {off} elsewhere.",
            f"它的{zh['write_sym']}在两个标记步上为{at}，在其他步上为{off}。")
    if keep:
        avg = f"{tr[keep][..., u].mean():.2f}"
        say(f"Its {ro['keep_sym']} averages {avg}.", f"它的{zh['keep_sym']}平均为{avg}。")
    if not keep and not write:
        say("Without gates, every step's value leaks into the state; only W_hh can sort marked from unmarked.",
            "没有门，每一步的值都会漏进状态；只有 W_hh 能把标记的值和未标记的值分开。")
    return [u]
