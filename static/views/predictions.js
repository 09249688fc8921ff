// What the model's output head says: the top next tokens at the current step (softmax), or its outputs
// over the whole sequence with the current step marked (linear). While playing, the bars are redrawn at
// most ten times a second and the line chart not at all: only its cursor and caption move.

import { FONT_FAMILY, palette, sizes, stepTicks } from "../core/config.js";
import { createCursor } from "./cursor.js";
import { escapeHtml, num, showToken } from "../core/text.js";

const PLAYING_REDRAW_MS = 100;

export function createPredictions(el) {
  let header = null, built = false, lastDraw = 0;
  const caption = document.createElement("div");
  caption.className = "chart-caption";
  el.before(caption);
  const line = createCursor(el, "#e8590c");

  function setHeader(h) {
    header = h.prediction;
    built = false;
  }

  const base = (sz) => ({ margin: { l: 60, r: 16, t: 8, b: 30 }, font: { family: FONT_FAMILY, size: sz.small }, showlegend: false,
    dragmode: false, paper_bgcolor: "white", plot_bgcolor: "white" });

  function plot(traces, layout) {
    if (built) Plotly.react(el, traces, layout);
    else Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true });
    built = true;
  }

  /** After steps arrive: a linear head's outputs over the whole sequence. */
  function refresh(store, options) {
    if (!header || header.kind !== "linear" || !store.has("prediction") || !store.steps) return;
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const T = store.steps, x = Array.from({ length: T }, (_, i) => i);
    plot(header.labels.map((label, k) => ({ type: "scatter", mode: "lines", x, y: Array.from(store.series("prediction", k)),
      name: escapeHtml(label), line: { color: pal.series[k % pal.series.length], width: sz.line * 1.2 } })),
    { ...base(sz), xaxis: { fixedrange: true, title: { text: "step" }, ...stepTicks(T) }, yaxis: { fixedrange: true } });
    line.color = pal.highlight;
    line.place();
  }

  function show(store, t, options, playing = false) {
    if (!header || !store.has("prediction") || !store.steps) return;
    const v = store.value("prediction", t);
    if (header.kind === "linear") {
      caption.textContent = `output at step ${t}: ${Array.from(v, (x) => num(x, 3)).join(", ")}`;
      line.move(t);
      return;
    }
    const now = performance.now();
    if (playing && now - lastDraw < PLAYING_REDRAW_MS) return;
    lastDraw = now;
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const top = Array.from(v, (p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).reverse();
    caption.textContent = `next token after step ${t}`;
    plot([{ type: "bar", orientation: "h", x: top.map((p) => p[0]), y: top.map((p) => `${escapeHtml(showToken(header.labels[p[1]]))} `),
      marker: { color: pal.series[0] }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>", text: top.map((p) => p[0].toFixed(2)), textposition: "outside" }],
    { ...base(sz), xaxis: { range: [0, 1.15], fixedrange: true, showgrid: false }, yaxis: { type: "category", fixedrange: true, automargin: true } });
  }

  return { setHeader, refresh, show };
}
