"""Words (issue 10): the prediction panel says what the head predicts, every caption numbers steps the same way,
the permalink keeps the phase, and exports are named after the view and captioned."""

import re
import struct
import xml.etree.ElementTree as ET  # noqa: N817 (the SVG the page itself wrote)
from pathlib import Path

import pytest

CAPTION = "document.querySelector('.predictions-panel .chart-caption').textContent"


@pytest.mark.parametrize("preset,title", [
    ("brackets-lstm", "Count bracket depth (0 … 8), after reading t = 3"),
    ("remember-gru", "Remember the first symbol (A, B, C, D), after reading t = 3"),
    ("charlm-lstm", "next character, as the model predicts it, after reading t = 3"),
    ("sine-lstm", "Next value of a noisy sum of sines at t = 3: "),
])
def test_the_prediction_panel_says_what_the_head_predicts(tab, preset, title):
    tab.open(f"/?preset={preset}&step=3")
    tab.until(f"{CAPTION}.startsWith({title!r})", what=f"the caption {title!r} (got {tab.js(CAPTION)!r})")
    assert "next token" not in tab.js(CAPTION)


def test_one_step_numbering_in_every_caption_player_and_panel(tab):
    tab.open("/?preset=charlm-lstm&step=12&phases=false")
    texts = tab.js("""[document.getElementById('caption').textContent,
        document.querySelector('[data-control="step"]').textContent,
        document.querySelector('.predictions-panel .chart-caption').textContent,
        document.querySelector('#tokens .token.current').title]""")
    for text in texts:
        assert "t = 12" in text, texts
        assert not re.search(r"step 1[23]\b|after step", text), texts


def test_the_permalink_keeps_the_phase(tab, tab_factory):
    tab.open("/?kind=lstm&input=hello&step=2")
    tab.press("ArrowDown", 2)
    phase = tab.phase
    assert phase
    tab.until(f"location.search.includes('phase={phase}')", what="the phase in the URL")
    again = tab_factory("-reopened").open(tab.page.url.replace(tab.base, ""))
    assert (again.step, again.phase) == (2, phase)


def test_a_phase_the_kind_lacks_opens_the_whole_step(tab):
    tab.open("/?kind=gru&input=hello&step=1&phase=forget")  # the LSTM's word, not the GRU's
    assert tab.step == 1 and tab.phase == ""


def test_exports_are_named_after_the_view_and_the_png_has_its_caption(tab):
    tab.open("/?preset=adding-lstm&step=12")
    tab.page.click("details.menu summary:has-text('Export')")
    with tab.page.expect_download() as png:
        tab.page.click('[data-control="export-png"]')
    name = png.value.suggested_filename
    assert re.fullmatch(r"gatescope-adding-lstm-0\.09-0-0\.24-0-0-step12\.png", name), name
    path = Path(png.value.path())
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not tab.js("document.querySelector('details.menu').open")  # a choice closes the menu
    tab.page.click("details.menu summary:has-text('Export')")
    with tab.page.expect_download() as csv:
        tab.page.click('[data-control="export-csv"]')
    assert csv.value.suggested_filename == name.replace(".png", ".csv")
    assert Path(csv.value.path()).read_text().startswith("step,token,name,unit,value")


def test_the_png_and_svg_carry_the_caption_and_the_diagram_as_drawn(tab):
    tab.open("/?preset=remember-lstm&step=4")
    drawn = tab.js("""(() => { const svg = document.querySelector('#diagram svg');
      return { width: Number(svg.getAttribute('width')), height: Number(svg.getAttribute('height')),
               fills: Array.from(svg.querySelectorAll('.cell'), (c) => c.getAttribute('fill')) }; })()""")
    downloads = {}
    for fmt in ("svg", "png"):
        tab.page.click("details.menu summary:has-text('Export')")
        with tab.page.expect_download() as file:
            tab.page.click(f'[data-control="export-{fmt}"]')
        assert file.value.suggested_filename.endswith(f"-step4.{fmt}")
        downloads[fmt] = Path(file.value.path()).read_bytes()
    svg = ET.fromstring(downloads["svg"])
    caption = " ".join(t.text or "" for t in svg.findall("{http://www.w3.org/2000/svg}text"))
    assert "Remember the first symbol" in caption and "t = 4" in caption and "CADBBCADACBDBADCCA?" in caption
    cells = [r.get("fill") for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "cell"]
    assert cells == drawn["fills"]  # the step shown, colour for colour
    png = downloads["png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR: the diagram and its caption, at twice the pixels
    assert width == 2 * drawn["width"] and height > 2 * drawn["height"] + 100
