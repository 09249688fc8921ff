"""The engine's words in Chinese, beside the English (cells.spec, "two languages"): every kind under every option of
tests/cases.py has Chinese for its title, summary, options, every name's label (and the prose in its equation) and
every phase, with the same math as the English and no English sentence left in it; the tasks too, with the same
numbers; and a kind registered without Chinese still describes itself, in English.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from cases import CASES, IDS

from gatescope import cells
from gatescope.cells.spec import Glossary, Phase, prose_tex
from gatescope.cells.training import TASKS, train

CJK = re.compile(r"[\u4e00-\u9fff]")
SYMBOL = r"[A-Za-z]+\u0303?\(t(?:−1)?\)"  # a vector of step t as the prose writes it: f(t), c(t−1), c̃(t)
NUMBER = r"[+-]?\d+(?:\.\d+)?"
#: lower-case words that Chinese text keeps as they are: functions, JSON values, a name of the glossary, the paper's term,
#: and the options' names (code: "PyTorch 的 nonlinearity")
KEPT = {"tanh", "relu", "sin", "null", "false", "written", "vanilla"} | {o.name for k in cells.REGISTRY.values() for o in k.options}


def english_words(text: str) -> list[str]:
    """The lower-case English words of a text outside its math and its code (f(t), nn.LSTM, use_peepholes,
    tanh(c(t))): what is left of an English sentence. Names (PyTorch, Keras, LSTM, Elman) are capitalised."""
    text = re.sub(SYMBOL, " ", text)
    text = re.sub(r"\S*[_.(]\S*", " ", text)
    return [w for w in re.findall(r"\b[a-z]{3,}\b", text) if w not in KEPT]


def assert_chinese(zh: str, en: str, what: str) -> None:
    """``zh`` is Chinese (CJK characters, no English words left) when ``en`` has words; it keeps ``en``'s symbols."""
    assert CJK.search(zh), (what, zh)
    assert not english_words(zh), (what, zh, english_words(zh))
    assert Counter(re.findall(SYMBOL, zh)) == Counter(re.findall(SYMBOL, en)), (what, en, zh)


def math(latex: str) -> Counter:
    return Counter(latex.split("$")[1::2])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_word_a_kind_can_show_has_chinese(case):
    kind, opts = case
    d = cells.describe(kind, **opts)
    for field in ("title", "summary"):
        assert_chinese(d["zh"][field], d[field], f"{kind} {field}")
    for o in d["options"]:
        assert_chinese(o["zh"]["doc"], o["doc"], f"option {o['name']}")
    for n in d["glossary"]["names"]:
        assert_chinese(n["zh"]["label"], n["label"], n["name"])
        if re.search(r"[a-z]{2,} [a-z]{2,}", n["equation"]):  # prose in the equation ("x(t): the input vector at step t")
            assert_chinese(n["zh"]["equation"], n["equation"], f"{n['name']} equation")
        if "\\text{" in n["latex"]:  # a note set beside the math
            words = re.search(r"\\text\{(.*)\}", n["zh"]["latex"]).group(1)
            assert CJK.search(words) and n["zh"]["latex"].split("\\text{")[0] == n["latex"].split("\\text{")[0], n["zh"]
    for p in d["glossary"]["phases"]:
        assert_chinese(p["zh"]["title"], p["title"], f"phase {p['name']}")
        assert_chinese(p["zh"]["text"], p["text"], f"phase {p['name']}")
        assert p["zh"]["latex"] == prose_tex(p["zh"]["text"])
        assert math(p["zh"]["latex"]) == math(p["latex"]), (p["latex"], p["zh"]["latex"])
    words = {e["name"]: e["zh"] for e in d["equations"]}
    assert all(words[n["name"]] == {k: n["zh"][w] for w, k in (("equation", "text"), ("latex", "latex")) if w in n["zh"]}
               for n in d["glossary"]["names"] if n["name"] in words)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_memory_roles_name_their_gates_in_chinese(case):
    """The words the model cards' notes use (cells.training.notes) for the memory and the gates that keep and write it."""
    kind, opts = case
    memory = cells.describe(kind, **opts)["memory"]
    for word in ("what", "keep_sym", "write_sym"):
        if english_words(memory[word]):
            assert_chinese(memory["zh"][word], memory[word], word)
        elif memory[word]:  # math alone ("1 − z") reads the same in both
            assert memory["zh"][word] == memory[word]


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_has_its_words_in_chinese_with_the_same_numbers(task):
    t = TASKS[task]
    d = t.describe()
    for field in ("title", "description", "accuracy_rule"):
        assert_chinese(d["zh"][field], d[field], field)
        assert Counter(re.findall(NUMBER, d["zh"][field])) == Counter(re.findall(NUMBER, d[field])), (d[field], d["zh"][field])
    for lengths in ([50, 50], [12, 24]):
        en, zh = t.evaluated_on(512, lengths)
        assert CJK.search(zh) and Counter(re.findall(NUMBER, zh)) == Counter(re.findall(NUMBER, en)), (en, zh)


class Untranslated(type(cells.REGISTRY["rnn"])):
    """The rnn, as a user would register it: every word in English, none in Chinese."""

    name, zh = "untranslated_rnn", {}
    options = tuple(cells.Option(o.name, o.default, o.doc, o.type, o.choices) for o in type(cells.REGISTRY["rnn"]).options)

    def glossary(self, opts):
        g = super().glossary(opts)
        names = tuple(cells.Name(*(getattr(n, f) for f in ("name", "label", "symbol", "role", "range", "op", "operands",
                                                           "equation", "latex", "phase", "size"))) for n in g)
        return Glossary(names, tuple(Phase(p.name, p.title, p.text) for p in g.phases))

    def memory_roles(self, glossary):
        return {k: v for k, v in super().memory_roles(glossary).items() if k != "zh"}


def test_a_kind_without_chinese_describes_itself_and_its_cards_in_english():
    with cells.registered(Untranslated()) as kind:
        d = cells.describe(kind.name)
        assert d["zh"] == {} and all(o["zh"] == {} for o in d["options"])
        assert all(n["zh"] == {} for n in d["glossary"]["names"]) and all(p["zh"] == {} for p in d["glossary"]["phases"])
        rnn = _without_zh(cells.describe("rnn"))
        assert {k: v for k, v in d.items() if k not in ("name", "memory")} == {k: v for k, v in rnn.items() if k not in ("name", "memory")}
        assert "zh" not in d["memory"]
        card = train(kind.name, "adding", hidden_size=4, steps=3, batch_size=8, seed=3, eval_sequences=16).model.card
    assert card["zh"]["title"] == "Elman RNN · 加法问题"  # the kind's title in English, the task's in Chinese
    assert "hidden state" in card["zh"]["notes"] and CJK.search(card["zh"]["notes"])  # its memory's name, in English


def _without_zh(value):
    """A description with every zh emptied: what a kind without Chinese describes."""
    if isinstance(value, dict):
        return {k: ({} if k == "zh" else _without_zh(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_zh(v) for v in value]
    return value


def test_a_phase_is_one_declaration_in_two_languages():
    forget = cells.glossary("lstm").phases[1]
    assert (forget.name, forget.title, forget.zh["title"]) == ("forget", "Forget gate", "遗忘门")
    assert forget.latex == "$f_t$ decides how much of each unit of $c_{t-1}$ to keep."
    assert forget.zh["latex"] == "$f_t$ 决定 $c_{t-1}$ 的每个单元保留多少。"
    assert Phase("p", "Title", "Text of x(t).") == Phase("p", "Title", "Text of x(t).", {"title": "标题", "text": "x(t) 的文字。"})
