// Chosen units of one name over time, as lines, with the current step marked; and the lines panel's
// controls: which vector to follow (the token colors follow it too), which units, and the token colors.
// Time is the window the heatmaps share (time-window.js), and only its steps are drawn (one more each side, so
// the lines run to the edges): a typed step redraws a few hundred points, not the whole run's thousands.

import { BACKGROUND, FONT_FAMILY, LINES, palette, sizes, stepTicks } from "gatescope/core/config.js";
import { local, tr } from "gatescope/core/i18n.js";
import { escapeHtml } from "gatescope/core/text.js";
import { createCursor } from "gatescope/views/cursor.js";
import { afterPaint, asked, isWhole, same, sharedWindow, stepsShown } from "gatescope/views/time-window.js";
import { View } from "gatescope/views/view.js";

const REDRAW_MS = 150;

/** Units from the "units" field ("0,3,5"), or the first four; only those the name has. */
function chosenUnits(spec, width) {
  const asked = String(spec || "").split(",").filter((s) => s !== "").map(Number).filter((u) => Number.isInteger(u) && u >= 0 && u < width);
  return asked.length ? [...new Set(asked)].slice(0, 8) : Array.from({ length: Math.min(4, width) }, (_, i) => i);
}

/** The vector the lines and the token colors follow: the state's focus (an old link's spelling read as today's), else c, else h. */
export function focusName(trace, options) {
  const focus = trace.header?.kind_info?.glossary.renamed[options.focus] ?? options.focus;
  return [focus, "c", "h"].find((n) => trace.has(n));
}

/** The chart's title: what it follows, and which steps it shows (a long run opens on a window around the step). */
function titled(label, units, range, T, wide) {
  const zoom = isWhole(range, T) || !wide ? "" : ` · ${tr("drag to zoom, double-click for all")}`;  // a narrow chart would cut it off
  return `${tr("{label}, units {units}", { label: escapeHtml(label), units: units.join(", ") })} · ${stepsShown(range, T)}${zoom}`;
}

/** The lines of some units of one name over the range of steps shown, and the layout they are drawn in. */
function figure(trace, name, label, units, options, range, wide) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  const T = trace.steps, a = Math.max(0, Math.floor(range[0])), b = Math.min(T, Math.ceil(range[1]) + 1);
  const x = Array.from({ length: b - a }, (_, i) => a + i);
  const data = units.map((u, i) => ({
    type: "scatter", mode: range[1] - range[0] > 200 ? "lines" : "lines+markers", x, y: x.map((t) => trace.value(name, t)[u]), name: tr("unit {u}", { u }),
    line: { color: pal.series[i % pal.series.length], width: sz.line * 1.2 }, marker: { size: sz.line * 3 },
    hovertemplate: `${tr("unit {u}, step %{x}: %{y:.4f}", { u })}<extra></extra>`,
  }));
  const layout = {
    margin: { l: 48, r: 10, t: 28, b: 34 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: "zoom",
    title: { text: titled(label, units, range, T, wide), font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "t" }, range: range.slice(), autorange: false, fixedrange: false, ...stepTicks(range[1] - range[0]), tick0: 0,
      ticklabeloverflow: "allow" },
    yaxis: { fixedrange: true, zeroline: true, range: extent(trace, name, units), ticklabeloverflow: "allow" }, legend: { orientation: "h", y: -0.28 }, showlegend: units.length > 1,
    ...BACKGROUND,
  };
  return { data, layout };
}

/** The y range: every value of the units over the whole run, so that moving the window does not rescale it. */
function extent(trace, name, units) {
  let lo = Infinity, hi = -Infinity;
  for (const u of units) for (const v of trace.series(name, u)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const pad = Math.max(1e-6, (hi - lo) * 0.06);
  return Number.isFinite(lo) ? [lo - pad, hi + pad] : [-1, 1];
}

export class Lines extends View {
  static id = "lines";
  static plotly = true;
  static panel = { name: "lines", label: tr("lines") };

  constructor(el, bus) {
    super(el, bus);
    this.key = "";
    this.t = 0;
    this.drawn = null;  // the steps drawn: the shared window's range when last drawn
    this.win = sharedWindow(bus);
    this.win.join(this);
    this.line = createCursor(el);
    const panel = el.closest("[data-panel]") ?? document;
    const control = (name) => panel.querySelector(`[data-control="${name}"]`);
    this.controls = { focus: control("focus"), units: control("units"), color: control("color-unit") };
    const { focus, units, color } = this.controls;
    focus.addEventListener("change", () => bus.emit("change", { focus: focus.value }));
    units.addEventListener("change", () => bus.emit("change", { units: units.value.replace(/[^0-9,]/g, "") }));
    color.addEventListener("change", () => {
      const v = color.value === "" ? null : Number(color.value);
      bus.emit("change", { color_unit: Number.isInteger(v) && v >= 0 ? v : null });
    });
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.win.open(options.window);
    this.pending = null;  // a redraw still due is of the last run's name, which this kind may lack (a lesson's next stop)
  }

  update(trace) {
    super.update(trace);
    if (!this.info) return;
    const name = focusName(trace, this.options);
    // a new chart is drawn at once; more steps of the same one (a run streaming, a student typing) once the newest is
    // painted and no more than a quarter of the time (afterPaint), so that a typed step never waits for these lines
    this.later ??= afterPaint(() => { if (this.pending) this.draw(this.trace, this.pending); }, REDRAW_MS);
    this.pending = name;
    this.win.fit(this, this.fits());
    this.win.steps(trace.steps);
    if (name && this.key?.startsWith(`${name}|`)) this.later.soon();
    else if (name) this.later.now();
    const { focus, units, color } = this.controls;
    focus.replaceChildren(...this.info.glossary.names.filter((n) => trace.has(n.name) && n.role !== "given")
      .map((n) => new Option(local(n, "label"), n.name)));
    focus.value = name ?? "";
    units.value = this.options.units;
    color.value = this.options.color_unit ?? "";
  }

  /** How many steps the chart shows at a few pixels each (0 while it is not shown: the heatmaps alone set the window). */
  fits() {
    return this.el.getClientRects().length ? Math.floor((this.el._fullLayout?._size?.w ?? 800) / LINES.minStepPx) : 0;
  }

  draw(trace, name) {
    const options = this.options, T = trace.steps, range = this.win.range ?? [-0.5, T - 0.5];
    const label = local(this.info.glossary.names.find((n) => n.name === name), "label");
    if (!label || !trace.has(name)) return;
    const units = chosenUnits(options.units, trace.width(name));
    const key = `${name}|${units}|${options.palette}|${options.presenter}`;
    Object.assign(this, { label, units, drawn: range.slice() });
    const wide = this.el.clientWidth >= (options.presenter ? 900 : 700);
    const { data, layout } = figure(trace, name, label, units, options, range, wide);
    if (key !== this.key) {
      Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true, doubleClick: "autosize", showTips: false });
      this.el.on("plotly_click", (e) => { if (e.points?.length) this.bus.emit("seek", Math.round(e.points[0].x)); });
      this.el.on("plotly_relayout", (e) => this.zoomed(e));
      this.el.on("plotly_hover", (e) => { const p = e.points?.[0]; if (p) this.bus.emit("point", { name: this.pending, unit: this.units[p.curveNumber] }); });
      this.el.on("plotly_unhover", () => this.bus.emit("point", null));
      this.hooked = false;
      this.key = key;
    } else {
      Plotly.react(this.el, data, layout);
    }
    this.line.color = palette(options.palette).highlight;
    this.line.place();
  }

  /** A unit pointed at or pinned (in any view): its line drawn over the others, the others faint. Written into the
   *  SVG Plotly drew (a restyle would redraw the chart), and again after each draw. */
  highlight(sel) {
    this.selection = sel;
    if (!this.hooked && this.el.on) { this.el.on("plotly_afterplot", () => this.highlight(this.selection)); this.hooked = true; }
    const lit = sel?.unit !== undefined && this.units?.includes(sel.unit) ? this.units.indexOf(sel.unit) : -1;
    this.el.querySelectorAll(".scatterlayer .trace").forEach((g, i) => { g.style.opacity = lit < 0 || i === lit ? "" : "0.25"; });
  }

  /** A drag across the chart zooms the time of every chart; a double click shows the whole run. */
  zoomed(e) {
    const T = this.trace?.steps, range = T ? asked(e, T) : null;
    if (range) this.win.zoom(range);
  }

  /** The shared window was moved by a zoom (here or in the heatmaps), or opens anew: drawn at once. */
  windowMoved() {
    if (this.key && this.pending && this.trace?.steps && this.win.range && !same(this.drawn, this.win.range)) this.draw(this.trace, this.pending);
  }

  show(t, phase, playing) {
    this.t = t;
    this.win.show(t);
    if (this.key && this.trace?.steps && !same(this.drawn, this.win.range)) {
      if (!playing && t === this.trace.steps - 1) this.later.soon();  // typing at the end: the window moves with the steps' redraw, not once per key
      else this.draw(this.trace, this.pending);
    }
    this.line.move(t);
  }
}
