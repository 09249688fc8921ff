// The cell diagram (views/diagram-figure.js draws it) holding the real numbers of the current step. A shown
// step is a Plotly restyle of marker colors; while playing, frames paint the SVG Plotly drew directly (a
// restyle redraws the whole figure, ~50 ms; painting takes ~1 ms), and the next paused step puts Plotly's
// own state back in line. Hovering a cell says which unit on the bus.

import { colorAt } from "../core/colors.js";
import { DIAGRAM } from "../core/config.js";
import { ROW, STRIP_H, figure, shapeLook } from "./diagram-figure.js";
import { View } from "./view.js";

export class Diagram extends View {
  static id = "diagram";
  static panel = { name: "diagram", label: "diagram" };

  constructor(el, bus) {
    super(el, bus);
    window.addEventListener("resize", () => { if (this.info) { Plotly.Plots.resize(el); this.fitMarkers(); } });
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    const el = this.el;
    const f = figure(kindInfo, header.model, options, el.clientWidth);
    Object.assign(this, { shapeOwner: f.shapeOwner, stripIndex: f.stripIndex, scales: f.scales });
    this.glossary = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
    this.names = kindInfo.diagram.nodes.map((n) => n.name);
    this.order = kindInfo.glossary.phases.map((p) => p.name);
    Plotly.newPlot(el, f.data, f.layout, { displayModeBar: false, responsive: true, staticPlot: false });
    el.on("plotly_afterplot", () => { this.dom = null; });  // Plotly may have made new elements
    this.fitMarkers();
    this.lastPhase = null;
    this.painted = false;
    el.on("plotly_hover", (e) => this.bus.emit("hover", { name: e.points[0]?.data?.name, unit: e.points[0]?.customdata }));
  }

  /** Marker sizes follow the figure's pixel scale, so strips fill their width at any size. */
  fitMarkers() {
    const full = this.el._fullLayout;
    if (!full || !this.info) return;
    const pxPerUnit = full.xaxis._length / (full.xaxis.range[1] - full.xaxis.range[0]);
    const idx = [], size = [];
    for (const name of this.names) {
      const n = this.el.data[this.stripIndex[name]].x.length;
      idx.push(this.stripIndex[name]);
      size.push(Math.max(2, Math.min(STRIP_H * pxPerUnit, (DIAGRAM.stripWidth / Math.min(n, ROW)) * pxPerUnit * 0.88)));
    }
    Plotly.restyle(this.el, { "marker.size": size }, idx);
  }

  /** Unbounded names (c, kept, pre-activations) colored on ±their largest magnitude so far. */
  update(trace) {
    super.update(trace);
    if (!this.info) return;
    const idx = [], cmin = [], cmax = [];
    for (const name of this.names) {
      if (this.glossary[name].range !== "real" || !trace.has(name)) continue;
      const m = Math.max(1, trace.maxAbs(name));
      idx.push(this.stripIndex[name]);
      cmin.push(-m);
      cmax.push(m);
      this.scales[name] = { ...this.scales[name], cmin: -m, cmax: m };
    }
    if (idx.length) Plotly.restyle(this.el, { "marker.cmin": cmin, "marker.cmax": cmax }, idx);
  }

  /**
   * Show step t. phase: the active animation phase, or null for all at once. Names in later phases are
   * drawn faint; the active phase's shapes are outlined in the highlight color.
   */
  show(t, phase, playing = false) {
    const trace = this.trace;
    if (!this.info || !trace?.steps) return;
    if (playing) return this.paint(t, phase);
    const active = phase ? this.order.indexOf(phase) : this.order.length;
    const idx = [], colors = [], opacity = [];
    for (const name of this.names) {
      if (!trace.has(name)) continue;
      const n = this.el.data[this.stripIndex[name]].x.length;
      idx.push(this.stripIndex[name]);
      colors.push(Array.from(trace.value(name, t).subarray(0, n)));
      opacity.push(this.order.indexOf(this.glossary[name].phase) <= active ? 1 : 0.18);
    }
    Plotly.restyle(this.el, { "marker.color": colors, opacity }, idx);
    if (phase === this.lastPhase && !this.painted) return;
    this.painted = false;
    const update = {};
    this.el.layout.shapes.forEach((s, i) => {
      const look = shapeLook(s, this.shapeOwner[i], this.glossary, this.order, phase, this.options);
      update[`shapes[${i}].opacity`] = look.opacity;
      if (look.color) {
        update[`shapes[${i}].line.width`] = look.width;
        update[`shapes[${i}].line.color`] = look.color;
      }
    });
    Plotly.relayout(this.el, update);
    this.lastPhase = phase;
  }

  /** The SVG elements of the strips (per name) and of the shapes (by index), as Plotly last drew them. */
  elements() {
    if (this.dom) return this.dom;
    const groups = this.el.querySelectorAll(".scatterlayer .trace");
    const dom = { points: {}, groups: {}, shapes: [] };
    for (const name of this.names) {
      const g = groups[this.stripIndex[name]];
      dom.groups[name] = g;
      dom.points[name] = g ? g.querySelectorAll("path.point") : [];
    }
    this.el.querySelectorAll(".shapelayer path[data-index]").forEach((p) => { dom.shapes[Number(p.dataset.index)] = p; });
    this.dom = dom;
    return dom;
  }

  /** One playing frame: cell colors, faded phases and the active phase's outline, written into the SVG. */
  paint(t, phase) {
    const d = this.elements(), trace = this.trace;
    const active = phase ? this.order.indexOf(phase) : this.order.length;
    for (const name of this.names) {
      if (!trace.has(name)) continue;
      const pts = d.points[name], values = trace.value(name, t), { colorscale, cmin, cmax } = this.scales[name];
      for (let i = 0; i < pts.length; i++) pts[i].style.fill = colorAt(values[i], colorscale, cmin, cmax);
      if (d.groups[name]) d.groups[name].style.opacity = this.order.indexOf(this.glossary[name].phase) <= active ? 1 : 0.18;
    }
    if (phase !== this.paintedPhase) {
      d.shapes.forEach((path, i) => {
        const look = shapeLook(this.el.layout.shapes[i], this.shapeOwner[i], this.glossary, this.order, phase, this.options);
        path.style.opacity = look.opacity;
        if (look.color) {
          path.style.strokeWidth = `${look.width}px`;
          path.style.stroke = look.color;
        }
      });
      this.paintedPhase = phase;
    }
    this.painted = true;
  }
}
