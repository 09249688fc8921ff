// How far back the last hidden state reaches: ||dh(T)/dh(t)||, ||dh(T)/dc(t)||, ||dh(T)/dx(t)|| over t,
// on a log scale. Several models can share one plot (the compare page: rnn vs lstm vs gru).

import { BACKGROUND, FONT_FAMILY, palette, sizes, stepTicks } from "../core/config.js";
import { escapeHtml } from "../core/text.js";
import { createCursor } from "./cursor.js";
import { View } from "./view.js";

const LABEL = { h: "‖∂h(T)/∂h(t)‖", c: "‖∂h(T)/∂c(t)‖", x: "‖∂h(T)/∂x(t)‖" };
const DASH = { h: "solid", c: "dash", x: "dot" };

/** Every norm of every series, as lines. */
function figure(series, options, keys) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  const data = [];
  series.forEach((s, i) => {
    for (const k of keys) {
      if (!s.flow[k]) continue;
      const y = s.flow[k].map((v) => (v > 0 ? v : null));  // log scale: a zero is "nothing reaches"
      data.push({ type: "scatter", mode: "lines", x: y.map((_, t) => t), y, name: `${escapeHtml(s.label)} ${LABEL[k]}`,
        line: { color: pal.series[i % pal.series.length], dash: DASH[k], width: sz.line * 1.3 },
        hovertemplate: `${escapeHtml(s.label)}, step %{x}: %{y:.3g}<extra>${LABEL[k]}</extra>` });
    }
  });
  const layout = {
    margin: { l: 56, r: 10, t: 28, b: 40 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
    title: { text: "How much h(T) still depends on step t (log scale)", font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "step t" }, fixedrange: true, ...stepTicks(Math.max(...series.map((s) => s.flow.h.length))) }, yaxis: { type: "log", fixedrange: true, exponentformat: "power" },
    legend: { orientation: "h", y: -0.25 }, ...BACKGROUND,
  };
  return { data, layout };
}

export class Gradients extends View {
  static id = "gradients";
  static panel = { name: "gradients", label: "gradient flow", needs: "flow" };

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
