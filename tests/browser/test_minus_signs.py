"""Negative numbers the page prints as text read with a minus sign (U+2212), as its typeset equations do: the phase
panel's numbers lines, the model notes, the prediction caption, a step of numbers in the token strip. What a user
typed and what a machine reads (the input box, CSV) keep the hyphen-minus."""

import re

HYPHEN_NUMBER = re.compile(r"(^|[^\w.\-])-\.?\d")  # a hyphen used as a minus: "-0.45", not "adding-lstm" or "t-1"
TEXTS = """(() => ({
    notes: document.getElementById('model-notes').textContent,
    numbers: [...document.querySelectorAll('#phase dd')].map((e) => e.textContent),
    caption: document.querySelector('.predictions-panel .chart-caption')?.textContent ?? '',
    input: document.querySelector('[data-control="input"]').value,
}))()"""


def test_notes_numbers_and_captions_print_a_minus_sign(tab):
    tab.open("/?preset=sine-lstm&step=5&phases=false")  # its notes say r = -0.87; its states and outputs go negative
    tab.until("document.querySelectorAll('#phase dd').length > 0", what="the numbers lines")
    got = tab.js(TEXTS)
    for where in ("notes", "caption"):
        assert not HYPHEN_NUMBER.search(got[where]), (where, got[where])
    assert "r = −0.87" in got["notes"], got["notes"]
    assert not any(HYPHEN_NUMBER.search(line) for line in got["numbers"]), got["numbers"]
    negative = [line for line in got["numbers"] + [got["caption"]] if "−" in line]
    assert negative, got  # there is a negative number to show the sign on


def test_typed_numbers_keep_their_hyphen(tab):
    tab.open("/?kind=gru&input=0.5,-1,2&input_type=numbers&step=1&phases=false")
    got = tab.js(TEXTS)
    assert got["input"] == "0.5,-1,2", got  # what the user typed, as typed
    tokens = tab.js("[...document.querySelectorAll('#tokens .token')].map((s) => s.textContent)")
    assert tokens == ["0.5", "−1", "2"], tokens  # the steps it made, shown as numbers
    assert not any(HYPHEN_NUMBER.search(line) for line in got["numbers"]), got["numbers"]
