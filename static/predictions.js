// What the model's output head says at the current step: the top next tokens, or its value over time.

import { FONT_FAMILY, palette, sizes, stepTicks } from "./config.js";
import { escapeHtml, showToken } from "./text.js";

export function createPredictions(el) {
  let header = null, built = false;

  function setHeader(h) {
    header = h.prediction;
    built = false;
  }

  function show(store, t, options) {
    if (!header || !store.has("prediction") || !store.steps) return;
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const v = store.value("prediction", t);
    let traces, layout;
    if (header.kind === "softmax") {
      const top = Array.from(v, (p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).reverse();
      traces = [{ type: "bar", orientation: "h", x: top.map((p) => p[0]), y: top.map((p) => `${escapeHtml(showToken(header.labels[p[1]]))} `),
        marker: { color: pal.series[0] }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>", text: top.map((p) => p[0].toFixed(2)), textposition: "outside" }];
      layout = { title: { text: `next token after step ${t}`, font: { size: sz.font }, x: 0.01, xanchor: "left" },
        xaxis: { range: [0, 1.15], fixedrange: true, showgrid: false }, yaxis: { fixedrange: true, automargin: true } };
    } else {
      const T = store.steps, x = Array.from({ length: T }, (_, i) => i);
      traces = header.labels.map((label, k) => ({ type: "scatter", mode: "lines", x, y: Array.from(store.series("prediction", k)),
        name: escapeHtml(label), line: { color: pal.series[k % pal.series.length], width: sz.line * 1.2 } }));
      layout = { title: { text: `output at step ${t}: ${Array.from(v, (x) => x.toFixed(3)).join(", ")}`, font: { size: sz.font }, x: 0.01, xanchor: "left" },
        xaxis: { fixedrange: true, title: { text: "step" }, ...stepTicks(T) }, yaxis: { fixedrange: true },
        shapes: [{ type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1, line: { color: pal.highlight, width: sz.line } }] };
    }
    Object.assign(layout, { margin: { l: 60, r: 16, t: 30, b: 30 }, font: { family: FONT_FAMILY, size: sz.small }, showlegend: false,
      dragmode: false, paper_bgcolor: "white", plot_bgcolor: "white" });
    if (!built) {
      Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true });
      built = true;
    } else {
      Plotly.react(el, traces, layout);
    }
  }

  return { setHeader, show };
}
