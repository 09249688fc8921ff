"""The header's controls: presenter mode, palettes, copying a link, uploading a model."""

from pathlib import Path

import numpy as np
import pytest

from gatescope import cells

HEATMAPS = "document.getElementById('heatmaps')"
MESSAGE = "document.getElementById('message')"


def toggle_view_menu(tab):
    tab.page.click("details.menu summary:has-text('View')")


def test_presenter_mode_enlarges_the_figures(tab):
    tab.open("/?kind=lstm&input=hello&step=1")
    sizes = ("[Number(document.querySelector('#diagram .legend').getAttribute('font-size')),"
             " Math.max(...Array.from(document.querySelectorAll('#diagram [data-part=wire]'), (w) => Number(w.getAttribute('stroke-width') ?? 0))),"
             f" {HEATMAPS}._fullLayout.font.size]")  # the diagram's legend text and thickest line, the heatmaps' font
    # (its labels are as large as their boxes at the diagram's scale allow, in either mode)
    before = tab.js(sizes)
    toggle_view_menu(tab)
    tab.page.check('[data-control="presenter"]')
    tab.until("document.body.classList.contains('presenter') && location.search.includes('presenter=true')", timeout=3,
              what="presenter mode in the page and the URL")
    after = tab.until(f"(b) => {sizes}[0] > b && {sizes}", before[0], timeout=3, what="larger fonts")
    assert after[0] >= before[0] * 1.4 and after[1] > before[1] and after[2] > before[2], (before, after)
    assert tab.step == 1 and len(tab.sockets) == 1  # the same run, drawn larger: no new stream
    toggle_view_menu(tab)  # closed again for the screenshot
    tab.shot()


def test_the_colorblind_palette_recolors_every_view(tab):
    tab.open("/?kind=lstm&input=hello&step=2")
    toggle_view_menu(tab)
    tab.page.select_option('[data-control="palette"]', "colorblind")
    tab.until("location.search.includes('palette=colorblind')", timeout=3, what="the palette in the URL")
    out = tab.js(f"""(async () => {{
        const {{ PALETTES }} = await import('/static/core/config.js');
        const {{ colorAt }} = await import('/static/core/colors.js');
        const h = {HEATMAPS}.data, trace = window.gatescope.trace;
        // each cell is painted on the palette's scale at its value (c on its own ±max, which its label states)
        const painted = (name, scale, m) => Array.from(document.querySelectorAll(`#diagram .strip[data-name=${{name}}] .cell`),
          (cell) => [cell.getAttribute('fill'), colorAt(Number(cell.dataset.value), scale, m ? -m : 0, m || 1)]);
        return {{ want: PALETTES.colorblind,
                  forget: painted('forget_gate', PALETTES.colorblind.unit, 0),
                  c: painted('c', PALETTES.colorblind.signed, Math.max(1, trace.maxAbs('c'))),
                  heat: Object.fromEntries(h.map((t) => [t.name, t.colorscale])),
                  layer: document.querySelector('#diagram rect[data-part=mark]').getAttribute('fill') }};
    }})()""")
    for name in ("forget", "c"):
        assert all(got == want for got, want in out[name]), (name, out[name])
    assert out["heat"]["forget_gate"] == out["want"]["unit"] and out["heat"]["c"] == out["want"]["signed"]
    assert out["layer"] == out["want"]["layer"]
    assert tab.step == 2 and len(tab.sockets) == 1
    toggle_view_menu(tab)
    tab.shot()


def deny_clipboard(tab):
    tab.page.add_init_script("""Object.defineProperty(Navigator.prototype, 'clipboard', { configurable: true, get: () => ({
        writeText: () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')) }) });""")


def test_an_old_link_follows_the_gate_it_named(tab):
    """focus=forget is how a permalink named the forget gate before gates were *_gate."""
    tab.open("/?kind=lstm&input=hello&focus=forget")
    assert tab.js("document.querySelector('[data-control=\"focus\"]').value") == "forget_gate"
    assert tab.js("document.getElementById('lines').layout.title.text").startswith("forget gate")
    assert tab.errors == [] and tab.console == []


@pytest.mark.parametrize("clipboard", ["allowed", "denied"])
def test_copy_link_gives_a_url_that_reproduces_the_view(tab_factory, clipboard):
    if clipboard == "allowed":
        tab = tab_factory(permissions=["clipboard-read", "clipboard-write"])
    else:
        tab = tab_factory()
        deny_clipboard(tab)
    tab.open("/?kind=mgu&input=copy%20me&hidden=5&palette=mono")
    tab.press("ArrowRight", 2)
    tab.menu("copy-link")
    tab.page.click('[data-control="copy-link"]')
    message = tab.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", timeout=3)
    if clipboard == "allowed":
        assert message == "Link copied."
        url = tab.js("navigator.clipboard.readText()")
        assert tab.js("document.querySelector('[data-control=\"copy-box\"]').hidden")
    else:
        assert "copy the link" in message.lower()
        box = '[data-control="copy-box"]'
        assert tab.page.is_visible(box)
        url = tab.page.input_value(box)
        assert tab.js(f"(b => b.selectionStart === 0 && b.selectionEnd === b.value.length)(document.querySelector('{box}'))")
    tab.shot()
    assert url.startswith(tab.base + "/?") and "step=2" in url and "palette=mono" in url, url
    assert url == tab.until("location.search.includes('step=2') && location.href", timeout=2)  # the page's own permalink
    if clipboard == "denied":
        return  # the same URL as the allowed case, which reopens it below
    before = tab.diagram_all()
    again = tab_factory("-reopened").open(url[len(tab.base):])
    assert again.step == 2
    assert again.js("window.gatescope.trace.header.model.kind") == "mgu"
    assert again.js("window.gatescope.state.palette") == "mono"
    after = again.diagram_all()
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=1e-6), name


def vocab_bundle(path):
    """A GRU with a vocabulary of the letters and space: it reads typed text."""
    weights = cells.build("gru", input_size=3, hidden_size=6, seed=5)
    letters = list("abcdefghijklmnopqrstuvwxyz ")
    model = cells.Model("gru", weights.params, input_size=3, hidden_size=6, vocab=cells.Vocab(letters),
                        embedding=np.random.default_rng(1).standard_normal((len(letters), 3)).astype("float32"))
    model.save(path)
    return model


def plain_bundle(path):
    """cells.build(...).save(): weights only, one number per step, no vocabulary."""
    model = cells.build("gru", input_size=1, hidden_size=5, seed=3)
    model.save(path)
    return model


@pytest.mark.parametrize("make", [vocab_bundle, plain_bundle], ids=["with-vocabulary", "weights-only"])
def test_uploading_a_model_switches_the_page_to_it(tab, api, tmp_path, make):
    path = tmp_path / "my-model.safetensors"
    model = make(path)
    status, described = api("/api/models", path.read_bytes())  # content-addressed: the page's upload gets the same id
    assert status == 201
    model_id = described["id"]
    tab.open("/?kind=lstm&input=abc")
    tab.page.set_input_files('[data-control="upload"]', str(path))
    tab.until("(id) => location.search.includes('model=' + id)", model_id, timeout=5, what="the model in the URL")
    tab.until(f"document.body.dataset.ready || ({MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden)", timeout=10)
    assert not tab.js(f"{MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden"), tab.js(f"{MESSAGE}.textContent")
    header = tab.js("window.gatescope.trace.header.model")
    assert (header["kind"], header["hidden_size"], header["input_size"]) == ("gru", model.hidden_size, model.input_size)
    assert tab.js("document.querySelector('[data-control=\"source\"]').value") == f"model:{model_id}"
    strip = "document.querySelector('#diagram .strip[data-name={}]')"
    assert tab.js(f"Boolean({strip.format('reset_gate')}) && !{strip.format('forget_gate')}")
    assert len(tab.diagram("h")) == model.hidden_size
    # what the page says about it
    problems = []
    title = tab.js("document.getElementById('model-title').textContent")
    if "random weights" in title:
        problems.append(f"the title calls the uploaded model random: {title!r}")
    shown = tab.js(f"{MESSAGE}.hidden ? '' : {MESSAGE}.textContent")
    if not shown.startswith(f"Loaded my-model.safetensors: gru, hidden {model.hidden_size}"):
        problems.append(f"the upload's confirmation is not shown (message box: {shown!r})")
    assert not problems, problems


def test_an_upload_the_file_cannot_place_asks_only_what_it_cannot_say(tab, tmp_path):
    """Several recurrent groups: the dialog lists each with the kinds it can be, and the chosen one loads."""
    path = tmp_path / "seq2seq.npz"
    np.savez(path, **{f"encoder.{k}": v for k, v in cells.build("gru", 3, 4, seed=1).to_arrays().items()},
             **{f"decoder.{k}": v for k, v in cells.build("rnn", 4, 6, seed=2).to_arrays().items()})
    tab.open("/?kind=lstm&input=abc")
    tab.page.set_input_files('[data-control="upload"]', str(path))
    tab.until("document.getElementById('upload-dialog').open", what="the upload dialog")
    groups = tab.js("[...document.querySelectorAll('[data-upload=\"group\"] option')].map((o) => [o.value, o.textContent])")
    assert groups[0] == ["decoder.", "decoder. — rnn"] and groups[1][0] == "encoder."
    assert groups[1][1].startswith("encoder. — gru (or cifg, ")  # the framework's own kind first, the variants after
    assert tab.js("document.querySelector('[data-upload=\"layout-row\"]').hidden")  # the names said the layout
    tab.shot("dialog")
    tab.page.select_option('[data-upload="group"]', "encoder.")
    kinds = tab.js("[...document.querySelectorAll('[data-upload=\"kind\"] option')].map((o) => o.value)")
    assert kinds[0] == "gru" and {"cifg", "nig"} <= set(kinds)  # the framework's own kind first, then the variants that fit
    tab.page.click('[data-upload="load"]')
    tab.until("!document.getElementById('upload-dialog').open && location.search.includes('model=')", what="the chosen group loaded")
    tab.ready()
    header = tab.js("window.gatescope.trace.header.model")
    assert (header["kind"], header["hidden_size"], header["input_size"]) == ("gru", 4, 3)


def test_a_keras_archive_uploads_from_the_page_with_its_vocabulary(tab):
    """model.save("m.keras") as the user saved it: the page reads it, its StringLookup vocabulary included."""
    path = Path(__file__).resolve().parents[1] / "keras_files" / "char_lstm.keras"
    tab.open("/?kind=lstm&input=abc")
    tab.page.set_input_files('[data-control="upload"]', str(path))
    tab.until("location.search.includes('model=')", what="the uploaded model in the URL")
    tab.ready()
    header = tab.js("window.gatescope.trace.header")
    assert header["model"]["kind"] == "lstm" and len(header["vocab"]) > 2 and header["prediction"]["head"] == "softmax", header
    assert tab.js(f"{MESSAGE}.textContent").startswith("Loaded char_lstm.keras: lstm, hidden")
