"""Chinese wherever lang=zh is set (issue 17): walking the page, its menus, dialogs, hover and lessons, /compare and
/embed in Chinese finds no English word outside what stays English by design: names (LSTM, PyTorch, gatescope),
symbols and equations, keys, file formats, the input and its tokens, and the server's own error messages."""

from __future__ import annotations

import re

import pytest

from gatescope import cells

# words that are the same in a Chinese page: names (the kinds' among them), formats, keys, units of the signal syntax,
# symbols' letters
KEEP = {
    "gatescope", *cells.KINDS, "elman", "pytorch", "keras",
    "tensorflow", "cudnn", "katex", "plotly", "gif", "png", "svg", "csv", "npz", "webm", "mp4", "json", "html", "url", "api",
    "pagedown", "pageup", "shift", "home", "end", "enter", "escape", "space", "tab", "tanh", "relu", "pre", "max", "min",
    "sine", "step", "impulse", "noise", "period", "scale", "hochreiter", "schmidhuber", "gers", "cho", "colah", "greff", "cummins", "feng",
    "post", "get", "english", "kept", "written", "null",  # symbols of the equations (kept(t) = f(t) ⊙ c(t−1)), one vocabulary in every language
}
# what a page shows that is not its own words: code, keys, math, the input and its tokens, the diagram's symbols
SKIP = ("code, kbd, .katex, .lesson-math, .prose-math, .tokens, input, textarea, .diagram-svg text[data-part=label], "
        ".diagram-svg text[data-part=symbol], .diagram-svg text[data-part=note], .message .problem, .caption, .equations, .xtick, .ytick, "
        ".step-label, .replay-example, [data-train=example], .lesson-title, .clamp-badge, [data-control=clamp], [data-control=input]")

WORDS = """(skip) => {
  const out = [];
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || el.closest('script, style, [hidden], [aria-hidden=true]') || !visible(el)) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
    if (el.closest(skip) || el.closest('[hidden]')) continue;
    for (const a of ['title', 'aria-label', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  return out;
}"""


def english(texts: list[str], allowed: set[str] = frozenset()) -> list[str]:
    """The texts that hold an English word (three letters or more, not a name or a term kept as it is)."""
    keep = KEEP | {w.lower() for w in allowed}
    found = []
    for text in texts:
        bare = re.sub(r"[\w:./]*[/=][\w:./=,-]*", " ", text)  # a path, a URL or a parameter (clamp=forget:1) is code
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", bare) if w.lower() not in keep and "_" not in w]  # f_pre: a symbol
        if words:
            found.append(f"{text[:80]!r}: {words[:4]}")
    return sorted(set(found))


def check(tab, where: str, allowed: set[str] = frozenset()) -> None:
    found = english(tab.js(WORDS, SKIP), allowed)
    assert not found, f"{where}: English on a Chinese page: {found}"


def presets(api) -> set[str]:
    status, body = api("/api/presets")
    return {w for p in body for w in re.findall(r"[A-Za-z]+", p["name"])}


def test_the_page_its_menus_dialogs_and_hover_are_chinese(tab, api):
    allowed = presets(api)
    tab.open("/?lang=zh")
    assert tab.js("document.documentElement.lang") == "zh-Hans"
    check(tab, "the page", allowed)
    for control in ("hidden", "clamp", "copy-link", "presenter"):  # Model, What if, Export, View
        tab.menu(control)
        check(tab, f"the menu of {control}", allowed)
        tab.page.keyboard.press("Escape")
    tab.js("""(() => { const cell = document.querySelector('#diagram .strip .cell');
        cell.dispatchEvent(new PointerEvent('pointerover', { bubbles: true })); })()""")
    assert tab.js("!document.querySelector('#diagram .diagram-tip').hidden")
    check(tab, "the diagram's hover", allowed)
    tab.press("?")
    check(tab, "the shortcuts", allowed)
    tab.page.keyboard.press("Escape")
    tab.menu("train-open")
    tab.page.click('[data-control="train-open"]')
    tab.until("document.getElementById('train-dialog').open")
    check(tab, "the training dialog", allowed)
    tab.page.keyboard.press("Escape")
    tab.menu("export-gif")
    tab.page.click('[data-control="export-gif"]')
    tab.until("document.getElementById('animation-dialog').open")
    check(tab, "the animation dialog", allowed)


def test_every_stop_of_the_lstm_lesson_and_the_list_are_chinese(tab, api):
    allowed = presets(api)
    tab.open("/lesson?lang=zh", ready=False)
    check(tab, "the lessons' list", allowed)
    status, lesson = api("/api/lessons/lstm")
    tab.open("/lesson/lstm?lang=zh")
    for stop in range(1, len(lesson["stops"]) + 1):
        if stop > 1:
            tab.press("PageDown")
            tab.until(f"document.body.dataset.stop === '{stop}' && document.body.dataset.ready", what=f"stop {stop}")
        check(tab, f"stop {stop}", allowed)


@pytest.mark.parametrize("path", ["/compare?lang=zh", "/embed?preset=remember-gru&lang=zh", "/?preset=charlm-lstm&lang=zh&clamp=forget:1&clamp_view=difference"])
def test_compare_embed_and_a_held_run_are_chinese(tab, api, path):
    tab.open(path)
    check(tab, path, presets(api))


def test_a_refused_page_offers_its_way_out_in_chinese(tab, api):
    tab.open("/?lang=zh&input=the+cat+sat", ready=False)
    tab.until("document.querySelector('#message button')", what="the offer")
    assert re.search(r"[\u4e00-\u9fff]", tab.js("document.querySelector('#message button').textContent"))
    check(tab, "the refused page", presets(api))
