"""Model cards name their units as data: ``card["units"]``, the units the notes talk about, the most telling first.

The page draws a preset's units from that field (it once read them out of the notes' prose with a regex), so
the field must say what the notes say: every unit it lists is one the notes name, every unit the notes name is
listed, and each is a unit the model has.
"""

from __future__ import annotations

import re

import pytest

from cells.presets import list_presets, load_preset
from cells.training import TASKS, train
from cells.training.notes import card_notes

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


@pytest.mark.parametrize("name", ["remember-lstm", "brackets-gru", "charlm-lstm", "sine-rnn", "adding-lstm"])
def test_shipped_units_are_measured_on_the_weights(name):
    """What `make_presets --cards` wrote is what the analysis finds on the bundle's own weights today."""
    model = load_preset(name)
    notes, units = card_notes(model, TASKS[model.card["task"]])
    assert (notes, units) == (model.card["notes"], model.card["units"])


def test_a_freshly_trained_card_has_its_units():
    run = train("gru", "adding", hidden_size=4, steps=15, batch_size=8, seed=3, eval_sequences=32)
    card = run.model.card
    assert card["units"] and all(0 <= u < 4 for u in card["units"])
    assert set(card["units"]) == set(named_in(card["notes"]))
