// Chosen units of one name over time, as lines, with the current step marked; and the lines panel's
// controls: which vector to follow (the token colors follow it too), which units, and the token colors.

import { BACKGROUND, FONT_FAMILY, LINES, palette, sizes, stepTicks } from "../core/config.js";
import { escapeHtml } from "../core/text.js";
import { throttle } from "../core/timers.js";
import { createCursor } from "./cursor.js";
import { asked, clampRange, follow, isWhole, opening, stepsShown } from "./time-window.js";
import { View } from "./view.js";

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
function titled(label, units, range, T) {
  const zoom = isWhole(range, T) ? "" : " · drag to zoom, double-click for all";
  return `${escapeHtml(label)}, units ${units.join(", ")} · ${stepsShown(range, T)}${zoom}`;
}

/** The lines of some units of one name over the range of steps shown, and the layout they are drawn in. */
function figure(trace, name, label, units, options, range) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  const T = trace.steps;
  const x = Array.from({ length: T }, (_, t) => t);
  const data = units.map((u, i) => ({
    type: "scatter", mode: range[1] - range[0] > 200 ? "lines" : "lines+markers", x, y: Array.from(trace.series(name, u)), name: `unit ${u}`,
    line: { color: pal.series[i % pal.series.length], width: sz.line * 1.2 }, marker: { size: sz.line * 3 },
    hovertemplate: `unit ${u}, step %{x}: %{y:.4f}<extra></extra>`,
  }));
  const layout = {
    margin: { l: 48, r: 10, t: 28, b: 34 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: "zoom",
    title: { text: titled(label, units, range, T), font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "t" }, range: range.slice(), autorange: false, fixedrange: false, ...stepTicks(range[1] - range[0]), tick0: 0 },
    yaxis: { fixedrange: true, zeroline: true }, legend: { orientation: "h", y: -0.28 }, showlegend: units.length > 1,
    ...BACKGROUND,
  };
  return { data, layout };
}

export class Lines extends View {
  static id = "lines";
  static panel = { name: "lines", label: "lines" };

  constructor(el, bus) {
    super(el, bus);
    this.key = "";
    this.t = 0;
    Object.assign(this, { range: null, auto: true, whole: false });  // the steps shown; auto: the opening range, until a zoom
    this.line = createCursor(el);
    const panel = el.closest("[data-panel]") ?? document;
    const control = (name) => panel.querySelector(`[data-control="${name}"]`);
  static plotly = true;
    this.controls = { focus: control("focus"), units: control("units"), color: control("color-unit") };
    const { focus, units, color } = this.controls;
    focus.addEventListener("change", () => bus.emit("change", { focus: focus.value }));
    units.addEventListener("change", () => bus.emit("change", { units: units.value.replace(/[^0-9,]/g, "") }));
    color.addEventListener("change", () => {
      const v = color.value === "" ? null : Number(color.value);
      bus.emit("change", { color_unit: Number.isInteger(v) && v >= 0 ? v : null });
    });
  }

  update(trace) {
    super.update(trace);
    if (!this.info) return;
    const name = focusName(trace, this.options);
    // a new chart is drawn at once; more steps of the same one (a run streaming, a student typing) at most every
    // REDRAW_MS, so that a typed character's step reaches the diagram without waiting for these lines
    this.later ??= throttle(() => { if (this.pending) this.draw(this.trace, this.pending); }, REDRAW_MS);
    this.pending = name;
    if (name && this.key?.startsWith(`${name}|`)) this.later.soon();
    else if (name) this.later.now();
    const { focus, units, color } = this.controls;
    focus.replaceChildren(...this.info.glossary.names.filter((n) => trace.has(n.name) && n.role !== "given")
      .map((n) => new Option(n.label, n.name)));
    focus.value = name ?? "";
    units.value = this.options.units;
    color.value = this.options.color_unit ?? "";
  }

  draw(trace, name) {
    const options = this.options, T = trace.steps;
    const label = this.info.glossary.names.find((n) => n.name === name).label;
    const units = chosenUnits(options.units, trace.width(name));
    const key = `${name}|${units}|${options.palette}|${options.presenter}`;
    if (key !== this.key) Object.assign(this, { auto: true, whole: false });  // another chart: it opens anew
    if (this.auto || !this.range) this.range = opening(T, this.t, this.el._fullLayout?._size?.w ?? 800, LINES.minStepPx);
    else this.range = this.whole ? [-0.5, T - 0.5] : clampRange(this.range, T);
    Object.assign(this, { label, units });
    const { data, layout } = figure(trace, name, label, units, options, this.range);
    if (key !== this.key) {
      Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true, doubleClick: "autosize" });
      this.el.on("plotly_click", (e) => { if (e.points?.length) this.bus.emit("seek", Math.round(e.points[0].x)); });
      this.el.on("plotly_relayout", (e) => this.zoomed(e));
      this.key = key;
    } else {
      Plotly.react(this.el, data, layout);
    }
    this.line.color = palette(options.palette).highlight;
    this.line.place();
  }

  /** A drag across the chart zooms its time; a double click shows the whole run. */
  zoomed(e) {
    if ("title.text" in e) return;  // our own setRange: its event may come after a later one, and must not undo it
    const T = this.trace?.steps, range = T ? asked(e, T) : null;
    if (!range || (Math.abs(range[0] - this.range[0]) < 1e-6 && Math.abs(range[1] - this.range[1]) < 1e-6)) return;
    Object.assign(this, { auto: false, whole: isWhole(range, T) });
    this.setRange(range);
  }

  setRange(range) {
    this.range = range;
    const T = this.trace.steps;
    Plotly.relayout(this.el, { "xaxis.range": range.slice(), "xaxis.dtick": stepTicks(range[1] - range[0]).dtick,
      "title.text": titled(this.label, this.units, range, T) });
  }

  show(t, phase, playing) {
    this.t = t;
    const next = this.range && this.trace?.steps && !this.whole ? follow(this.range, t, this.trace.steps) : null;
    if (next && (playing || t !== this.trace.steps - 1)) this.setRange(next);
    else if (next) {  // typing at the end: the window moves with the steps' redraw, not once per key
      this.range = next;
      this.later.soon();
    }
    this.line.move(t);
  }
}
