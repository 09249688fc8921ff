"""The page's own words in Chinese (app/i18n): every message the templates (_("…")) and the scripts (tr("…")) use has
its Chinese in app/i18n/zh.json, with the same {fields}, and the table holds nothing no page uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gatescope.app import i18n

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "templates").glob("*.html"))
SCRIPTS = sorted(p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts)
SERVER = sorted((ROOT / "app").rglob("*.py"))  # the words the server writes in the page's language (an offer's label)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # Chinese characters and punctuation
# _("…") in a template, tr("…") in a script: the message is a literal, in double quotes, so it can be found here
USED = {"templates": re.compile(r'\b_\(("(?:[^"\\]|\\.)*")'), "scripts": re.compile(r'\btr\(\s*("(?:[^"\\]|\\.)*")')}
USED["server"] = USED["templates"]
# words that are the same in both languages: names, symbols and units
SAME = set()


def messages() -> dict[str, set[str]]:
    """message -> the files using it."""
    out: dict[str, set[str]] = {}
    for paths, pattern in ((TEMPLATES, USED["templates"]), (SCRIPTS, USED["scripts"]), (SERVER, USED["server"])):
        for path in paths:
            for m in pattern.finditer(path.read_text(encoding="utf-8")):
                out.setdefault(json.loads(m.group(1)), set()).add(path.relative_to(ROOT).as_posix())
    return out


def test_every_message_has_its_chinese_with_the_same_fields():
    table, used = i18n.words("zh"), messages()
    assert len(used) > 100, "the extraction found too few messages: has the way pages call _() / tr() changed?"
    missing = {m: sorted(files) for m, files in used.items() if m not in table}
    assert not missing, f"messages with no Chinese in app/i18n/zh.json: {missing}"
    for message in used:
        zh = table[message]
        assert CJK.search(zh) or message in SAME, f"{message!r}: its Chinese {zh!r} has no Chinese in it"
        fields = lambda s: sorted(re.findall(r"\{(\w+)\}", s))  # noqa: E731
        assert fields(zh) == fields(message), f"{message!r} and {zh!r} fill different fields"


def test_the_table_holds_no_message_that_nothing_uses():
    unused = set(i18n.words("zh")) - set(messages())
    assert not unused, f"app/i18n/zh.json holds messages no template or script uses: {sorted(unused)}"


def test_a_message_is_filled_and_an_unknown_one_stays_english():
    _ = i18n.translator("zh")
    assert _("Stop {i} of {n}", i=4, n=10) == "第 4 站，共 10 站"
    assert _("no such message {x}", x=1) == "no such message 1"
    assert i18n.translator("en")("Stop {i} of {n}", i=4, n=10) == "Stop 4 of 10"
    assert i18n.lang_of({"lang": "fr"}) == "en" and i18n.lang_of({"lang": "zh"}) == "zh"
