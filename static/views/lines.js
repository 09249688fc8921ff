// Chosen units of one name over time, as lines, with the current step marked; and the lines panel's
// controls: which vector to follow (the token colors follow it too), which units, and the token colors.

import { BACKGROUND, FONT_FAMILY, palette, sizes, stepTicks } from "../core/config.js";
import { escapeHtml } from "../core/text.js";
import { createCursor } from "./cursor.js";
import { View } from "./view.js";

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

/** The lines of some units of one name, and the layout they are drawn in. */
function figure(trace, name, label, units, options) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  const T = trace.steps;
  const x = Array.from({ length: T }, (_, t) => t);
  const data = units.map((u, i) => ({
    type: "scatter", mode: T > 200 ? "lines" : "lines+markers", x, y: Array.from(trace.series(name, u)), name: `unit ${u}`,
    line: { color: pal.series[i % pal.series.length], width: sz.line * 1.2 }, marker: { size: sz.line * 3 },
    hovertemplate: `unit ${u}, step %{x}: %{y:.4f}<extra></extra>`,
  }));
  const layout = {
    margin: { l: 48, r: 10, t: 28, b: 34 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
    title: { text: `${escapeHtml(label)}, units ${units.join(", ")}`, font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "step" }, range: [-0.5, Math.max(T - 0.5, 0.5)], fixedrange: true, ...stepTicks(T) },
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
    this.line = createCursor(el);
    const panel = el.closest("[data-panel]") ?? document;
    const control = (name) => panel.querySelector(`[data-control="${name}"]`);
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
    if (name) this.draw(trace, name);
    const { focus, units, color } = this.controls;
    focus.replaceChildren(...this.info.glossary.names.filter((n) => trace.has(n.name) && n.role !== "given")
      .map((n) => new Option(n.label, n.name)));
    focus.value = name ?? "";
    units.value = this.options.units;
    color.value = this.options.color_unit ?? "";
  }

  draw(trace, name) {
    const options = this.options;
    const label = this.info.glossary.names.find((n) => n.name === name).label;
    const units = chosenUnits(options.units, trace.width(name));
    const { data, layout } = figure(trace, name, label, units, options);
    const key = `${name}|${units}|${options.palette}|${options.presenter}`;
    if (key !== this.key) {
      Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true });
      this.el.on("plotly_click", (e) => { if (e.points?.length) this.bus.emit("seek", Math.round(e.points[0].x)); });
      this.key = key;
    } else {
      Plotly.react(this.el, data, layout);
    }
    this.line.color = palette(options.palette).highlight;
    this.line.place();
  }

  show(t) {
    this.line.move(t);
  }
}
