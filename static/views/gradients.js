// How far back the last hidden state reaches: ||dh(T)/dh(t)||, ||dh(T)/dc(t)||, ||dh(T)/dx(t)|| over t,
// on a log scale. Several models can share one plot (the compare page: rnn vs lstm vs gru).

import { BACKGROUND, FONT_FAMILY, niceStep, palette, sizes, stepTicks } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { escapeHtml } from "gatescope/core/text.js";
import { createCursor } from "gatescope/views/cursor.js";
import { View } from "gatescope/views/view.js";

const LABEL = { h: "‖∂h(T)/∂h(t)‖", c: "‖∂h(T)/∂c(t)‖", x: "‖∂h(T)/∂x(t)‖" };
const DASH = { h: "solid", c: "dash", x: "dot" };

/**
 * The log axis's range: from a little under the smallest non-zero value drawn (the vanishing end is the point
 * of the plot: an RNN's 1e-20 must show) to a little over the largest.
 */
export function logRange(values) {
  const shown = values.filter((v) => v > 0 && Number.isFinite(v));
  if (!shown.length) return [-1, 1];
  const lo = Math.log10(Math.min(...shown)), hi = Math.log10(Math.max(...shown));
  const pad = Math.max(0.25, (hi - lo) * 0.04);
  return [Math.floor((lo - pad) * 4) / 4, Math.ceil((hi + pad) * 4) / 4];
}

/** Every norm of every series, as lines; a step whose norm is exactly 0 is left out, and the title says so. */
function figure(series, options, keys) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  const T = Math.max(1, ...series.map((s) => s.flow.h.length));
  const data = [], all = [];
  let zeros = 0;
  series.forEach((s, i) => {
    for (const k of keys) {
      if (!s.flow[k]) continue;
      const y = s.flow[k].map((v) => (v > 0 ? v : null));  // log scale: a zero is "nothing reaches"
      zeros += y.filter((v) => v === null).length;
      all.push(...s.flow[k]);
      data.push({ type: "scatter", mode: T <= 64 ? "lines+markers" : "lines", x: y.map((_, t) => t), y, name: `${escapeHtml(s.label)} ${LABEL[k]}`,
        line: { color: pal.series[i % pal.series.length], dash: DASH[k], width: sz.line * 1.3 }, marker: { size: sz.line * 3.5 },
        cliponaxis: false, hovertemplate: `${tr("{label}, step %{x}: %{y:.3g}", { label: escapeHtml(s.label) })}<extra>${LABEL[k]}</extra>` });
    }
  });
  const [lo, hi] = logRange(all);
  const dropped = zeros > 1 ? tr("{n} exact zeros not drawn", { n: zeros }) : tr("{n} exact zero not drawn", { n: zeros });
  const title = `${tr("How much h(T) still depends on step t (log scale)")}${zeros ? ` · ${dropped}` : ""}`;
  const layout = {
    margin: { l: 64, r: 14, t: 30, b: 40 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
    title: { text: title, font: { size: sz.font }, x: 0.01, xanchor: "left" },
    // the title names the axis ("step t"): an axis title of its own sat under the legend on a small chart
    xaxis: { fixedrange: true, range: [-0.5, T - 0.5], ...stepTicks(T) },
    yaxis: { type: "log", fixedrange: true, autorange: false, range: [lo, hi], exponentformat: "power", dtick: niceStep((hi - lo) / 7) },
    legend: { orientation: "h", y: -0.14, yanchor: "top" }, ...BACKGROUND,
  };
  return { data, layout };
}

export class Gradients extends View {
  static id = "gradients";
  static plotly = true;
  static panel = { name: "gradients", label: tr("gradient flow"), needs: "flow" };

  constructor(el, bus) {
    super(el, bus);
    this.built = false;
    this.drawn = null;
    this.line = createCursor(el);
  }

  /** options.flowKeys: which norms to draw (h and c unless told); options.panels: whether the panel is shown. */
  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.keys = options.flowKeys ?? ["h", "c"];
    this.follows = options.panels === undefined || options.panels.split(",").includes("gradients");
    this.drawn = null;
  }

  /** The trace's flow ([{label, flow: {h, c, x}}]), once it has come. */
  update(trace) {
    if (!trace.flow || trace.flow === this.drawn) return;
    const { data, layout } = figure(trace.flow, this.options, this.keys);
    if (this.built) Plotly.react(this.el, data, layout);
    else Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true });
    this.built = true;
    this.drawn = trace.flow;
    this.line.color = palette(this.options.palette).highlight;
    this.line.place();
  }

  show(t) {
    if (this.follows) this.line.move(t);
  }
}
