"""The flow animation (issue 11): its plan read off every kind's own description, frames that are a pure function of
(step, phase, progress), parts not yet reached showing no numbers, motion in the frames of a phase, the pace in the
URL, and "play one step, then stop".

A strip of frames of one LSTM step and one GRU step goes to artifacts/browser/flow_<kind>_<phase>_<progress>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gatescope import cells

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"

PLAN = """async (kind) => {
  const { flowPlan, flowFrame } = await import('/static/views/flow.js');
  const info = await (await fetch(`/api/kinds/${kind}`)).json();
  const plan = flowPlan(info);
  const frames = {};
  for (const p of plan.order) frames[p] = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1].map((u) => flowFrame(plan, p, u));
  return { order: plan.order, stages: plan.stages, handover: plan.handover, frames, whole: flowFrame(plan, null, 0),
           wires: info.diagram.wires.map((w) => [w.source, w.target]), drawn: info.diagram.nodes.map((n) => n.name),
           phaseOf: Object.fromEntries(info.glossary.names.map((n) => [n.name, n.phase])),
           operands: Object.fromEntries(info.glossary.names.map((n) => [n.name, n.role === 'state_in' ? [] : n.operands])) };
}"""


@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_every_kind_has_a_plan_its_phases_follow(tab, kind):
    tab.open(f"/?kind={kind}&input=ab&hidden=4")
    out = tab.js(PLAN, kind)
    stage_of = {}
    for phase, stages in out["stages"].items():
        for k, s in enumerate(stages):
            for name in s["fill"]:
                assert name not in stage_of, f"{name} fills twice"
                stage_of[name] = (out["order"].index(phase), k)
    assert set(stage_of) == set(out["drawn"])  # every drawn name fills in, once, in its own phase
    for name, (p, _) in stage_of.items():
        assert out["order"][p] == out["phaseOf"][name]
    travelled = sorted(i for stages in out["stages"].values() for s in stages for i in s["travel"])
    assert travelled == list(range(len(out["wires"])))  # every wire carries its packet exactly once a step
    for name, (p, k) in stage_of.items():  # an operand is there before what is made of it (a state_in, from the step before)
        for op in out["operands"][name]:
            if op in stage_of:
                assert stage_of[op] < (p, k), (name, op)
    for phase, frames in out["frames"].items():
        mine = [n for n, (p, _) in stage_of.items() if out["order"][p] == phase]
        p = out["order"].index(phase)
        for before, after in zip(frames, frames[1:], strict=False):  # filling in never goes back
            assert all(after["fill"][n] >= before["fill"][n] for n in mine), phase
        assert all(frames[-1]["fill"][n] == 1 for n in mine) and frames[-1]["travel"] == []
        for n, (q, _) in stage_of.items():  # earlier phases complete, later ones empty, all through the phase
            if q != p:
                assert {f["fill"][n] for f in frames} == {1 if q < p else 0}, (phase, n)
        moving = sum(1 for f in frames[1:-1] if f["travel"] or f["handover"] or any(0 < f["fill"][n] < 1 for n in mine))
        assert moving >= 4, f"{kind} {phase}: something moves in most frames"
    assert set(out["whole"]["fill"].values()) == {1} and not out["whole"]["travel"]
    assert {h["name"] for h in out["handover"]} <= set(out["drawn"])


FRAME = """([t, phase, u]) => {
  window.gatescope.frame(t, phase, u);
  const trace = window.gatescope.trace;
  return Array.from(document.querySelectorAll('#diagram .strip'), (g) => ({
    name: g.dataset.name,
    cells: Array.from(g.querySelectorAll('.cell'), (c) => ({ reached: c.dataset.reached, fill: c.getAttribute('fill'),
      value: Number(c.dataset.value), want: trace.value(g.dataset.name, t)[Number(c.dataset.unit)] })),
  })).concat([{ packets: Array.from(document.querySelectorAll('#diagram .packet'))
    .filter((p) => p.getAttribute('visibility') === 'visible').map((p) => p.getAttribute('transform')) }]);
}"""


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_frames_are_exact_and_give_nothing_away(tab, kind):
    tab.open(f"/?kind={kind}&input=hello&hidden=8&phases=true")
    phases = tab.js(f"fetch('/api/kinds/{kind}').then((r) => r.json()).then((i) => i.glossary.phases.map((p) => p.name))")
    for phase in phases:
        for u in (0.25, 0.5, 0.75):
            *strips, packets = tab.js(FRAME, [2, phase, u])
            for strip in strips:
                for cell in strip["cells"]:
                    assert cell["value"] == pytest.approx(cell["want"], abs=1e-6)  # the step's own numbers
                    if cell["reached"] == "0":
                        assert cell["fill"] == "white", (phase, u, strip["name"])  # empty: not computed yet
            tab.page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"flow_{kind}_{phase}_{u}.png"))
            again = tab.js(FRAME, [2, phase, u])  # the same frame, asked again, is the same frame
            assert again == [*strips, packets]
    assert tab.errors == []


def test_playing_with_phases_moves_in_most_frames_and_keeps_its_pace(tab):
    tab.open("/?kind=lstm&input=hello&hidden=8&phases=true&pace=fast")
    assert tab.js("document.querySelector('[data-control=pace]').value") == "fast"
    samples = tab.js("""async () => {
      const out = [];
      window.gatescope.player.play();
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        const d = document.getElementById('diagram');
        out.push([document.body.dataset.phase, d.dataset.progress,
          Array.from(d.querySelectorAll('.packet[visibility=visible]'), (p) => p.getAttribute('transform')).join(' '),
          Array.from(d.querySelectorAll('.cell'), (c) => c.getAttribute('fill')).join(' ')]);
      }
      window.gatescope.player.pause();
      return out;
    }""")
    changed = sum(1 for a, b in zip(samples, samples[1:], strict=False) if a[2:] != b[2:])
    assert changed >= 0.6 * (len(samples) - 1), f"the picture changed in {changed} of {len(samples) - 1} frames"
    assert len({s[0] for s in samples}) >= 2  # at the fast pace, 40 frames cross into another phase


def test_play_one_step_animates_it_then_stops_complete(tab):
    tab.open("/?kind=gru&input=hello&hidden=4&phases=true&pace=fast&step=1")
    tab.page.keyboard.press(".")
    tab.until("window.gatescope.player.playing", what="one step playing")
    tab.until("!window.gatescope.player.playing", timeout=10, what="the step played and stopped")
    last = tab.js("fetch('/api/kinds/gru').then((r) => r.json()).then((i) => i.glossary.phases.at(-1).name)")
    assert (tab.step, tab.phase) == (1, last)  # shown whole first, so that step is the one played
    assert set(tab.js("Array.from(document.querySelectorAll('#diagram .cell'), (c) => c.dataset.reached)")) == {"1"}
    tab.page.click('[data-control="play-step"]')  # complete: the button plays the next one
    tab.until("!window.gatescope.player.playing && document.body.dataset.step === '2'", timeout=10, what="the next step")
    tab.page.select_option('[data-control="pace"]', "slow")
    tab.until("location.search.includes('pace=slow')", what="the pace in the URL")


@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_every_kind_animates_in_the_page(tab, kind):
    tab.open(f"/?kind={kind}&input=hello&hidden=4&phases=true")
    phases = tab.js(f"fetch('/api/kinds/{kind}').then((r) => r.json()).then((i) => i.glossary.phases.map((p) => p.name))")
    moving = 0
    for phase in phases:
        for u in (0.1, 0.3, 0.5, 0.7, 0.9):
            *strips, packets = tab.js(FRAME, [1, phase, u])
            moving += bool(packets["packets"])
            for strip in strips:
                for cell in strip["cells"]:
                    assert (cell["fill"] == "white") == (cell["reached"] == "0"), (kind, phase, u, strip["name"])
    assert moving >= len(phases), f"{kind}: squares travel in most phases"
    assert tab.errors == []
