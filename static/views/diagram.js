// The cell diagram (views/diagram-figure.js lays it out, views/diagram-svg.js makes its SVG) holding the real
// numbers of the current step. It is drawn once per run and size; a step, paused or playing, then writes each
// cell's colour and value into the element (about 1 ms), so the hover, the PNG export and the tests read exactly
// what is painted. Hovering a cell says which unit, its value and its equation.

import { colorAt } from "../core/colors.js";
import { INK } from "../core/config.js";
import { drawnUnits, labelText, partLook, scene, unitsNote } from "./diagram-figure.js";
import { barTicks, tickMarks } from "./diagram-legend.js";
import { Packets } from "./diagram-flow.js";
import { drawScene } from "./diagram-svg.js";
import { flowFrame, flowPlan } from "./flow.js";
import { View } from "./view.js";

const number = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits).replace(/^-/, "−") : String(v));

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
  static panel = { name: "diagram", label: "diagram" };

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
    el.addEventListener("pointerover", (e) => this.hover(e.target));
    el.addEventListener("pointerleave", () => { this.tip.hidden = true; });
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
    this.scene = scene(this.info, model, this.options, el.clientWidth || 900, el.clientHeight, chosen, widths);
    this.dom = drawScene(this.scene, "gs-diagram");
    this.packets = new Packets(this.scene, this.info, this.dom.packets);
    this.dom.svg.setAttribute("aria-label", `the ${this.info.label ?? "cell"} diagram`);
    el.replaceChildren(this.dom.svg, this.tip);
    this.tip.hidden = true;
    el.dataset.units = unitsNote(drawnUnits(model.hidden_size, chosen)) || "all";
    el.dataset.drawn = "1";
    this.drawnAt = this.size();
    this.scales = Object.fromEntries(Object.entries(this.scene.scales).map(([k, v]) => [k, { ...v }]));
    this.shownPhase = undefined;
    if (this.trace) this.update(this.trace);
    if (this.shown) this.show(...this.shown);
  }

  /**
   * Unbounded names coloured on their largest magnitude so far: every pre-activation on one ±max, which its
   * legend bar's ticks say; any other (c, kept, x) on its own, which its label says.
   */
  update(trace) {
    super.update(trace);
    if (!this.info || !this.scene) return;
    const real = this.info.diagram.nodes.filter((n) => this.glossary[n.name].range === "real" && trace.has(n.name));
    const pre = real.filter((n) => this.glossary[n.name].role === "pre");
    const preMax = Math.max(1, ...pre.map((n) => trace.maxAbs(n.name)));
    let changed = false;
    for (const n of real) {
      const role = this.glossary[n.name].role, m = role === "pre" ? preMax : Math.max(1, trace.maxAbs(n.name));
      if (this.scales[n.name].cmax === m) continue;
      changed = true;
      this.scales[n.name] = { ...this.scales[n.name], cmin: -m, cmax: m };
      const label = this.dom.items[this.scene.strips[n.name].label];
      if (label) label.textContent = labelText(n, this.scales[n.name], role);
    }
    const bar = this.scene.legend.find((b) => b.range === "pre");
    if (changed && pre.length && bar) {
      tickMarks(bar, barTicks("pre", { cmin: -preMax, cmax: preMax }, bar.few)).forEach((t, i) => { this.dom.ticks.pre[i].textContent = t.text; });
    }
    if (changed && this.shown) this.show(...this.shown);
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
      for (let i = 0; i < cells.length; i++) {
        const fill = i < coloured ? colors[i] : INK.paper;
        if (cells[i].getAttribute("fill") !== fill) cells[i].setAttribute("fill", fill);
        cells[i].dataset.reached = i < coloured ? "1" : "0";
      }
    }
    this.packets.paint(frame, (name) => this.colors[name] ?? []);
    this.el.dataset.progress = progress.toFixed(3);
  }

  /** The tooltip of the cell under the pointer: the name, the unit and its value at the shown step, the equation. */
  hover(target) {
    const name = target.closest?.(".strip")?.dataset.name;
    if (!name || target.dataset.value === undefined) return;
    const v = this.glossary[name], unit = Number(target.dataset.unit), note = this.scene.strips[name].note;
    const value = target.dataset.reached === "0" ? "not computed yet in this phase" : number(Number(target.dataset.value), 4);
    const lines = [[`${v.label}${note ? ` (${note})` : ""}`, "b"], [`unit ${unit}: ${value}`], [v.equation]];
    this.tip.replaceChildren(...lines.map(([text, tag]) => Object.assign(document.createElement(tag ?? "div"), { textContent: text })));
    const box = this.el.getBoundingClientRect(), cell = target.getBoundingClientRect();
    const left = Math.min(cell.right - box.left + 6, box.width - 220);
    Object.assign(this.tip.style, { left: `${Math.max(0, left)}px`, top: `${cell.bottom - box.top + 4}px` });
    this.tip.hidden = false;
    this.bus.emit("hover", { name, unit });
  }
}
