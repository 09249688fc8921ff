// Chosen units of one name over time, as lines, with the current step marked.

import { FONT_FAMILY, palette, sizes, stepTicks } from "../core/config.js";
import { createCursor } from "./cursor.js";
import { escapeHtml } from "../core/text.js";

/** Units from the "units" field ("0,3,5"), or the first four; only those the name has. */
export function chosenUnits(spec, width) {
  const asked = String(spec || "").split(",").filter((s) => s !== "").map(Number).filter((u) => Number.isInteger(u) && u >= 0 && u < width);
  return asked.length ? [...new Set(asked)].slice(0, 8) : Array.from({ length: Math.min(4, width) }, (_, i) => i);
}

export function createLines(el, { onSeek } = {}) {
  let built = false, key = "";
  const line = createCursor(el, "#e8590c");

  function update(store, name, label, unitSpec, options) {
    if (!store.has(name)) return;
    const units = chosenUnits(unitSpec, store.width(name));
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const T = store.steps;
    const x = Array.from({ length: T }, (_, t) => t);
    const traces = units.map((u, i) => ({
      type: "scatter", mode: T > 200 ? "lines" : "lines+markers", x, y: Array.from(store.series(name, u)), name: `unit ${u}`,
      line: { color: pal.series[i % pal.series.length], width: sz.line * 1.2 }, marker: { size: sz.line * 3 },
      hovertemplate: `unit ${u}, step %{x}: %{y:.4f}<extra></extra>`,
    }));
    const nextKey = `${name}|${units}|${options.palette}|${options.presenter}`;
    const layout = {
      margin: { l: 48, r: 10, t: 28, b: 34 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
      title: { text: `${escapeHtml(label)}, units ${units.join(", ")}`, font: { size: sz.font }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: "step" }, range: [-0.5, Math.max(T - 0.5, 0.5)], fixedrange: true, ...stepTicks(T) },
      yaxis: { fixedrange: true, zeroline: true }, legend: { orientation: "h", y: -0.28 }, showlegend: units.length > 1,
      paper_bgcolor: "white", plot_bgcolor: "white",
    };
    if (!built || nextKey !== key) {
      Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true });
      el.on("plotly_click", (e) => { if (e.points?.length && onSeek) onSeek(Math.round(e.points[0].x)); });
      built = true;
      key = nextKey;
    } else {
      Plotly.react(el, traces, layout);
    }
    line.color = pal.highlight;
    line.place();
  }

  function cursor(t) {
    line.move(t);
  }

  return { update, cursor };
}
