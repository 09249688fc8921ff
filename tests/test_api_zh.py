"""The server sends the engine's Chinese beside its English: in each kind's description (GET /api/kinds, every stream
header), in the preset cards and the tasks, and in the page's config (the model menu), so the page can switch to
lang=zh without asking again. The response schemas declare it."""

from __future__ import annotations

from test_pages import config_of

from gatescope import cells
from gatescope.cells.presets import list_presets
from gatescope.cells.training import TASKS


def test_a_kind_description_carries_the_chinese_beside_each_english_field(client):
    info = client.get("/api/kinds/lstm").json()
    forget = next(p for p in info["glossary"]["phases"] if p["name"] == "forget")
    assert forget == {"name": "forget", "title": "Forget gate", "text": "f(t) decides how much of each unit of c(t−1) to keep.",
                      "latex": "$f_t$ decides how much of each unit of $c_{t-1}$ to keep.",
                      "zh": {"title": "遗忘门", "text": "f(t) 决定 c(t−1) 的每个单元保留多少。", "latex": "$f_t$ 决定 $c_{t-1}$ 的每个单元保留多少。"}}
    names = {n["name"]: n for n in info["glossary"]["names"]}
    assert names["forget_gate"]["zh"] == {"label": "遗忘门 f(t)"} and names["c_prev"]["zh"]["label"] == "上一步的细胞状态 c(t−1)"
    assert info["zh"]["title"] == "LSTM（长短期记忆）" and info["memory"]["zh"]["keep_sym"] == "遗忘门 f"
    assert {o["name"]: o["zh"]["doc"] for o in info["options"]}["forget_bias"].startswith("运行时加到遗忘门的预激活上")
    assert info == client.get("/api/kinds").json()[cells.KINDS.index("lstm")]


def test_every_stream_header_carries_the_same_words(client):
    with client.websocket_connect("/ws/trace?kind=gru&input=ab&hidden=3&reset_after=false") as ws:
        header = ws.receive_json()
    assert header["kind_info"] == client.get("/api/kinds/gru?reset_after=false").json()
    names = {n["name"]: n["zh"] for n in header["kind_info"]["glossary"]["names"]}
    assert names["reset_hidden"] == {"label": "重置后的上一步状态 r(t) ⊙ h(t−1)"}


def test_presets_and_tasks_carry_their_chinese(client):
    sent = {p["name"]: p["card"]["zh"] for p in client.get("/api/presets").json()}
    assert sent == {p["name"]: p["card"]["zh"] for p in list_presets()}
    assert sent["remember-lstm"]["title"] == "LSTM（长短期记忆） · 记住第一个符号"
    tasks = {t["name"]: t["zh"] for t in client.get("/api/tasks").json()}
    assert tasks == {name: t.zh for name, t in TASKS.items()}
    with client.websocket_connect("/ws/trace?preset=adding-lstm") as ws:
        assert ws.receive_json()["model"]["card"]["zh"]["notes"].startswith("单元 1 的细胞状态携带着和")


def test_the_page_config_names_each_kind_in_both_languages(client):
    kinds = config_of(client.get("/").text)["kinds"]
    assert [k["name"] for k in kinds] == list(cells.KINDS)
    assert all(k["zh"]["title"] == cells.REGISTRY[k["name"]].zh["title"] for k in kinds)
    assert kinds[cells.KINDS.index("gru")] == {"name": "gru", "title": "GRU", "zh": {"title": "GRU（门控循环单元）"}, "simplifies": "lstm"}


def test_the_schema_says_what_zh_is(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for shape in ("KindInfo", "PhaseInfo", "NameInfo", "OptionInfo", "EquationInfo", "TaskInfo"):
        assert "Chinese" in schemas[shape]["properties"]["zh"]["description"], shape
    assert "same measured numbers" in schemas["ModelCard"]["properties"]["zh"]["description"]
