// How far back the last hidden state reaches: ||dh(T)/dh(t)||, ||dh(T)/dc(t)||, ||dh(T)/dx(t)|| over t,
// on a log scale. Several models can share one plot (the compare page: rnn vs lstm vs gru).

import { FONT_FAMILY, palette, sizes, stepTicks } from "../core/config.js";
import { createCursor } from "./cursor.js";
import { escapeHtml } from "../core/text.js";

const LABEL = { h: "‖∂h(T)/∂h(t)‖", c: "‖∂h(T)/∂c(t)‖", x: "‖∂h(T)/∂x(t)‖" };
const DASH = { h: "solid", c: "dash", x: "dot" };

/** GET /api/gradients for a query; the body, or an Error with the server's message. */
export async function fetchFlow(params) {
  const r = await fetch(`/api/gradients?${params}`);
  const body = await r.json();
  if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
  return body;
}

export function createGradients(el) {
  let built = false;
  const line = createCursor(el, "#e8590c");

  /** series: [{label, flow: {h, c, x}}]; keys: which norms to draw. */
  function draw(series, options, keys = ["h", "c"]) {
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const traces = [];
    series.forEach((s, i) => {
      for (const k of keys) {
        if (!s.flow[k]) continue;
        const y = s.flow[k].map((v) => (v > 0 ? v : null));  // log scale: a zero is "nothing reaches"
        traces.push({ type: "scatter", mode: "lines", x: y.map((_, t) => t), y, name: `${escapeHtml(s.label)} ${LABEL[k]}`,
          line: { color: pal.series[i % pal.series.length], dash: DASH[k], width: sz.line * 1.3 },
          hovertemplate: `${escapeHtml(s.label)}, step %{x}: %{y:.3g}<extra>${LABEL[k]}</extra>` });
      }
    });
    const layout = {
      margin: { l: 56, r: 10, t: 28, b: 40 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
      title: { text: "How much h(T) still depends on step t (log scale)", font: { size: sz.font }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: "step t" }, fixedrange: true, ...stepTicks(Math.max(...series.map((s) => s.flow.h.length))) }, yaxis: { type: "log", fixedrange: true, exponentformat: "power" },
      legend: { orientation: "h", y: -0.25 }, paper_bgcolor: "white", plot_bgcolor: "white",
    };
    if (built) Plotly.react(el, traces, layout);
    else Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true });
    built = true;
    line.color = pal.highlight;
    line.place();
  }

  function cursor(t) {
    line.move(t);
  }

  return { draw, cursor };
}
