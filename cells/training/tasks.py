"""Toy tasks that make the gates mean something: each a seeded sequence generator with a loss and an accuracy.

    task = TASKS["brackets"]
    batch = task.batch(np.random.default_rng(0), batch_size=32, seq_len=40)
    batch.inputs      (B, T, input_size) float64: one-hot tokens, or numbers
    batch.targets     (B, T) class ids, or (B, T, outputs) regression targets
    batch.mask        (B, T) bool: the steps the loss and the accuracy count

Text tasks read characters through a vocabulary whose embedding is the
identity (x(t) is the token's one-hot vector, so each column of W_ih is one
token's effect on the gates); numeric tasks read numbers as they are.
Class outputs are trained with softmax cross-entropy, regression outputs
with the mean squared error; ``accuracy_rule`` says in words what the
accuracy counts. A task's words (title, description, accuracy_rule) are
in English and, beside them in its ``zh``, in Chinese.

The five tasks:

    remember   remember the first symbol until the end (one answer, at the '?')
    brackets   the bracket depth after every character (the cell state as a counter)
    charlm     the next character of Jane Austen's Pride and Prejudice (chapters 1-20)
    sine       the next value of a noisy sum of two sines
    adding     the sum of the two marked numbers (Hochreiter & Schmidhuber 1997)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import CellsError

DATA = Path(__file__).parent / "data"


@dataclass
class Batch:
    inputs: np.ndarray                 # (B, T, input_size) float64
    targets: np.ndarray                # (B, T) int64 class ids, or (B, T, outputs) float64
    mask: np.ndarray                   # (B, T) bool
    ids: np.ndarray | None = None      # (B, T) token ids of a text task's inputs
    extra: dict = field(default_factory=dict)   # task-specific facts about each sequence (depth, markers, ...)


class Task:
    """A task: what the model reads, what it must answer, and how it is scored."""

    name = ""
    title = ""
    description = ""
    zh: dict[str, str] = {}            # title, description and accuracy_rule in Chinese
    input_type = "numbers"             # "text" (a vocabulary of tokens) or "numbers"
    output = "classes"                 # "classes" (softmax cross-entropy) or "regression" (MSE)
    accuracy_rule = ""
    seq_len, min_len, max_len = 32, 2, 1000
    vary_length = False                # train on lengths drawn from [seq_len // 2, seq_len]
    tolerance: float | None = None     # regression: |prediction - target| < tolerance counts as right
    tokens: tuple[str, ...] | None = None
    labels: tuple[str, ...] = ()
    input_size = 1
    example = ""

    # -- data ------------------------------------------------------------
    def batch(self, rng: np.random.Generator, batch_size: int, seq_len: int | None = None, *, held_out: bool = False) -> Batch:
        """``batch_size`` fresh sequences of ``seq_len`` steps (the task's default when None).

        Generated tasks never repeat a sequence, so ``held_out`` only matters
        for text read from a corpus (charlm), whose last tenth is kept for it.
        """
        T = self.check_len(seq_len)
        return self._batch(rng, batch_size, T)

    def _batch(self, rng, B, T) -> Batch:
        raise NotImplementedError

    def check_len(self, seq_len: int | None) -> int:
        T = self.seq_len if seq_len is None else seq_len
        if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not self.min_len <= T <= self.max_len:
            raise CellsError(f"seq_len: got {T!r}; the {self.name} task takes an integer from {self.min_len} to {self.max_len}")
        return int(T)

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        return np.eye(len(self.tokens))[ids]

    def encode(self, text: str) -> np.ndarray:
        """An example string (as in the card's ``example``) as model inputs, (T, input_size).

        Text is read character by character; numbers as "0.5, -1, 2" (one per
        step) for one input, or as rows "1 0; 0 1" (one row per step) for several.
        """
        if self.input_type == "text":
            index = {t: i for i, t in enumerate(self.tokens)}
            bad = sorted({ch for ch in text if ch not in index})
            if bad:
                raise CellsError(f"input: characters not in the {self.name} vocabulary: {''.join(bad)!r}")
            return self.one_hot(np.array([index[ch] for ch in text], dtype=np.int64))
        rows = [r for r in text.split(";") if r.strip()] if self.input_size > 1 else [v for v in re.split(r"[,;\s]+", text) if v]
        try:
            values = [[float(v) for v in re.split(r"[,\s]+", r.strip()) if v] for r in rows]
        except ValueError as e:
            raise CellsError(f"input: not a list of numbers ({e})") from None
        if not values or any(len(row) != self.input_size for row in values):
            raise CellsError(f"input: expected rows of {self.input_size} number(s) each, separated by ';'")
        return np.array(values, dtype=np.float64)

    # -- scoring ---------------------------------------------------------
    def loss(self, outputs: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        """The mean loss over the counted steps, and its gradient w.r.t. ``outputs`` (logits or predictions)."""
        m = batch.mask
        n = max(int(m.sum()), 1)
        if self.output == "classes":
            z = outputs - outputs.max(axis=-1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))                 # log softmax
            picked = np.take_along_axis(logp, batch.targets[..., None], axis=-1)[..., 0]
            loss = -(picked * m).sum() / n                                           # cross-entropy
            grad = np.exp(logp)
            np.put_along_axis(grad, batch.targets[..., None], np.take_along_axis(grad, batch.targets[..., None], -1) - 1.0, -1)
            return float(loss), grad * (m[..., None] / n)                            # (softmax - one-hot) / n
        err = (outputs - batch.targets) * m[..., None]
        k = outputs.shape[-1]
        return float((err ** 2).sum() / (n * k)), 2.0 * err / (n * k)                  # mean squared error

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        m = batch.mask
        if self.output == "classes":
            right = outputs.argmax(axis=-1) == batch.targets
        else:
            right = (np.abs(outputs - batch.targets) < self.tolerance).all(axis=-1)
        return float((right & m).sum() / max(int(m.sum()), 1))

    def evaluated_on(self, sequences: int, lengths: list[int]) -> tuple[str, str]:
        """What a model card's accuracy was measured on, in English and in Chinese: "512 fresh sequences, length 50"."""
        lo, hi = lengths
        held = self.name == "charlm"  # read from the held-out tenth of the text
        en = f"{sequences} fresh sequences{' of held-out text' if held else ''}, " + (f"length {hi}" if lo == hi else f"lengths {lo} to {hi}")
        zh = f"{sequences} 条{'留出文本的' if held else '新生成的'}序列，" + (f"长度 {hi}" if lo == hi else f"长度 {lo} 到 {hi}")
        return en, zh

    def describe(self) -> dict:
        return {
            "name": self.name, "title": self.title, "description": self.description, "zh": dict(self.zh),
            "input_type": self.input_type, "input_size": self.input_size,
            "tokens": list(self.tokens) if self.tokens else None,
            "output": self.output, "head": "softmax" if self.output == "classes" else "linear",
            "labels": list(self.labels), "accuracy_rule": self.accuracy_rule,
            "seq_len": self.seq_len, "min_len": self.min_len, "max_len": self.max_len, "example": self.example,
        }


class Remember(Task):
    name = "remember"
    title = "Remember the first symbol"
    description = ("A string of the letters A, B, C and D ends in '?'; at the '?' the model must name the FIRST letter. "
                   "Every later letter is a distractor of the same kind, so the cell must store the first letter once "
                   "and then keep it, against everything written after it, until the end. The model card says how "
                   "the trained model's gates do it.")
    input_type = "text"
    accuracy_rule = "fraction of sequences whose answer at the final '?' is the first letter"
    zh = {"title": "记住第一个符号",
          "description": "一串由字母 A、B、C、D 组成的字符串以“?”结尾；在“?”处模型必须说出第一个字母。后面的每个字母都是同类的"
                         "干扰项，所以细胞必须把第一个字母存一次，然后一直保持到结尾，不被之后写入的任何内容改掉。模型卡说明"
                         "训练好的模型的门是怎样做到的。",
          "accuracy_rule": "在最后的“?”处答出第一个字母的序列所占的比例"}
    seq_len, min_len, max_len = 24, 2, 400
    vary_length = True
    tokens = ("A", "B", "C", "D", "?")
    labels = ("A", "B", "C", "D")
    input_size = len(tokens)
    example = "CADBBCADACBDBADCCA?"

    def _batch(self, rng, B, T):
        ids = rng.integers(0, 4, (B, T))               # letters; the first is the one to remember
        ids[:, -1] = 4                                 # the query '?'
        first = ids[:, 0].copy()
        targets = np.zeros((B, T), np.int64)
        targets[:, -1] = first
        mask = np.zeros((B, T), bool)
        mask[:, -1] = True
        return Batch(self.one_hot(ids), targets, mask, ids, {"first": first})


class Brackets(Task):
    name = "brackets"
    title = "Count bracket depth"
    description = ("A string of '(' and ')' with 'x' fillers, never closing more than it opened and never deeper than 8. "
                   "After every character the model says how deep the brackets are: a counter that the LSTM's "
                   "cell state can hold directly, adding for '(' and subtracting for ')'.")
    input_type = "text"
    accuracy_rule = "fraction of characters after which the predicted depth is the true depth"
    zh = {"title": "数括号深度",
          "description": "由“(”和“)”组成、夹着填充字符“x”的字符串，闭合的括号从不多于已打开的，深度从不超过 8。每读一个字符，"
                         "模型都要说出括号有多深：这是一个 LSTM 的细胞状态可以直接存放的计数器，遇到“(”加一，遇到“)”减一。",
          "accuracy_rule": "读完后预测深度等于真实深度的字符所占的比例"}
    seq_len, min_len, max_len = 80, 1, 400
    vary_length = True
    max_depth = 8
    tokens = ("(", ")", "x")
    labels = tuple(str(d) for d in range(max_depth + 1))
    input_size = len(tokens)
    example = "xxx((x(x))((()))x)xx(()(())x)xx((()(((x((x)x))())x()((((x(x)"   # 60 characters, depths 0 to 8

    def _batch(self, rng, B, T):
        ids = np.empty((B, T), np.int64)
        depth = np.zeros((B, T), np.int64)
        d = np.zeros(B, np.int64)
        u = rng.random((B, T))
        for t in range(T):
            # '(' with probability 0.4, ')' 0.4, 'x' 0.2; a bracket that would leave [0, max_depth] becomes 'x'
            tok = np.where(u[:, t] < 0.4, 0, np.where(u[:, t] < 0.8, 1, 2))
            tok[(tok == 0) & (d == self.max_depth)] = 2
            tok[(tok == 1) & (d == 0)] = 2
            d = d + (tok == 0) - (tok == 1)
            ids[:, t], depth[:, t] = tok, d
        return Batch(self.one_hot(ids), depth, np.ones((B, T), bool), ids, {"depth": depth})


class CharLM(Task):
    name = "charlm"
    title = "Character-level language model"
    description = ("Read Jane Austen's Pride and Prejudice (chapters 1-20, public domain; lowercased, whitespace "
                   "collapsed) one character at a time and predict the next one. The last tenth of the text is held "
                   "out; the accuracy is measured there.")
    input_type = "text"
    accuracy_rule = "fraction of characters of held-out text whose most likely prediction is the true next character"
    zh = {"title": "字符级语言模型",
          "description": "逐个字符地读简·奥斯汀的《傲慢与偏见》（第 1-20 章，公有领域；转为小写，合并空白），并预测下一个字符。"
                         "文本的最后十分之一留出不用于训练，准确率在这部分上测量。",
          "accuracy_rule": "留出文本中，最可能的预测正是真实下一个字符的字符所占的比例"}
    seq_len, min_len, max_len = 64, 2, 1000
    tokens = tuple(" abcdefghijklmnopqrstuvwxyz.,;:!?'\"-")
    labels = tokens
    input_size = len(tokens)
    example = ("it is a truth universally acknowledged, that a single man in possession of a good fortune, "
               "must be in want of a wife.")
    source = DATA / "pride_and_prejudice_1-20.txt"

    @cached_property
    def text(self) -> str:
        raw = self.source.read_text(encoding="utf-8").lower().replace("_", "")
        raw = re.sub(r"[^" + re.escape("".join(self.tokens[1:])) + r"\s]", " ", raw)
        return re.sub(r"\s+", " ", raw).strip()

    @cached_property
    def ids(self) -> np.ndarray:
        index = {t: i for i, t in enumerate(self.tokens)}
        return np.array([index[ch] for ch in self.text], dtype=np.int64)

    @property
    def split(self) -> int:
        return int(len(self.ids) * 0.9)

    def batch(self, rng, batch_size, seq_len=None, *, held_out=False):
        T = self.check_len(seq_len)
        lo, hi = (self.split, len(self.ids)) if held_out else (0, self.split)
        starts = rng.integers(lo, hi - T - 1, batch_size)
        win = self.ids[starts[:, None] + np.arange(T + 1)]                    # T + 1 characters per row
        return Batch(self.one_hot(win[:, :-1]), win[:, 1:], np.ones((batch_size, T), bool), win[:, :-1])


class Sine(Task):
    name = "sine"
    title = "Next value of a noisy sum of sines"
    description = ("x(t) = a1 sin(w1 t + p1) + a2 sin(w2 t + p2) + noise (standard deviation 0.05), with amplitudes, "
                   "frequencies and phases drawn afresh for each sequence. After each value the model predicts the next "
                   "noise-free value; the first 5 steps, before it can know the frequencies, are not scored.")
    output = "regression"
    tolerance = 0.1
    accuracy_rule = "fraction of scored steps (t >= 5) whose prediction is within 0.1 of the next noise-free value"
    zh = {"title": "带噪正弦和的下一个值",
          "description": "x(t) = a1 sin(w1 t + p1) + a2 sin(w2 t + p2) + 噪声（标准差 0.05），每条序列的振幅、频率和相位都重新抽取。"
                         "每读一个值，模型预测下一个无噪声的值；前 5 步模型还无从知道频率，不计分。",
          "accuracy_rule": "计分的步（t >= 5）中，预测与下一个无噪声值相差不到 0.1 的步所占的比例"}
    seq_len, min_len, max_len = 50, 6, 1000
    labels = ("next value",)
    input_size = 1
    noise, warmup = 0.05, 5
    example = ", ".join(f"{v:.2f}" for v in 0.8 * np.sin(0.3 * np.arange(24)) + 0.3 * np.sin(0.55 * np.arange(24) + 1.0))

    def _batch(self, rng, B, T):
        t = np.arange(T + 1)
        amp = np.stack([rng.uniform(0.5, 1.0, B), rng.uniform(0.0, 0.5, B)], axis=1)
        freq = rng.uniform(0.1, 0.6, (B, 2))
        phase = rng.uniform(0, 2 * np.pi, (B, 2))
        clean = (amp[:, :, None] * np.sin(freq[:, :, None] * t + phase[:, :, None])).sum(axis=1)   # (B, T + 1)
        noisy = clean[:, :T] + self.noise * rng.standard_normal((B, T))
        mask = np.zeros((B, T), bool)
        mask[:, self.warmup:] = True
        return Batch(noisy[..., None], clean[:, 1:, None], mask, extra={"clean": clean[:, :T], "freq": freq})


class Adding(Task):
    name = "adding"
    title = "The adding problem"
    description = ("Each step brings a pair (value, marker): values uniform in [0, 1], markers 0 except at two steps, "
                   "one in each half of the sequence. At the last step the model must output the sum of the two marked "
                   "values (Hochreiter & Schmidhuber 1997, experiment 4, as posed by Le et al. 2015). Always answering "
                   "1 scores a mean squared error of 1/6 = 0.167; the longer the sequence, the longer the gap to bridge.")
    output = "regression"
    tolerance = 0.04
    accuracy_rule = "fraction of sequences whose answer is within 0.04 of the true sum (Hochreiter & Schmidhuber's criterion)"
    zh = {"title": "加法问题",
          "description": "每一步给出一对（数值，标记）：数值在 [0, 1] 上均匀分布，标记除两步外都是 0，这两步在序列的前后两半各有一个。"
                         "在最后一步，模型必须输出两个被标记的数值之和（Hochreiter & Schmidhuber 1997 的实验 4，按 Le 等人 2015 "
                         "的提法）。总是回答 1 的均方误差为 1/6 = 0.167；序列越长，要跨越的间隔就越长。",
          "accuracy_rule": "答案与真实的和相差不到 0.04 的序列所占的比例（Hochreiter & Schmidhuber 的标准）"}
    seq_len, min_len, max_len = 50, 4, 2000
    labels = ("sum",)
    input_size = 2
    baseline_mse = 1.0 / 6.0
    example = ""   # set below: 50 steps from the generator (seed 3), two decimals

    def _batch(self, rng, B, T):
        values = rng.uniform(0.0, 1.0, (B, T))
        first = rng.integers(0, T // 2, B)                # one marker in each half
        second = rng.integers(T // 2, T, B)
        markers = np.zeros((B, T))
        markers[np.arange(B), first] = 1.0
        markers[np.arange(B), second] = 1.0
        target = np.zeros((B, T, 1))
        target[:, -1, 0] = (values * markers).sum(axis=1)
        mask = np.zeros((B, T), bool)
        mask[:, -1] = True
        return Batch(np.stack([values, markers], axis=-1), target, mask, extra={"markers": markers})


Adding.example = "; ".join(f"{v:.2f} {int(m)}" for v, m in Adding()._batch(np.random.default_rng(3), 1, 50).inputs[0])

TASKS: dict[str, Task] = {t.name: t for t in (Remember(), Brackets(), CharLM(), Sine(), Adding())}


def get(name: object) -> Task:
    if not isinstance(name, str) or name not in TASKS:
        raise CellsError(f"task: unknown task {name!r}; expected one of: {', '.join(TASKS)}")
    return TASKS[name]


__all__ = ["Batch", "Task", "TASKS", "get"]
