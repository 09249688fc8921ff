// Every gate and state over the whole sequence: one heatmap per name (units x time), stacked, sharing the
// time axis; one cursor line (an overlay, see cursor.js) crosses them all at the current step, and a click
// on a column asks the page to go there.

import { scaleFor } from "../core/colors.js";
import { BACKGROUND, FONT_FAMILY, HEATMAP, palette, sizes, stepTicks } from "../core/config.js";
import { escapeHtml, showToken } from "../core/text.js";
import { createCursor } from "./cursor.js";
import { View } from "./view.js";

const SHOWN_ROLES = ["gate", "candidate", "product", "state", "output"];

/** The names the heatmaps show by default: gates, candidate, products and states (not inputs, not pre-activations). */
function defaultNames(glossary) {
  return glossary.names.filter((n) => SHOWN_ROLES.includes(n.role)).map((n) => n.name).slice(0, HEATMAP.maxNames);
}

/** The empty figure: one heatmap and one y axis per name. */
function figure(glossary, names, options) {
  const sz = sizes(options.presenter);
  const rowPx = options.presenter ? HEATMAP.presenterRowHeight : HEATMAP.rowHeight;
  const gap = 0.25 / Math.max(1, names.length);
  const data = [], layout = {
    height: Math.max(200, names.length * rowPx + 40), margin: { l: 92, r: 12, t: 6, b: 34 },
    font: { family: FONT_FAMILY, size: sz.small }, showlegend: false, dragmode: false, hovermode: "closest",
    xaxis: { anchor: `y${names.length}`, title: { text: "step", font: { size: sz.small } }, fixedrange: true, showgrid: false },
    ...BACKGROUND,
  };
  names.forEach((name, i) => {
    const v = glossary[name];
    const top = 1 - i / names.length, bottom = 1 - (i + 1) / names.length + gap;
    const axis = i === 0 ? "yaxis" : `yaxis${i + 1}`;
    layout[axis] = { domain: [bottom, top], fixedrange: true, showgrid: false, zeroline: false, ticks: "", showticklabels: false,
      title: { text: escapeHtml(v.symbol), font: { size: sz.small }, standoff: 4 } };
    const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
    data.push({ type: "heatmap", z: [[]], xaxis: "x", yaxis: i === 0 ? "y" : `y${i + 1}`, colorscale, zmin: cmin, zmax: cmax,
      showscale: false, name, meta: escapeHtml(v.label),
      hovertemplate: "<b>%{meta}</b><br>step %{x}, unit %{y}: %{z:.4f}<extra></extra>" });
  });
  return { data, layout };
}

export class Heatmaps extends View {
  static id = "heatmaps";
  static panel = { name: "heatmaps", label: "heatmaps" };

  /** cursor: false for a snapshot with no current step (the trainer's probe). */
  constructor(el, bus, { cursor = true } = {}) {
    super(el, bus);
    this.names = [];
    this.built = false;
    this.line = cursor ? createCursor(el) : null;
  }

  /** options.names: which names to stack (the default names of the kind otherwise). */
  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    const glossary = kindInfo.glossary;
    this.glossary = Object.fromEntries(glossary.names.map((n) => [n.name, n]));
    this.names = (options.names ?? defaultNames(glossary)).filter((n) => this.glossary[n]);
    const { data, layout } = figure(this.glossary, this.names, options);
    Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true });
    this.el.on("plotly_click", (e) => { if (e.points?.length) this.bus?.emit("seek", Math.round(e.points[0].x)); });
    this.built = true;
    if (!this.line) return;
    this.line.color = palette(options.palette).highlight;
    this.line.place();
  }

  /** Redraw every heatmap from the trace (after new steps arrive). */
  update(trace) {
    super.update(trace);
    if (!this.built || !trace.steps) return;
    const names = this.names, T = trace.steps;
    const z = names.map((n) => (trace.has(n) ? trace.matrix(n) : [[]]));
    const ranges = names.map((n) => scaleFor(this.glossary[n].range, this.options.palette, trace.has(n) ? trace.maxAbs(n) : 1));
    const update = { z, x: names.map(() => Array.from({ length: T }, (_, t) => t)), zmin: ranges.map((r) => r.cmin), zmax: ranges.map((r) => r.cmax) };
    Plotly.restyle(this.el, update, names.map((_, i) => i));
    const axis = { "xaxis.range": [-0.5, T - 0.5] };
    if (T <= 48) {
      axis["xaxis.tickvals"] = Array.from({ length: T }, (_, t) => t);
      axis["xaxis.ticktext"] = trace.tokens.slice(0, T).map((tok) => escapeHtml(showToken(tok)));
    } else {
      axis["xaxis.tickvals"] = null;
      axis["xaxis.ticktext"] = null;
      Object.assign(axis, Object.fromEntries(Object.entries(stepTicks(T)).map(([k, v]) => [`xaxis.${k}`, v])));
    }
    Plotly.relayout(this.el, axis);
  }

  show(t) {
    this.line?.move(t);  // also kept for a figure built later
  }
}
