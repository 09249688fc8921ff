"""The diagram's first drawing (app/first_paint.py), painted with the page's HTML before any script: its cells hold the
step's numbers in the page's colours, a phase leaves later parts faded and empty, and a view it cannot or need not
number is drawn without numbers rather than refused."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gatescope.app import first_paint
from gatescope.app.config import Settings
from gatescope.app.main import create_app
from gatescope.app.run import resolve
from gatescope.app.schemas import ViewState
from gatescope.app.store import ModelStore
from tests.cases import CASES, IDS

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    settings = Settings(upload_dir=tmp_path_factory.mktemp("uploads"))
    return settings, ModelStore(settings)


def cells_of(svg: str) -> dict[str, list[tuple[int, float | None, str]]]:
    """name -> [(unit, value or None, fill)] of every strip of a drawing."""
    root = ET.fromstring(svg)
    return {g.get("data-name"): [(int(c.get("data-unit")), float(c.get("data-value")) if c.get("data-value") else None, c.get("fill"))
                                 for c in g.iter(f"{NS}rect")] for g in root.iter(f"{NS}g") if g.get("class") == "strip"}


def test_the_cells_hold_the_steps_numbers_in_the_pages_colours(env):
    view = ViewState.model_validate({"preset": "remember-lstm", "step": 5})
    r = resolve(view, *env)
    drawn = cells_of(first_paint.drawing(r))
    lt = r.model.run(r.parsed.xs).layer(-1)
    palette = first_paint.look()["palettes"]["classic"]
    for name, cells in drawn.items():
        assert [u for u, _, _ in cells] == list(range(lt[name].shape[1])), name  # hidden 8: every unit
        for unit, value, fill in cells:
            assert value == pytest.approx(lt[name][5, unit], abs=1e-12), (name, unit)
    for unit, value, fill in drawn["forget_gate"]:  # a gate on 0…1
        assert fill == first_paint.colour_at(value, palette["unit"], 0, 1)
    c_max = float(np.abs(lt["c"]).max())
    for unit, value, fill in drawn["c"]:  # an unbounded state on ±its largest |value|
        assert fill == first_paint.colour_at(value, palette["signed"], -max(1, c_max), max(1, c_max))


def test_a_phase_leaves_what_later_phases_compute_empty_and_faded(env):
    r = resolve(ViewState.model_validate({"preset": "remember-lstm", "step": 3, "phase": "forget"}), *env)
    svg = first_paint.drawing(r)
    drawn = cells_of(svg)
    assert all(v is not None for _, v, _ in drawn["forget_gate"]) and all(v is not None for _, v, _ in drawn["c_prev"])
    assert all(v is None for _, v, _ in drawn["c"]) and all(v is None for _, v, _ in drawn["output_gate"])
    faded = {t.text for t in ET.fromstring(svg).iter(f"{NS}text") if t.get("opacity") == "0.25"}
    assert "c(t)" in faded and "f(t)" not in faded, faded


def test_many_units_draw_the_cards_units_and_a_difference_draws_no_numbers(env):
    r = resolve(ViewState.model_validate({"preset": "charlm-lstm", "input": "the cat"}), *env)
    card = r.model.card["units"]
    assert sorted(u for u, _, _ in cells_of(first_paint.drawing(r))["c"]) == sorted(card)[:24]
    r = resolve(ViewState.model_validate({"preset": "remember-lstm", "clamp": "forget:1", "clamp_view": "difference"}), *env)
    assert all(v is None for cells in cells_of(first_paint.drawing(r)).values() for _, v, _ in cells)


def test_a_run_that_costs_more_than_the_first_drawing_may_spend_is_drawn_without_numbers(env, monkeypatch):
    monkeypatch.setattr(first_paint, "FIRST_PAINT_WORK", 10)
    r = resolve(ViewState.model_validate({"preset": "remember-lstm"}), *env)
    assert all(v is None for cells in cells_of(first_paint.drawing(r)).values() for _, v, _ in cells)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_kind_and_option_is_drawn(env, case):
    kind, opts = case
    r = resolve(ViewState.model_validate({"kind": kind, "hidden": 5, "input": "hi", "input_type": "text", **opts}), *env)
    svg = first_paint.drawing(r)
    assert set(cells_of(svg)) == {n["name"] for n in first_paint.kind_info(kind, r.model.options)["diagram"]["nodes"]}
    assert not re.search(r'="-?(nan|inf)"', svg, re.I), "a number that is not one"


def test_the_pages_carry_the_drawing_and_a_user_word_in_it_is_escaped(env, tmp_path):
    client = TestClient(create_app(Settings(upload_dir=tmp_path)))
    for url in ("/?preset=remember-lstm", "/embed?kind=gru&input=hello", "/lesson/lstm?stop=3"):
        page = client.get(url).text
        assert page.count('class="diagram-svg first-paint"') == 1, url
    # a view without the diagram (the lesson's chain stops, panels=chain): no drawing, the chain's figure shown from the start
    for url in ("/lesson/lstm?stop=2", "/?preset=remember-lstm&panels=chain,tokens"):
        page = client.get(url).text
        assert "first-paint" not in page and '<div class="diagram-figure" data-panel="diagram" hidden>' in page, url
        assert '<div class="chain-figure" data-panel="chain">' in page, url
    page = client.get("/?kind=lstm&input=%3Cscript%3Ealert(1)%3C/script%3E").text
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    assert "<script" not in svg
