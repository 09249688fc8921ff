"""First contact (issue 10): the box says what the model takes; text typed at a numbers model is offered a text model;
an unknown character gets a visible choice; while an error stands the views say they are of the last valid input;
typing moves the view to the newest step and follows the text."""

import pytest

INPUT = '[data-control="input"]'
VIEWPORTS = [(1024, 768), (1280, 800), (1920, 1080)]
MESSAGE = "document.getElementById('message')"


def buttons(tab) -> list[str]:
    return tab.js(f"[...{MESSAGE}.querySelectorAll('button')].map((b) => b.textContent)")


def enter(tab, text: str) -> None:
    tab.page.fill(INPUT, text)
    tab.page.press(INPUT, "Enter")


def test_the_default_page_says_it_takes_numbers_and_gives_an_example(tab):
    tab.open("/")
    assert tab.js("window.gatescope.trace.header.request.input_type") == "numbers"
    placeholder = tab.page.get_attribute(INPUT, "placeholder")
    hint = tab.page.text_content('[data-control="input-hint"]')
    assert placeholder.startswith("e.g. 0.09 0; 0.24 0;"), placeholder  # the preset's own example, its first steps
    assert hint.startswith("Numbers: 2 numbers a step") and "character" not in hint, hint
    assert tab.page.get_attribute(INPUT, "aria-describedby") == "input-hint"
    assert tab.js("document.querySelector('[data-control=\"unknown-box\"]').hidden")  # numbers: no vocabulary


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_a_sentence_typed_at_the_numbers_model_is_offered_a_text_model(tab, width, height):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open("/")
    enter(tab, "The cat sat on the mat")
    tab.until(f"{MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden", what="the error")
    text = tab.js(f"{MESSAGE}.textContent")
    assert "'The' at step 0 is not a number" in text and "e.g. '0.5, -1, 2'" in text
    # the old views stay, marked as not current, naming the input they show
    assert tab.js("document.querySelector('.layout').classList.contains('stale')")
    assert "the last valid input, “0.09 0; 0.24 0;" in tab.js(f"{MESSAGE}.querySelector('.stale-note').textContent")
    assert tab.js("getComputedStyle(document.querySelector('.layout')).opacity") == "0.45"
    offer = [b for b in buttons(tab) if b.startswith("Open a text model")]
    assert offer and "charlm-" in offer[0], buttons(tab)
    tab.shot(f"-{width}x{height}")
    tab.page.click(f"#message button:has-text('{offer[0]}')")
    # the Pride and Prejudice model is lowercase: the capital is named, with the choices that fix it
    tab.until(f"{MESSAGE}.textContent.includes(\"'T' at 0\")", what="the unknown capital named")
    assert tab.js("window.gatescope.state.preset").startswith("charlm-")
    assert {"Skip the unknown characters", "Make it lowercase"} <= set(buttons(tab)), buttons(tab)
    assert not tab.js("document.querySelector('[data-control=\"unknown-box\"]').hidden")
    tab.page.click("#message button:has-text('Make it lowercase')")
    tab.ready()
    assert tab.js(f"{MESSAGE}.hidden") and not tab.js("document.querySelector('.layout').classList.contains('stale')")
    assert "".join(tab.js("window.gatescope.trace.tokens")) == "the cat sat on the mat"
    assert tab.step == 21  # typed text opens at its newest step
    assert "This model knows 36 characters: a–z space" in tab.page.text_content('[data-control="input-hint"]')


def test_unknown_characters_can_be_skipped_from_the_page(tab):
    tab.open("/?preset=charlm-lstm&input=the%20cat")
    # the one-line header keeps the choice out of the way until a character the vocabulary lacks is typed
    assert not tab.page.is_visible('[data-control="unknown"]')
    enter(tab, "The Cat")
    tab.until(f"{MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden", what="the error")
    tab.page.select_option('[data-control="unknown"]', "skip")
    tab.until("location.search.includes('unknown=skip')", what="the choice in the URL")
    tab.until("window.gatescope.trace.tokens.join('') === 'he at'", what="the capitals skipped")
    assert tab.js(f"{MESSAGE}.hidden")
    # no <unk> in this vocabulary: "map" is not offered
    assert tab.js("document.querySelector('[data-control=\"unknown\"] option[value=\"map\"]').hidden")


def test_a_capital_typed_later_is_counted_in_the_whole_input_and_marks_the_views(tab):
    tab.open("/?preset=charlm-lstm&input=the%20cat")
    tab.page.click(INPUT)
    tab.page.keyboard.press("End")
    tab.page.keyboard.type(" Sat", delay=60)
    tab.until(f"{MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden", what="the error")
    assert "'S' at 8" in tab.js(f"{MESSAGE}.textContent")  # "the cat Sat": S is character 8 of the input, not 1 of " Sat"
    assert tab.js("document.querySelector('.layout').classList.contains('stale')")
    shown = "".join(tab.js("window.gatescope.trace.tokens"))
    assert f"the last valid input, “{shown}”" in tab.js(f"{MESSAGE}.querySelector('.stale-note').textContent"), shown
    tab.page.keyboard.press("Backspace", delay=30)
    tab.page.keyboard.press("Backspace", delay=30)
    tab.page.keyboard.press("Backspace", delay=30)
    tab.page.keyboard.type("sat", delay=60)
    tab.until("window.gatescope.trace.tokens.join('') === 'the cat sat' && window.gatescope.ready", what="the fixed text")
    tab.until(f"{MESSAGE}.hidden && !document.querySelector('.layout').classList.contains('stale')", what="the error gone")


def test_typing_moves_the_view_to_the_newest_step_and_follows_it(tab):
    tab.open("/?preset=charlm-lstm&input=the")
    assert tab.step == 0
    tab.page.click(INPUT)
    tab.page.keyboard.press("End")
    for n, ch in enumerate(" cat", start=4):
        tab.page.keyboard.type(ch)
        tab.until(f"window.gatescope.trace.steps === {n} && document.body.dataset.step === '{n - 1}'",
                  what=f"the view at step {n - 1} after typing {ch!r}")
    assert tab.js("document.querySelector('#tokens .token.current').textContent") == "t"
    assert tab.js("document.getElementById('caption').textContent").startswith("t = 6")
    assert len(tab.sockets) == 1  # extended, not rerun


def test_asking_the_numbers_model_for_text_offers_a_text_model(tab):
    tab.open("/")
    tab.page.select_option('[data-control="input-type"]', "text")
    tab.until(f"{MESSAGE}.textContent.includes('reads no text')", what="the refusal")
    offer = [b for b in buttons(tab) if b.startswith("Open a text model")]
    assert offer, buttons(tab)
    tab.page.click(f"#message button:has-text('{offer[0]}')")
    tab.ready()
    assert tab.js("window.gatescope.trace.header.request.input_type") == "text" and tab.js(f"{MESSAGE}.hidden")
