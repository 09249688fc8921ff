"""Export → Animated GIF and Video (issue 12, item 1): the frames are the flow animation's own, under a caption;
a range past the run or a size over the limit is refused by name before a frame is drawn; a cancelled export
leaves nothing behind; the fast painter draws exactly what the captioned SVG draws."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def gif_frames(data: bytes) -> list[int]:
    """The delays (ms) of a GIF's frames, read block by block (GIF89a: header, screen, global table, blocks)."""
    assert data[:6] == b"GIF89a", data[:6]
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    delays, delay = [], 0
    while data[i] != 0x3B:  # the trailer
        if data[i] == 0x21:  # an extension: a graphic control one carries the next frame's delay
            if data[i + 1] == 0xF9:
                delay = int.from_bytes(data[i + 4:i + 6], "little") * 10
            i += 2
            while data[i]:
                i += data[i] + 1
            i += 1
        elif data[i] == 0x2C:  # an image: its descriptor, its local table, its LZW data in sub-blocks
            local = data[i + 9]
            i += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
            while data[i]:
                i += data[i] + 1
            i += 1
            delays.append(delay)
        else:
            raise AssertionError(f"unexpected GIF block {data[i]:#x} at {i}")
    return delays


def open_dialog(tab, fmt):
    tab.page.click("details.menu summary:has-text('Export')")
    tab.page.click(f'[data-control="export-{fmt}"]')


def test_a_gif_of_two_steps_holds_every_frame_of_their_phases(tab):
    tab.open("/?preset=remember-lstm&pace=fast&step=3")
    open_dialog(tab, "gif")
    assert (tab.js("document.querySelector('[data-anim=from]').value"), tab.js("document.querySelector('[data-anim=to]').value")) == ("3", "12")
    tab.page.fill('[data-anim="to"]', "4")
    tab.page.select_option('[data-anim="fps"]', "8")
    summary = tab.js("document.querySelector('[data-anim=summary]').textContent")
    phases = len(tab.js("window.gatescope.trace.header.kind_info.glossary.phases"))
    assert summary.startswith(f"{2 * phases * 4} frames") and "1280 × 720" in summary  # fast: 0.5 s a phase at 8 fps
    with tab.page.expect_download(timeout=60_000) as file:
        tab.page.click('[data-anim="start"]')
    assert file.value.suggested_filename == "gatescope-remember-lstm-cadbbcadacbdbadc-step3-4.gif"
    data = Path(file.value.path()).read_bytes()
    (ARTIFACTS / "animation.gif").write_bytes(data)
    delays = gif_frames(data)
    assert len(delays) == 2 * phases * 4 and set(delays) <= {120, 130}  # 125 ms, in GIF's hundredths of a second
    assert int.from_bytes(data[6:8], "little") == 1280 and int.from_bytes(data[8:10], "little") == 720
    assert tab.js("document.querySelectorAll('.export-host').length") == 0


@pytest.mark.parametrize("field,value,words", [
    ("from", "40", "from: step 40 is not in the run (steps 0 to 18)"),
    ("to", "99", "to: step 99 is not in the run"),
])
def test_a_range_past_the_run_is_refused_by_name(tab, field, value, words):
    tab.open("/?preset=remember-lstm")
    open_dialog(tab, "gif")
    tab.page.fill(f'[data-anim="{field}"]', value)
    assert tab.js("document.querySelector('[data-anim=summary]').textContent").startswith(words)
    assert tab.js("document.querySelector('[data-anim=start]').disabled")


def test_too_many_frames_and_too_large_a_size_name_their_limits(tab):
    tab.open("/?preset=remember-lstm")
    out = tab.js("""async () => {
      const { problem } = await import('/static/controls/animation-export.js');
      const limits = { max_export_frames: 3000, max_export_pixels: 1920 * 1080 };
      return [problem({ from: 0, to: 9, steps: 19, frames: 4000, width: 1280, height: 720 }, limits),
              problem({ from: 0, to: 9, steps: 19, frames: 100, width: 3840, height: 2160 }, limits),
              problem({ from: 0, to: 9, steps: 19, frames: 100, width: 1920, height: 1080 }, limits)];
    }""")
    assert out[0].startswith("frames: 4000 frames, more than the limit 3000 (setting GATESCOPE_MAX_EXPORT_FRAMES)")
    assert out[1].startswith("size: 3840×2160 is more than the limit of 2073600 pixels (setting GATESCOPE_MAX_EXPORT_PIXELS)")
    assert out[2] is None


def test_a_cancelled_export_leaves_nothing_behind(tab):
    tab.open("/?preset=remember-lstm")
    downloads = []
    tab.page.on("download", lambda d: downloads.append(d))
    open_dialog(tab, "gif")
    tab.page.fill('[data-anim="to"]', "18")
    tab.page.click('[data-anim="start"]')
    tab.until("document.querySelector('[data-anim=progress]').value > 0", what="the export under way")
    tab.page.click('[data-anim="cancel"]')
    tab.until("document.querySelector('[data-anim=status]').textContent.startsWith('cancelled')", timeout=10, what="cancelled")
    assert downloads == [] and tab.js("document.querySelectorAll('.export-host').length") == 0
    assert not tab.js("document.querySelector('[data-anim=start]').disabled")  # ready for another


def test_the_fast_painter_draws_what_the_captioned_svg_draws(tab):
    tab.open("/?kind=gru&input=hello&hidden=8&pace=fast")
    out = tab.js("""async () => {
      const ex = await import('/static/controls/animation-export.js');
      const trace = window.gatescope.trace, header = trace.header, kindInfo = header.kind_info;
      const src = new ex.FrameSource({ kindInfo, header, options: window.gatescope.state, trace, width: 1280, height: 720 });
      const canvas = () => Object.assign(document.createElement('canvas'), { width: 1280, height: 720 })
        .getContext('2d', { willReadFrequently: true });
      const fast = canvas(), whole = canvas(), off = [];
      const frames = ex.frameList({ from: 1, to: 1, phases: true, phaseNames: kindInfo.glossary.phases.map((p) => p.name), pace: 'fast', fps: 8 });
      for (const f of frames) {
        const lines = ['GRU', `t = ${f.t} · ${f.phase}`, 'input: hello'];
        await src.paint(fast, f, lines);
        await src.paintWhole(whole, f, lines);
        const a = fast.getImageData(0, 0, 1280, 720).data, b = whole.getImageData(0, 0, 1280, 720).data;
        let n = 0;
        for (let i = 0; i < a.length; i += 4) if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 60) n++;
        off.push(n);
      }
      src.dispose();
      return off;
    }""")
    assert len(out) > 8 and max(out) < 50, out  # pixels that differ visibly, of 921,600 (glyph antialiasing at most)


def test_a_video_is_recorded_in_real_time(tab):
    tab.open("/?kind=lstm&input=hi&hidden=4&pace=fast")
    open_dialog(tab, "video")
    tab.page.fill('[data-anim="from"]', "0")
    tab.page.fill('[data-anim="to"]', "0")
    tab.page.select_option('[data-anim="fps"]', "8")
    with tab.page.expect_download(timeout=60_000) as file:
        tab.page.click('[data-anim="start"]')
    name = file.value.suggested_filename
    data = Path(file.value.path()).read_bytes()
    assert name.endswith((".webm", ".mp4")) and len(data) > 1000
    if name.endswith(".webm"):
        assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    status = tab.js("document.querySelector('[data-anim=status]').textContent")
    seconds = float(status.rsplit(" in ", 1)[1].rstrip(" s"))
    # 5 phases of 0.5 s: recorded in real time, it cannot take less than the time it shows (how much more, on a loaded
    # machine, is not the test's business)
    assert seconds > 2.3, status


def test_gif_delays_keep_the_true_time_at_every_frame_rate_offered(tab):
    """GIF delays are whole hundredths: at 12 fps a frame is 8⅓ of them. Each frame ends at the hundredth nearest its
    true end (8, 8, 9, …), so a phase lasts its pace, never 4% less; checked on the exported file, frame by frame."""
    tab.open("/?preset=remember-lstm&pace=fast&step=3")
    phases = len(tab.js("window.gatescope.trace.header.kind_info.glossary.phases"))
    offered = tab.js("[...document.querySelectorAll('[data-anim=fps] option')].map((o) => o.value)")
    assert offered
    for fps in offered:
        open_dialog(tab, "gif")
        tab.page.fill('[data-anim="to"]', "3")  # one step: its phases at the fast pace, 0.5 s each
        tab.page.select_option('[data-anim="fps"]', fps)
        with tab.page.expect_download(timeout=60_000) as file:
            tab.page.click('[data-anim="start"]')
        delays = [d // 10 for d in gif_frames(Path(file.value.path()).read_bytes())]  # hundredths of a second
        tab.until("document.getElementById('animation-dialog').dataset.done", what="the export done")
        tab.page.click('[data-anim="cancel"]')  # with no export running, it closes the dialog
        tab.until("!document.getElementById('animation-dialog').open", what="the dialog closed")
        frame = Fraction(phases * 50, len(delays))  # hundredths: the frames split the phases' time evenly
        ends = [sum(delays[:k + 1]) for k in range(len(delays))]
        off = [float(end - frame * (k + 1)) for k, end in enumerate(ends)]
        assert max(map(abs, off)) <= 0.5, (fps, delays, off)  # every frame ends within half a hundredth of its time
        assert ends[-1] == phases * 50 and min(delays) >= 2, (fps, delays)
