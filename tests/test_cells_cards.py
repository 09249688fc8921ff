"""Model cards name their units as data: ``card["units"]``, the units the notes talk about, the most telling first.

The page draws a preset's units from that field (it once read them out of the notes' prose with a regex), so
the field must say what the notes say: every unit it lists is one the notes name, every unit the notes name is
listed, and each is a unit the model has. The card's words come in Chinese too (``card["zh"]``), its notes written by
the same functions from the same measurements: the same numbers, the same units.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from test_cells_zh import CJK, NUMBER, english_words

from gatescope.cells.presets import list_presets, load_preset
from gatescope.cells.training import TASKS, evaluate, train
from gatescope.cells.training.notes import card_notes, card_zh

PRESETS = [p["name"] for p in list_presets()]


def named_in(notes: str) -> list[int]:
    """The units the prose names ("Unit 3's cell state", "unit 38 tracks spaces", "the closest, unit 20"), in order."""
    return [int(m) for m in re.findall(r"\b[Uu]nit (\d+)\b", notes)]


@pytest.mark.parametrize("name", PRESETS)
def test_every_shipped_card_lists_the_units_its_notes_name(name):
    model = load_preset(name)
    card = model.card
    units = card["units"]
    assert units and all(type(u) is int for u in units), units
    assert all(0 <= u < model.hidden_size for u in units), (units, model.hidden_size)
    assert len(set(units)) == len(units), units
    assert set(units) == set(named_in(card["notes"])), (units, card["notes"])


def test_the_units_come_first_that_carry_the_variable():
    """charlm's notes name a unit per feature; one that tracks none ('the closest, unit u') comes after those that do."""
    for name in (p for p in PRESETS if p.startswith("charlm-")):
        card = load_preset(name).card
        strong = [int(u) for u in re.findall(r"\bunit (\d+) tracks", card["notes"])]
        assert card["units"][:len(strong)] == list(dict.fromkeys(strong)), (name, card["units"], card["notes"])
    sine = load_preset("sine-lstm").card
    assert sine["units"] == list(dict.fromkeys(named_in(sine["notes"])))  # value, then slope: the notes' order


def assert_same_numbers_in_chinese(card: dict) -> None:
    """The card's Chinese notes quote exactly the English notes' numbers (a multiset: each as often) and name its units."""
    zh = card["zh"]
    assert Counter(re.findall(NUMBER, zh["notes"])) == Counter(re.findall(NUMBER, card["notes"])), (card["notes"], zh["notes"])
    assert set(int(u) for u in re.findall(r"单元 (\d+)", zh["notes"])) == set(card["units"]), zh["notes"]


@pytest.mark.parametrize("name", PRESETS)
def test_every_shipped_card_has_its_words_in_chinese_with_the_same_numbers(name):
    card = load_preset(name).card
    for field in ("title", "task_title", "description", "accuracy_rule", "evaluated_on", "loss_kind", "notes"):
        assert CJK.search(card["zh"][field]) and not english_words(card["zh"][field]), (field, card["zh"][field])
    for field in ("evaluated_on", "accuracy_rule", "description"):
        assert Counter(re.findall(NUMBER, card["zh"][field])) == Counter(re.findall(NUMBER, card[field])), field
    assert card["zh"]["title"].endswith(" · " + card["zh"]["task_title"])  # what the page composes a model's name from
    assert_same_numbers_in_chinese(card)


@pytest.mark.parametrize("name", PRESETS)
def test_shipped_notes_and_units_are_measured_on_the_weights(name):
    """What `make_presets --cards` wrote, in both languages, is what the analysis finds on the bundle's own weights
    today, and what the accuracy was measured on is what the trainer's evaluation counts."""
    model = load_preset(name)
    card, task = model.card, TASKS[model.card["task"]]
    notes = card_notes(model, task)
    assert (notes.text, notes.units) == (card["notes"], card["units"])
    evaluation = evaluate(model, task, sequences=512, seq_len=card["seq_len"], seed=[card["seed"], 3])
    evaluated_on, evaluated_on_zh = task.evaluated_on(evaluation["sequences"], evaluation["lengths"])
    assert evaluated_on == card["evaluated_on"] and evaluation["accuracy"] == pytest.approx(card["accuracy"], abs=0.005)
    assert card["zh"] == card_zh(model, task, evaluated_on_zh, notes.zh)


def test_a_freshly_trained_card_has_its_units_and_its_chinese():
    run = train("gru", "adding", hidden_size=4, steps=15, batch_size=8, seed=3, eval_sequences=32)
    card = run.model.card
    assert card["units"] and all(0 <= u < 4 for u in card["units"])
    assert set(card["units"]) == set(named_in(card["notes"]))
    assert card["zh"]["notes"] and card["zh"]["evaluated_on"] == "32 条新生成的序列，长度 50"
    assert_same_numbers_in_chinese(card)
