// Every gate and state over the whole sequence: one heatmap per name (units x time), stacked, sharing the
// time axis; one cursor line (an overlay, see cursor.js) crosses them all at the current step, and a click
// on a column jumps there.

import { scaleFor } from "../core/colors.js";
import { FONT_FAMILY, HEATMAP, palette, sizes, stepTicks } from "../core/config.js";
import { createCursor } from "./cursor.js";
import { escapeHtml, showToken } from "../core/text.js";

const SHOWN_ROLES = ["gate", "candidate", "product", "state", "output"];

/** The names the heatmaps show by default: gates, candidate, products and states (not inputs, not pre-activations). */
export function defaultNames(vocabulary) {
  return vocabulary.names.filter((n) => SHOWN_ROLES.includes(n.role)).map((n) => n.name).slice(0, HEATMAP.maxNames);
}

export function createHeatmaps(el, { onSeek, cursor: withCursor = true } = {}) {
  let names = [], vocab = {}, opts = {}, built = false;
  const line = withCursor ? createCursor(el, "#e8590c") : { move() {}, place() {}, set color(c) {} };

  function build(vocabulary, options, chosen) {
    vocab = Object.fromEntries(vocabulary.names.map((n) => [n.name, n]));
    names = chosen.filter((n) => vocab[n]);
    opts = options;
    const sz = sizes(options.presenter);
    const rowPx = options.presenter ? HEATMAP.presenterRowHeight : HEATMAP.rowHeight;
    const gap = 0.25 / Math.max(1, names.length);
    const traces = [], layout = {
      height: Math.max(200, names.length * rowPx + 40), margin: { l: 92, r: 12, t: 6, b: 34 },
      font: { family: FONT_FAMILY, size: sz.small }, showlegend: false, dragmode: false, hovermode: "closest",
      xaxis: { anchor: `y${names.length}`, title: { text: "step", font: { size: sz.small } }, fixedrange: true, showgrid: false },
      paper_bgcolor: "white", plot_bgcolor: "white",
    };
    names.forEach((name, i) => {
      const v = vocab[name];
      const top = 1 - i / names.length, bottom = 1 - (i + 1) / names.length + gap;
      const axis = i === 0 ? "yaxis" : `yaxis${i + 1}`;
      layout[axis] = { domain: [bottom, top], fixedrange: true, showgrid: false, zeroline: false, ticks: "", showticklabels: false,
        title: { text: escapeHtml(v.symbol), font: { size: sz.small }, standoff: 4 } };
      const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
      traces.push({ type: "heatmap", z: [[]], xaxis: "x", yaxis: i === 0 ? "y" : `y${i + 1}`, colorscale, zmin: cmin, zmax: cmax,
        showscale: false, name, meta: escapeHtml(v.label),
        hovertemplate: "<b>%{meta}</b><br>step %{x}, unit %{y}: %{z:.4f}<extra></extra>" });
    });
    Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true });
    el.on("plotly_click", (e) => { if (e.points?.length && onSeek) onSeek(Math.round(e.points[0].x)); });
    line.color = palette(options.palette).highlight;
    built = true;
    line.place();
  }

  /** Redraw every heatmap from the store (after new steps arrive). */
  function update(store) {
    if (!built || !store.steps) return;
    const z = names.map((n) => (store.has(n) ? store.matrix(n) : [[]]));
    const T = store.steps;
    const ranges = names.map((n) => scaleFor(vocab[n].range, opts.palette, store.has(n) ? store.maxAbs(n) : 1));
    const update = { z, x: names.map(() => Array.from({ length: T }, (_, t) => t)), zmin: ranges.map((r) => r.cmin), zmax: ranges.map((r) => r.cmax) };
    Plotly.restyle(el, update, names.map((_, i) => i));
    const axis = { "xaxis.range": [-0.5, T - 0.5] };
    if (T <= 48) {
      axis["xaxis.tickvals"] = Array.from({ length: T }, (_, t) => t);
      axis["xaxis.ticktext"] = store.tokens.slice(0, T).map((tok) => escapeHtml(showToken(tok)));
    } else {
      axis["xaxis.tickvals"] = null;
      axis["xaxis.ticktext"] = null;
      Object.assign(axis, Object.fromEntries(Object.entries(stepTicks(T)).map(([k, v]) => [`xaxis.${k}`, v])));
    }
    Plotly.relayout(el, axis);
  }

  function cursor(t) {
    line.move(t);  // also kept for a figure built later
  }

  return { build, update, cursor, get names() { return names; } };
}
