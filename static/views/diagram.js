// The cell diagram (views/diagram-figure.js lays it out) holding the real numbers of the current step. Plotly
// draws the figure once per run; a step, paused or playing, then writes its colours straight into the SVG Plotly
// drew (a restyle redraws the whole figure, 50-90 ms; this takes about 1 ms) and into the figure's own data and
// layout, in place, so a hover and a PNG export read the step that is shown. Hovering a cell says which unit.

import { colorAt } from "../core/colors.js";
import { ROW, drawnUnits, figure, labelText, preTicks, shapeLook, unitsNote } from "./diagram-figure.js";
import { View } from "./view.js";

const FAINT = 0.18;  // a strip whose phase is still to come

/**
 * The units the diagram draws when not all fit: the view's units= (shared with the line plots), else the units
 * the model card's notes talk about ("unit 38 tracks spaces"), else none (the first ones).
 */
export function chosenUnits(options, header) {
  const listed = String(options.units ?? "").split(",").filter(Boolean).map(Number);
  if (listed.length) return listed;
  return [...String(header?.model?.card?.notes ?? "").matchAll(/\bunits? (\d+)/g)].map((m) => Number(m[1]));
}

export class Diagram extends View {
  static id = "diagram";
  static panel = { name: "diagram", label: "diagram" };

  constructor(el, bus) {
    super(el, bus);
    // fonts, cells and the legend follow the figure's size: when its box changes (the window, the page's own
    // fitting, presenter mode), lay it out again
    let pending = null;
    const resized = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        const size = `${el.clientWidth}x${el.clientHeight}`;
        if (this.info && size !== this.drawnAt) this.redraw();
      }, 80);
    };
    if (typeof ResizeObserver === "function") new ResizeObserver(resized).observe(el);
    else window.addEventListener("resize", resized);
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.glossary = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
    this.names = kindInfo.diagram.nodes.map((n) => n.name);
    this.order = kindInfo.glossary.phases.map((p) => p.name);
    this.redraw();
  }

  redraw() {
    const el = this.el, { model } = this.header;
    const chosen = chosenUnits(this.options, this.header);
    const widths = Object.fromEntries((this.header.fields ?? []).map((field) => [field.name, field.width]));
    const f = figure(this.info, model, this.options, el.clientWidth, el.clientHeight, chosen, widths);
    Object.assign(this, { shapeOwner: f.shapeOwner, stripIndex: f.stripIndex, labelIndex: f.labelIndex, legendIndex: f.legendIndex, unitsOf: f.unitsOf, scales: f.scales });
    el.dataset.units = unitsNote(drawnUnits(model.hidden_size, chosen)) || "all";
    this.drawnAt = `${el.clientWidth}x${el.clientHeight}`;
    Plotly.newPlot(el, f.data, f.layout, { displayModeBar: false, responsive: true, staticPlot: false });
    el.on("plotly_afterplot", () => { this.dom = null; this.shownPhase = undefined; });  // Plotly may have made new elements
    el.on("plotly_hover", (e) => this.bus.emit("hover", { name: e.points[0]?.data?.name, unit: e.points[0]?.customdata }));
    this.fitMarkers();
    this.shownPhase = undefined;
    if (this.trace) this.update(this.trace);
    if (this.shown) this.show(...this.shown);
  }

  /** Marker sizes follow the figure's pixel scale, so cells fill their strip's box at any size. */
  fitMarkers() {
    const full = this.el._fullLayout;
    if (!full || !this.info) return;
    const pxPerUnit = full.xaxis._length / (full.xaxis.range[1] - full.xaxis.range[0]);
    const idx = [], size = [];
    for (const n of this.info.diagram.nodes) {
      const count = this.el.data[this.stripIndex[n.name]].x.length, [x0, y0, x1, y1] = n.strip;
      const perRow = Math.ceil(count / Math.ceil(count / ROW)), rows = Math.ceil(count / perRow);
      idx.push(this.stripIndex[n.name]);
      size.push(Math.max(2, Math.min((x1 - x0) / perRow, (y1 - y0) / rows) * pxPerUnit * 0.86));
    }
    Plotly.restyle(this.el, { "marker.size": size }, idx);
  }

  /**
   * Unbounded names coloured on their largest magnitude so far: every pre-activation on one ±max, which its
   * legend bar's ticks say; any other (c, kept, x) on its own, which its label says.
   */
  update(trace) {
    super.update(trace);
    if (!this.info) return;
    const real = this.info.diagram.nodes.filter((n) => this.glossary[n.name].range === "real" && trace.has(n.name));
    const pre = real.filter((n) => this.glossary[n.name].role === "pre");
    const preMax = Math.max(1, ...pre.map((n) => trace.maxAbs(n.name)));
    const idx = [], cmin = [], cmax = [], layout = {};
    for (const n of real) {
      const role = this.glossary[n.name].role, m = role === "pre" ? preMax : Math.max(1, trace.maxAbs(n.name));
      if (this.scales[n.name].cmax === m) continue;
      idx.push(this.stripIndex[n.name]);
      cmin.push(-m);
      cmax.push(m);
      this.scales[n.name] = { ...this.scales[n.name], cmin: -m, cmax: m };
      layout[`annotations[${this.labelIndex[n.name]}].text`] = labelText(n, this.scales[n.name], role);
    }
    if (!idx.length) return;
    const bar = this.legendIndex.pre;
    if (pre.length && bar !== undefined) {
      let { tickvals, ticktext } = preTicks(preMax);
      if (this.el.data[bar].marker.colorbar.tickvals.length === 2) [tickvals, ticktext] = [[tickvals[0], tickvals[2]], [ticktext[0], ticktext[2]]];
      idx.push(bar);
      cmin.push(-preMax);
      cmax.push(preMax);
      Plotly.restyle(this.el, { "marker.colorbar.tickvals": [tickvals], "marker.colorbar.ticktext": [ticktext] }, [bar]);
    }
    Plotly.update(this.el, { "marker.cmin": cmin, "marker.cmax": cmax }, layout, idx);
    if (this.shown) this.show(...this.shown);
  }

  /**
   * Show step t. phase: the active animation phase, or null for all at once. Names in later phases are
   * drawn faint; the active phase's shapes are outlined in the highlight colour.
   */
  show(t, phase, playing = false) {
    const trace = this.trace;
    if (!this.info || !trace?.steps) return;
    this.shown = [t, phase, playing];
    const d = this.elements(), data = this.el.data, shapes = this.el.layout.shapes;
    const active = phase ? this.order.indexOf(phase) : this.order.length;
    for (const name of this.names) {
      if (!trace.has(name)) continue;
      const series = data[this.stripIndex[name]], colors = series.marker.color, pts = d.points[name];
      const values = trace.value(name, t), { colorscale, cmin, cmax } = this.scales[name];
      const units = this.unitsOf[name];
      for (let i = 0; i < colors.length; i++) {
        colors[i] = values[units[i]];  // in place: the hover and the PNG export read these
        if (pts[i]) pts[i].style.fill = colorAt(colors[i], colorscale, cmin, cmax);
      }
      series.opacity = this.order.indexOf(this.glossary[name].phase) <= active ? 1 : FAINT;
      if (d.groups[name]) d.groups[name].style.opacity = series.opacity;
    }
    if (phase === this.shownPhase) return;
    d.shapes.forEach((path, i) => {
      const look = shapeLook(shapes[i], this.shapeOwner[i], this.glossary, this.order, phase, this.options);
      shapes[i].opacity = look.opacity;
      path.style.opacity = look.opacity;
      if (look.color) {
        shapes[i].line.width = look.width;
        shapes[i].line.color = look.color;
        path.style.strokeWidth = `${look.width}px`;
        path.style.stroke = look.color;
      }
    });
    this.shownPhase = phase;
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
}
