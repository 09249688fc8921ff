// The cell diagram (views/diagram-figure.js lays it out, views/diagram-svg.js makes its SVG) holding the real
// numbers of the current step. It is drawn once per run and size; a step, paused or playing, then writes each
// cell's colour and value into the element (about 1 ms), so the hover, the PNG export and the tests read exactly
// what is painted. Hovering a cell says which unit, its value and its equation.

import { colorAt } from "gatescope/core/colors.js";
import { local, tr } from "gatescope/core/i18n.js";
import { INK, palette } from "gatescope/core/config.js";
import { drawnUnits, highlighted, naturalAspect, partLook, scene, unitsNote } from "gatescope/views/diagram-figure.js";
import { bound, place } from "gatescope/views/diagram-legend.js";
import { explanation, neighbours } from "gatescope/views/diagram-explain.js";
import { Packets } from "gatescope/views/diagram-flow.js";
import { drawScene } from "gatescope/views/diagram-svg.js";
import { flowFrame, flowPlan } from "gatescope/views/flow.js";
import { View } from "gatescope/views/view.js";


/**
 * The units the diagram draws when not all fit: the view's units= (shared with the line plots), else the units
 * the model card names (card.units: those its notes talk about, "unit 38 tracks spaces"), else none (the first ones).
 */
export function chosenUnits(options, header) {
  const listed = String(options.units ?? "").split(",").filter(Boolean).map(Number);
  if (listed.length) return listed;
  const card = header?.model?.card?.units;
  return Array.isArray(card) ? card.filter((u) => Number.isInteger(u) && u >= 0 && u < (header.model.hidden_size ?? 0)) : [];
}

export class Diagram extends View {
  static id = "diagram";
  static panel = { name: "diagram", label: tr("diagram") };

  constructor(el, bus) {
    super(el, bus);
    // fonts, cells and the legend follow the figure's size: when its box changes (the window, the page's own
    // fitting, presenter mode), lay it out again
    let pending = null;
    const resized = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        if (this.info && this.size() !== this.drawnAt) this.redraw();
      }, 80);
    };
    if (typeof ResizeObserver === "function") new ResizeObserver(resized).observe(el);
    else window.addEventListener("resize", resized);
    this.tip = Object.assign(document.createElement("div"), { className: "diagram-tip", hidden: true });
    this.tip.setAttribute("role", "tooltip");
    // the pointer says what it is over; the page makes that (or the pinned part, pin= in the URL) the selection
    el.addEventListener("pointerover", (e) => this.bus.emit("point", this.pointed(e.target)));
    el.addEventListener("pointerleave", () => this.bus.emit("point", null));
    el.addEventListener("click", (e) => { const sel = this.pointed(e.target); if (sel) this.bus.emit("pin", sel); });
  }

  size() {
    return `${this.el.clientWidth}x${this.el.clientHeight}`;
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.glossary = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
    this.names = kindInfo.diagram.nodes.map((n) => n.name);
    this.order = kindInfo.glossary.phases.map((p) => p.name);
    this.plan = flowPlan(kindInfo);
    this.redraw();
  }

  redraw() {
    const el = this.el, { model } = this.header;
    const chosen = chosenUnits(this.options, this.header);
    const widths = Object.fromEntries((this.header.fields ?? []).map((field) => [field.name, field.width]));
    this.scene = scene(this.info, model, this.options, el.clientWidth || 900, el.clientHeight, chosen, widths, this.maxima ?? {});
    // the proportions the page sizes the figure's box to (controls/panels.js fit), the legend's rows included
    el.dataset.aspect = naturalAspect(this.info, this.options, el.clientWidth || 900).toFixed(3);
    this.dom = drawScene(this.scene, "gs-diagram");
    this.packets = new Packets(this.scene, this.info, this.dom.packets);
    this.dom.svg.setAttribute("aria-label", tr("the {kind} diagram", { kind: local(this.info, "title") ?? "cell" }));
    el.replaceChildren(this.dom.svg, this.tip);
    this.tip.hidden = true;
    el.dataset.units = unitsNote(drawnUnits(model.hidden_size, chosen)) || "all";
    const accent = palette(this.options.palette).highlight;
    for (const name of highlighted(this.options)) {  // a lesson stop's parts: their strips outlined for as long as it shows
      this.dom.groups[name]?.setAttribute("stroke", accent);
      this.dom.groups[name]?.setAttribute("stroke-width", 1.5);
    }
    el.dataset.drawn = "1";
    this.drawnAt = this.size();
    this.scales = Object.fromEntries(Object.entries(this.scene.scales).map(([k, v]) => [k, { ...v }]));
    this.shownPhase = undefined;
    this.lit = [];  // the lit elements went with the old SVG
    this.painted = {};
    if (this.trace) this.update(this.trace);
    if (this.shown) this.show(...this.shown);
    if (this.selection) this.highlight(this.selection);
  }

  /**
   * Unbounded names coloured on their largest magnitude so far: every pre-activation on one ±max, any other (c, kept,
   * x) on its own; the legend's row states each (diagram-legend.js), and is rewritten when one grows.
   */
  update(trace) {
    super.update(trace);
    if (!this.info || !this.scene) return;
    const real = this.info.diagram.nodes.filter((n) => this.glossary[n.name].range === "real" && trace.has(n.name));
    const pre = real.filter((n) => this.glossary[n.name].role === "pre");
    const maxima = { pre: Math.max(1, ...pre.map((n) => trace.maxAbs(n.name))) };
    let changed = false;
    for (const n of real) {
      const role = this.glossary[n.name].role, m = role === "pre" ? maxima.pre : Math.max(1, trace.maxAbs(n.name));
      if (role !== "pre") maxima[n.name] = m;
      if (this.scales[n.name].cmax === m) continue;
      changed = true;
      this.scales[n.name] = { ...this.scales[n.name], cmin: -m, cmax: m };
    }
    this.maxima = maxima;
    if (changed) this.legendNumbers(maxima);
    if (changed && this.shown) this.show(...this.shown);
  }

  /** The legend's numbers for these maxima, and its parts moved along their rows to make room (diagram-legend.js). */
  legendNumbers(maxima) {
    for (const [part, node] of this.dom.legend) {
      if (!part.key) continue;
      const m = part.key.startsWith("pre:") ? maxima.pre : maxima[part.key.slice(5)];
      part.text = `${part.prefix}${bound(m ?? 1)}`;
      node.textContent = part.text;
    }
    place(this.scene.legend);
    for (const [part, node] of this.dom.legend) node.setAttribute("x", this.scene.legend.x + part.x);
  }

  /**
   * Show step t. phase: the active animation phase, or null for the whole step at once. Paused, a phase is shown
   * complete (progress 1); playing, it opens at its start and move() carries it on. Parts that later phases
   * compute show no numbers: their cells are empty until the flow reaches them.
   */
  show(t, phase, playing = false) {
    const trace = this.trace;
    if (!this.info || !this.dom || !trace?.steps) return;
    this.shown = [t, phase, playing];
    this.colors = {};
    for (const name of this.names) {
      if (!trace.has(name)) continue;
      const values = trace.value(name, t), { colorscale, cmin, cmax } = this.scales[name];
      const units = this.scene.strips[name].units, cells = this.dom.cells[name], colors = new Array(cells.length);
      for (let i = 0; i < cells.length; i++) {
        const v = values[units[i]];
        colors[i] = colorAt(v, colorscale, cmin, cmax);
        cells[i].dataset.value = v;  // what the hover says and the tests read: the step's number, painted once reached
      }
      this.colors[name] = colors;
    }
    this.move(t, phase, playing && phase ? 0 : 1);
    if (this.selection && !playing) this.highlight(this.selection);  // lit as asked before the steps came; this step's numbers
    if (phase === this.shownPhase) return;
    this.scene.items.forEach((item, i) => {
      if (!item.owner) return;
      const look = partLook(item, this.glossary, this.order, phase, this.options), node = this.dom.items[i];
      node.setAttribute("opacity", look.opacity);
      if (look.color) {
        node.setAttribute("stroke-width", look.width);
        node.setAttribute("stroke", look.color);
      }
    });
    this.shownPhase = phase;
  }

  /**
   * The flow animation's frame at (t, phase, progress in [0, 1]): a pure function of the three, so an export can
   * render any frame. Cells fill in left to right as their name is computed; packets travel along the wires.
   */
  move(t, phase, progress) {
    if (!this.dom || !this.trace?.steps) return;
    if (!this.shown || this.shown[0] !== t || this.shown[1] !== phase) return this.show(t, phase, true);
    const frame = flowFrame(this.plan, phase, progress);
    for (const name of Object.keys(this.colors)) {
      const cells = this.dom.cells[name], colors = this.colors[name];
      const coloured = Math.round((frame.fill[name] ?? 1) * cells.length);
      const painted = (this.painted[name] ??= new Array(cells.length));  // what each cell shows: a frame writes only changes
      for (let i = 0; i < cells.length; i++) {
        const fill = i < coloured ? colors[i] : INK.paper;
        if (painted[i] === fill) continue;
        cells[i].setAttribute("fill", fill);
        cells[i].dataset.reached = i < coloured ? "1" : "0";
        painted[i] = fill;
      }
    }
    this.packets.paint(frame, (name) => this.colors[name] ?? []);
    this.el.dataset.progress = progress.toFixed(3);
  }

  /** What the pointer is over: a cell (a name and a unit), or a box, circle, wire or label (a name); null off it. */
  pointed(target) {
    const cell = target.closest?.(".cell");
    if (cell) return { name: cell.closest(".strip").dataset.name, unit: Number(cell.dataset.unit) };
    const owner = target.closest?.("[data-owner]")?.dataset.owner?.replace(/:backing$/, "");
    return owner && this.glossary?.[owner] ? { name: owner } : null;
  }

  /**
   * Light up a selection (the pointer's, else the pinned one; null for none): a unit is outlined in every strip of
   * its width, a name's wires in and out are drawn in the highlight colour, and the tooltip explains it.
   */
  highlight(sel) {
    this.selection = sel;
    for (const { node, attr, old } of this.lit ?? []) node.setAttribute(attr, old);
    this.lit = [];
    this.tip.hidden = true;
    if (!sel || !this.dom || !this.glossary[sel.name] || !this.trace?.steps) return;
    const set = (node, attr, value) => { this.lit.push({ node, attr, old: node.getAttribute(attr) }); node.setAttribute(attr, value); };
    const accent = palette(this.options.palette).highlight, width = (n) => (this.trace.has(n) ? this.trace.width(n) : -1);
    if (sel.unit !== undefined) {
      for (const [name, cells] of Object.entries(this.dom.cells)) {
        if (width(name) !== width(sel.name)) continue;
        for (const cell of cells) if (Number(cell.dataset.unit) === sel.unit) { set(cell, "stroke", accent); set(cell, "stroke-width", 2); }
      }
    }
    const { into, out } = neighbours(this.info.diagram.wires ?? [], sel.name);
    const wires = this.scene.items.map((item, i) => [item, this.dom.items[i]]).filter(([item]) => item.part === "wire" && item.tag === "path");
    for (const i of [...into, ...out]) {
      const [, node] = wires[i] ?? [];
      if (node) { set(node, "stroke", accent); set(node, "stroke-width", Number(node.getAttribute("stroke-width")) * 1.8); set(node, "opacity", 1); }
    }
    // the vectors it is made from and those made from it, outlined
    const related = [...(this.glossary[sel.name].operands ?? []), ...Object.values(this.glossary).filter((v) => v.operands?.includes(sel.name)).map((v) => v.name)];
    for (const name of related) if (this.dom.groups[name]) { set(this.dom.groups[name], "stroke", accent); set(this.dom.groups[name], "stroke-width", 1.5); }
    // a pinned unit (a lesson's, say) is outlined and written out in the phase panel; its box would cover the
    // diagram for as long as the pin stands, so only a part pointed at, or a pinned box or circle, is explained
    if (!(sel.pinned && sel.unit !== undefined)) this.explain(sel);
  }

  /** The tooltip for a selection, beside the cell or the shape it names. */
  explain(sel) {
    if (!this.glossary[sel.name]) return;
    const t = this.shown?.[0] ?? 0, strip = this.scene.strips[sel.name];
    const unit = Math.min(sel.unit ?? strip?.units[0] ?? 0, this.trace.width(sel.name) - 1);
    const value = (n) => (this.trace.has(n) ? this.trace.value(n, t)[Math.min(unit, this.trace.width(n) - 1)] : NaN);
    const lines = explanation(sel, this.glossary, value, unit, strip?.note ?? "");
    const anchor = (sel.unit === undefined ? null : this.el.querySelector(`.strip[data-name="${sel.name}"] .cell[data-unit="${sel.unit}"]`))
      ?? this.el.querySelector(`[data-part=mark][data-owner="${sel.name}"]`) ?? this.el.querySelector(`.strip[data-name="${sel.name}"]`);
    if (anchor?.dataset.reached === "0") lines[3].text = tr("unit {unit}: not computed yet in this phase", { unit });
    this.tip.replaceChildren(...lines.map(({ text, bold }) => Object.assign(document.createElement(bold ? "b" : "div"), { textContent: text })));
    const box = this.el.getBoundingClientRect(), at = anchor?.getBoundingClientRect() ?? box;
    Object.assign(this.tip.style, { left: `${Math.max(0, Math.min(at.right - box.left + 6, box.width - 240))}px`, top: `${at.bottom - box.top + 4}px` });
    this.tip.hidden = false;
  }
}
