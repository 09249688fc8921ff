"""The lesson page: PageDown / → move on and the URL keeps the stop, PageUp / ← go back, Shift+→ steps time,
lang=zh shows Chinese, the progress indicator and the "try this"."""

import json
import re
import time


def stop_shown(tab, n: int, step: int) -> None:
    tab.until("([n, t]) => document.body.dataset.stop === String(n) && document.body.dataset.step === String(t)"
              " && location.search.includes(`stop=${n}`)", [n, step], what=f"stop {n} at step {t}" if (t := step) is not None else "")


def test_a_lesson_advances_with_pagedown_and_keeps_its_stop_in_the_url(tab):
    tab.open("/lesson/lstm?stop=3")
    stop_shown(tab, 3, 8)
    assert tab.js("document.querySelector('.lesson-progress').textContent").replace(" ", "") == "3/10"
    tab.press("PageDown")
    stop_shown(tab, 4, 9)
    assert tab.phase == "forget" and "forget" in tab.js("document.querySelector('.lesson-stop-title').textContent").lower()
    assert tab.js("document.querySelector('.lesson-try').hidden") is False
    assert "heatmaps" in tab.js("document.querySelector('.lesson-try').textContent")
    tab.press("ArrowRight")
    stop_shown(tab, 5, 0)
    tab.page.reload()
    tab.ready()
    stop_shown(tab, 5, 0)  # the URL held it
    tab.press("PageUp")
    stop_shown(tab, 4, 9)
    tab.press("ArrowLeft")
    stop_shown(tab, 3, 8)
    tab.press("Shift+ArrowRight")  # time, not stops
    tab.until("document.body.dataset.step === '9'")
    tab.until("location.search.includes('step=9')", what="the step the student moved to, in the URL")
    assert tab.js("document.body.dataset.stop") == "3"
    assert not tab.errors


def test_a_stop_of_another_model_opens_its_run(tab):
    tab.open("/lesson/lstm?stop=1")
    stop_shown(tab, 1, 18)
    assert tab.js("window.gatescope.state.preset") == "remember-rnn"
    tab.js("document.querySelector('[data-control=lesson-next]').click()")
    stop_shown(tab, 2, 0)
    tab.until("window.gatescope.trace.header && window.gatescope.trace.header.model.kind === 'lstm'")
    assert tab.js("document.querySelector('[data-control=lesson-back]').disabled") is False


def test_lang_zh_shows_chinese(tab):
    tab.open("/lesson/lstm?stop=2&lang=zh")
    stop_shown(tab, 2, 0)
    text = tab.js("document.getElementById('lesson').textContent")
    assert "LSTM 模块与图示符号" in text and "下一站" in text and "试一试" in text
    assert tab.js("document.documentElement.lang") == "zh-Hans"
    assert tab.js("document.querySelector('.player [data-control=prev]').title").startswith("上一步")
    assert "课程的下一站" in tab.js("document.getElementById('shortcuts').textContent")
    tab.press("PageDown")
    stop_shown(tab, 3, 8)
    assert "lang=zh" in tab.js("location.search") and "细胞状态" in tab.js("document.querySelector('.lesson-stop-title').textContent")
    tab.shot("-zh")


def test_the_highlight_lights_the_stop_s_names(tab):
    tab.open("/lesson/lstm?stop=4")
    stop_shown(tab, 4, 9)
    time.sleep(0.2)
    lit = tab.js("getComputedStyle(document.querySelector('#diagram .strip[data-name=forget_gate]')).strokeWidth")
    plain = tab.js("getComputedStyle(document.querySelector('#diagram .strip[data-name=h]')).strokeWidth")
    assert lit != plain


def test_every_stop_of_every_lesson_typesets_in_both_languages(tab, api):
    status, listing = api("/api/lessons")
    for row in listing["lessons"]:
        for lang in ("en", "zh"):
            tab.open(f"/lesson/{row['name']}?lang={lang}", ready=False)
            tab.until("document.body.dataset.stop === '1'")
            for n in range(1, row["stops"] + 1):
                tab.until("(n) => document.body.dataset.stop === String(n)", n)
                panel = tab.js("({text: document.querySelector('.lesson-text').textContent,"
                               " errors: document.querySelectorAll('#lesson .katex-error').length,"
                               " math: document.querySelectorAll('#lesson .lesson-math').length,"
                               " set: document.querySelectorAll('#lesson .lesson-math .katex').length})")
                assert panel["text"] and panel["errors"] == 0 and panel["set"] == panel["math"], (row["name"], lang, n, panel)
                tab.press("PageDown")
    assert not tab.errors


def test_a_lecturer_loads_a_lesson_file_from_the_list(tab, tmp_path):
    lesson = {"name": "mine", "title": {"en": "My lesson", "zh": "我的课"},
              "stops": [{"title": {"en": "Hello", "zh": "你好"}, "text": {"en": "The cell state $c$.", "zh": "细胞状态 $c$。"},
                         "view": {"kind": "gru", "input": "abc"}}]}
    good, bad = tmp_path / "mine.json", tmp_path / "bad.json"
    good.write_text(json.dumps(lesson), encoding="utf-8")
    bad.write_text('{"name": "bad"}', encoding="utf-8")
    tab.open("/lesson", ready=False)
    tab.page.set_input_files('[data-control="lesson-upload"]', str(bad))
    tab.until("!document.querySelector('[data-control=lesson-upload-message]').hidden")
    assert "title" in tab.js("document.querySelector('[data-control=lesson-upload-message]').textContent")
    tab.page.set_input_files('[data-control="lesson-upload"]', str(good))
    tab.page.wait_for_url(re.compile(r".*/lesson/mine-[0-9a-f]{8}$"))  # the page opens the lesson it loaded
    tab.ready()
    assert tab.js("document.querySelector('.lesson-stop-title').textContent") == "Hello"
