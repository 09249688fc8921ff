// Replaying a training run in the train dialog: a labelled slider over its snapshots (the probe's gates on the
// task's example, from the untrained model at step 0 to the last step), the loss and accuracy curve with a marker
// at the chosen snapshot, and "before and after" side by side: step 0 beside the chosen snapshot.
// A live run feeds it snapshot by snapshot; "watch" paces what is shown to WATCH_MS a snapshot, in the page, so a
// run that ends in two seconds can still be seen specialising (the server never slows a run for it). A stored run
// (GET /api/models/{id}/training) is loaded whole.

import { BACKGROUND, FONT_FAMILY, palette, sizes } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { num } from "gatescope/core/text.js";
import { margins, tokenPx } from "gatescope/views/heatmap-figure.js";
import { Heatmaps } from "gatescope/views/heatmaps.js";

export const WATCH_MS = 300;  // a snapshot on screen while watching: a 1,500-step run's 41 snapshots take about 12 s

/**
 * A read-only trace over one snapshot, so heatmaps.js can draw it. An unbounded name (c) is scaled to the larger
 * |value| of the pair on screen, step 0 and the chosen snapshot, so that both sides read on one scale (a scale
 * over the whole run would let one late outlier pale every other snapshot).
 */
function snapshotTrace(snapshots, i, tokens, pair) {
  const values = snapshots[i].values;
  return {
    steps: Object.values(values)[0]?.length ?? 0, tokens,
    has: (n) => n in values,
    width: (n) => values[n][0].length,
    matrix: (n) => values[n][0].map((_, u) => values[n].map((row) => row[u])),
    maxAbs: (n) => Math.max(1e-6, ...pair.map((k) => Math.max(...snapshots[k].values[n].flat().map(Math.abs)))),
  };
}

const percent = (a) => (a === null || a === undefined ? "–" : `${(a * 100).toFixed(1)}%`);
const grouped = (n) => n.toLocaleString("en-US");

/** The loss (log axis) and accuracy curves, and a marker on each at the chosen step. */
function curveFigure(options, total) {
  const pal = palette(options.palette), sz = sizes(options.presenter), line = sz.line * 1.2;
  const marker = (color, yaxis) => ({ type: "scatter", mode: "markers", x: [], y: [], yaxis, showlegend: false, hoverinfo: "skip",
    marker: { color, size: sz.small * 0.9, line: { color: "white", width: 2 } } });
  const data = [
    { type: "scatter", mode: "lines", x: [], y: [], name: tr("loss (training batch)"), line: { color: pal.series[1], width: line },
      hovertemplate: `${tr("step %{x}: loss %{y:.4f}")}<extra></extra>` },
    { type: "scatter", mode: "lines", x: [], y: [], name: tr("accuracy"), yaxis: "y2", line: { color: pal.series[0], width: line },
      hovertemplate: `${tr("step %{x}: accuracy %{y:.1%}")}<extra></extra>` },
    marker(pal.series[1], "y"), marker(pal.series[0], "y2"),
  ];
  const layout = {
    margin: options.presenter ? { l: 78, r: 78, t: 36, b: 46 } : { l: 58, r: 58, t: 28, b: 36 },
    font: { family: FONT_FAMILY, size: sz.small }, dragmode: false, showlegend: true,
    title: { text: tr("Training loss and accuracy"), font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: tr("training step"), standoff: 4 }, range: [0, Math.max(1, total)], tickformat: ",d", zeroline: false },
    yaxis: { title: { text: tr("loss") }, type: "log", tickformat: ".2~g", exponentformat: "power" },
    yaxis2: { title: { text: tr("accuracy") }, overlaying: "y", side: "right", range: [0, 1.02], tickformat: ".0%", dtick: 0.25, showgrid: false },
    legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
    shapes: [], ...BACKGROUND,
  };
  return { data, layout };
}

export class Replay {
  /** $: the dialog's [data-train=name] elements. */
  constructor($) {
    Object.assign(this, { $, run: null, i: 0, seen: 0, timer: null, glossary: null, total: 0, points: { step: [], loss: [], accuracy: [] } });
    this.before = new Heatmaps($("before"), null, { cursor: false });
    this.after = new Heatmaps($("probe"), null, { cursor: false });
    $("scrub").addEventListener("input", () => { this.held = true; this.pause(); this.seek(Number($("scrub").value)); });
    $("play").addEventListener("click", () => { this.held = false; if (this.timer) this.pause(); else this.play(); });
    $("watch").addEventListener("change", () => { if (!$("watch").checked && this.live) this.seek(this.last); });
  }

  get last() { return (this.run?.snapshots.length ?? 1) - 1; }
  get watching() { return this.$("watch").checked; }

  /**
   * A run begins: kindInfo (its glossary: the maps are labelled with its symbols), the task's example tokens, the
   * run's total steps. live: snapshots come one by one (add()); else run.snapshots is already whole (load()).
   */
  begin(kindInfo, tokens, total, options, live) {
    this.pause();
    Object.assign(this, { run: { tokens, snapshots: [] }, i: 0, seen: 0, total, options, live, built: false, held: false, glossary: kindInfo.glossary,
      points: { step: [], loss: [], accuracy: [] } });
    const { data, layout } = curveFigure(options, total);
    Plotly.newPlot(this.$("curves"), data, layout, { displayModeBar: false, responsive: true });
    this.$("replay").hidden = false;
    this.controls();
  }

  /** A stored run (TrainingReplay), shown at its last snapshot. */
  load(record, kindInfo, options) {
    this.begin(kindInfo, record.tokens, record.snapshots.at(-1)?.step ?? 0, options, false);
    this.run.snapshots = record.snapshots;
    this.points = record.curve;
    this.seen = this.last;
    this.controls();
    this.seek(this.last);
  }

  /** A live run's progress: the curve grows with it (while watching, only as far as the snapshot shown). */
  point(step, loss, accuracy) {
    for (const [k, v] of [["step", step], ["loss", loss], ["accuracy", accuracy]]) this.points[k].push(v);
    if (!this.watching || !this.run.snapshots.length) this.drawCurve();
  }

  /** A live run's snapshot: shown at once, or (watching) in its turn, WATCH_MS after the one before. */
  add(snapshot) {
    const shots = this.run.snapshots;
    if (shots.length && shots.at(-1).step === snapshot.step) shots.pop();
    shots.push(snapshot);
    this.controls();
    if (this.held) return;  // the user has taken the slider: the run goes on without moving it
    if (!this.watching || shots.length === 1) this.seek(this.last);
    else if (!this.timer) this.play(false);
  }

  /** The run has ended: the stored record replaces what the stream brought (the same snapshots, with each one's loss). */
  finish(record) {
    this.live = false;
    if (!record) return this.seek(this.i);
    this.run.snapshots = record.snapshots;
    this.points = record.curve;
    this.controls();
    if (!this.timer) this.seek(Math.min(this.i, this.last));
  }

  controls() {
    const $ = this.$, n = this.run.snapshots.length;
    $("scrub").max = String(Math.max(0, n - 1));
    $("scrub").disabled = n < 2;
    $("play").disabled = n < 2 && !this.live;
  }

  /** Play the snapshots on from the chosen one (from the start when at the end), WATCH_MS each. */
  play(restart = true) {
    if (restart && this.i >= this.last) this.seek(0);
    this.setPlaying(true);
    this.timer = setInterval(() => {
      if (this.i < this.last) this.seek(this.i + 1);
      else if (!this.live) this.pause();
    }, WATCH_MS);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    this.setPlaying(false);
  }

  setPlaying(on) {
    const b = this.$("play");
    b.textContent = on ? "❚❚" : "▶";
    b.setAttribute("aria-label", on ? tr("pause the replay") : tr("play the snapshots"));
    b.title = b.getAttribute("aria-label");
  }

  /** Show snapshot i: its maps beside step 0's, the marker on the curve, the slider and its words. */
  seek(i) {
    const shots = this.run?.snapshots ?? [];
    if (!shots.length) return;
    this.i = Math.max(0, Math.min(shots.length - 1, i));
    this.seen = Math.max(this.seen, this.i);
    const s = shots[this.i], $ = this.$;
    if (!this.built) this.build(shots[0]);
    this.before.update(snapshotTrace(shots, 0, this.run.tokens, [0, this.i]));
    this.after.update(snapshotTrace(shots, this.i, this.run.tokens, [0, this.i]));
    const where = tr("step {step} of {total}", { step: grouped(s.step), total: grouped(this.total) }), n = shots.length;
    const after = this.i === n - 1 && !this.live;
    $("scrub").value = String(this.i);
    $("scrub").setAttribute("aria-valuetext", tr("snapshot {i} of {n}, {where}", { i: this.i + 1, n, where }));
    const k = s.loss == null ? this.nearest(s.step) : -1;  // a live snapshot has no loss of its own yet: the curve's
    const loss = s.loss ?? (k >= 0 ? this.points.loss[k] : null), accuracy = s.accuracy ?? (k >= 0 ? this.points.accuracy[k] : null);
    $("at").textContent = tr("snapshot {i} of {n} · {where} · loss {loss} · accuracy {accuracy}",
      { i: this.i + 1, n, where, loss: loss == null ? "–" : num(loss, 3), accuracy: percent(accuracy) });
    $("after-title").textContent = after ? tr("after: step {step}", { step: grouped(s.step) }) : tr("step {step}", { step: grouped(s.step) });
    $("before-title").textContent = tr("before: step 0 (untrained)");
    this.drawCurve();
  }

  build(first) {
    const names = Object.keys(first.values), options = { palette: this.options.palette, presenter: this.options.presenter, names };
    for (const maps of [this.before, this.after]) maps.build({ glossary: this.glossary }, null, options);
    this.built = true;
    this.$("example").textContent = this.run.tokens.join(this.run.tokens.every((t) => [...t].length === 1) ? "" : " ");
    this.run.tokens = this.fitting(this.run.tokens);
  }

  /**
   * The example's tokens on the maps' step axis while every one of them fits (the remember task's 19 letters);
   * else none, so that the maps show the whole example with step numbers (a snapshot is read whole, not panned).
   */
  fitting(tokens) {
    const m = margins(this.options), font = sizes(this.options.presenter).small;
    const plotW = this.$("probe").clientWidth - m.l - m.r, widest = Math.max(0, ...tokens.map((t) => tokenPx(t, font)));
    return tokens.length * widest <= plotW ? tokens : [];
  }

  /** The curve so far (a watched live run: as far as the snapshot shown), and the marker at the chosen step. */
  drawCurve() {
    const el = this.$("curves"), p = this.points, shots = this.run.snapshots;
    if (!el.data) return;
    // watching, the curve grows with the snapshots shown, also after the run (the page is still catching up)
    const catching = this.watching && shots.length && (this.live || (this.timer && this.seen < shots.length - 1));
    const upTo = catching ? shots[this.seen].step : Infinity;
    const n = p.step.findIndex((s) => s > upTo), end = n < 0 ? p.step.length : n;
    const s = shots[this.i], at = s ? this.nearest(s.step) : -1;
    // the snapshot's own loss and accuracy (stored with it); a live one has none yet: the curve's nearest point
    const mark = (k) => (s?.[k] != null ? [s[k]] : at < 0 ? [] : [p[k][at]]), x = s && (s.loss != null || at >= 0) ? [s.step] : [];
    Plotly.restyle(el, { x: [p.step.slice(0, end), p.step.slice(0, end), x, x],
      y: [p.loss.slice(0, end), p.accuracy.slice(0, end), mark("loss"), mark("accuracy")] }, [0, 1, 2, 3]);
    const line = s ? [{ type: "line", xref: "x", yref: "paper", x0: s.step, x1: s.step, y0: 0, y1: 1,
      line: { color: palette(this.options.palette).highlight, width: 2, dash: "dot" } }] : [];
    Plotly.relayout(el, { shapes: line });
  }

  /** The curve's point at a snapshot's step: step + 1 (the batch its model met first), else the closest before. */
  nearest(step) {
    const p = this.points.step;
    let best = -1;
    for (let k = 0; k < p.length && p[k] <= step + 1; k++) best = k;
    return best < 0 && p.length ? 0 : best;
  }
}
