// Saturation (Karpathy, Johnson & Fei-Fei 2015): for every unit of every gate, the fraction of steps it
// spends below 0.1 ("closed") and above 0.9 ("open"). Units in the corners are switches; units in the
// middle hover; a forget gate that remembers sits high on the "open" axis.

import { BACKGROUND, FONT_FAMILY, INK, palette, sizes } from "gatescope/core/config.js";
import { local, tr } from "gatescope/core/i18n.js";
import { escapeHtml } from "gatescope/core/text.js";
import { View } from "gatescope/views/view.js";

/** For one (T, width) gate: per unit, [fraction < 0.1, fraction > 0.9]. Pure. */
export function saturation(series) {
  return series.map((values) => {
    let low = 0, high = 0;
    for (const v of values) {
      if (v < 0.1) low++;
      else if (v > 0.9) high++;
    }
    return [low / values.length, high / values.length];
  });
}

export class Saturation extends View {
  static id = "saturation";
  static plotly = true;
  static panel = { name: "saturation", label: tr("gate saturation") };

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.follows = options.panels.split(",").includes("saturation");
    this.drawn = false;
  }

  /** Drawn once the run is complete (and again after a rebuild), only while the panel is shown. */
  update(trace) {
    if (!this.follows || !trace.complete || this.drawn) return;
    this.draw(trace, this.info.glossary, this.options);
    this.drawn = true;
  }

  draw(trace, glossary, options) {
    const pal = palette(options.palette), sz = sizes(options.presenter);
    const gates = glossary.names.filter((n) => n.role === "gate" && n.range === "unit" && trace.has(n.name));
    const data = gates.map((g, i) => {
      const label = escapeHtml(local(g, "label"));
      const units = Array.from({ length: trace.width(g.name) }, (_, u) => trace.series(g.name, u));
      const points = saturation(units);
      return { type: "scatter", mode: "markers", name: label, x: points.map((p) => p[0]), y: points.map((p) => p[1]),
        customdata: points.map((_, u) => u), marker: { size: sz.cell * 0.9, color: pal.series[i % pal.series.length], opacity: 0.8, line: { width: 0.5, color: INK.pointEdge } },
        hovertemplate: `${tr("{label} unit %{customdata}<br>closed (<0.1) %{x:.0%} · open (>0.9) %{y:.0%}", { label })}<extra></extra>` };
    });
    Plotly.react(this.el, data, {
      margin: { l: 56, r: 10, t: 28, b: 44 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
      title: { text: tr("Gate saturation: time each unit spends closed and open"), font: { size: sz.font }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: tr("fraction of steps closed (< 0.1)") }, range: [-0.03, 1.03], fixedrange: true, tickformat: ".0%" },
      yaxis: { title: { text: tr("fraction open (> 0.9)") }, range: [-0.03, 1.03], fixedrange: true, tickformat: ".0%" },
      shapes: [{ type: "line", x0: 0, y0: 1, x1: 1, y1: 0, line: { color: INK.guide, dash: "dot", width: 1 } }],
      legend: { orientation: "h", y: -0.3 }, ...BACKGROUND,
    }, { displayModeBar: false, responsive: true });
  }
}
