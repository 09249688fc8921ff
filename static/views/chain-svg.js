// The chain's SVG, made once per figure (views/chain-figure.js lays it out; views/chain.js gives its slots their steps,
// colours their squares and moves it): every colour, width and font an attribute, as the diagram's SVG is.

import { INK, palette } from "gatescope/core/config.js";
import { highlighted } from "gatescope/views/diagram-figure.js";
import { svgNode } from "gatescope/views/diagram-svg.js";
import { gridCells, gridShape, handoverPaths, headOf, pathOf, slotStrips, slotWires, textWidth } from "gatescope/views/chain-figure.js";

const MODULE = { fill: "#f4f6f8", edge: "#9aa3ad" };  // a module's box, light under its layers

/**
 * The chain drawn for a layout L of a plan: {svg, caption, track (the slots' group, slid by a hand-over), slots [{g, k,
 * title, cells {"role:name": [rect]}, token, word, stepText}], packets {name: {g, squares}} (a handed-over state's
 * moving copy), focus {g} (the current module's outline and labels), carriedLabels, inputLabel, paths (handoverPaths)}.
 * units: the units each name's squares show.
 */
export function drawChain(plan, L, options, units) {
  return new Drawing(plan, L, options, units).parts();
}

class Drawing {
  constructor(plan, L, options, units) {
    Object.assign(this, { plan, L, options, units });
  }

  /** The figure's SVG: a caption, the slots (one more each side, off the edges, for the slide), the packets, the outline. */
  parts() {
    const L = this.L, { width: W, height: H } = L;
    // drawn in the layout's units, shown zoom times larger (a hero chain: views/chain-figure.js heroLayout)
    const svg = svgNode("svg", { width: Math.floor(W * L.zoom), height: Math.floor(H * L.zoom), viewBox: `0 0 ${W} ${H}`, role: "img",
      class: "chain-svg", "font-family": "inherit" });
    const defs = svgNode("defs"), clipPath = svgNode("clipPath", { id: "chain-clip" });
    clipPath.append(svgNode("rect", { x: 0, y: 0, width: W, height: H }));
    defs.append(clipPath);
    svg.append(defs, svgNode("rect", { x: 0, y: 0, width: W, height: H, fill: INK.paper }));
    this.caption = svgNode("text", { x: 2, y: L.y.caption, "font-size": L.fonts.small, fill: INK.label, class: "chain-caption" });
    const clip = svgNode("g", { "clip-path": "url(#chain-clip)" });
    this.track = svgNode("g", { class: "chain-track" });
    this.slots = [];
    for (let k = -1; k <= L.n; k++) {
      const slot = this.slot(k);
      this.slots.push(slot);
      this.track.append(slot.g);
    }
    this.packets = Object.fromEntries(this.plan.carried.filter((c) => this.units[c.name]).map((c) => [c.name, this.packet(c.name)]));
    this.track.append(...Object.values(this.packets).map((p) => p.g));
    this.focus = this.outline();
    clip.append(this.track, this.focus.g);
    svg.append(this.caption, clip);
    const { caption, track, slots, packets, focus, carriedLabels, inputLabel } = this;
    return { svg, caption, track, slots, packets, focus, carriedLabels, inputLabel, paths: handoverPaths(this.plan, L) };
  }

  /** A slot's group at k × the pitch: its wires, its module's box, its circles and boxes, its squares, x(t) below it. */
  slot(k) {
    const L = this.L, { y, x, fonts: f, r } = L, pal = palette(this.options.palette), base = this.options.presenter ? 1.6 : 1;
    const g = svgNode("g", { class: "chain-module", transform: `translate(${(L.x0 + k * L.pitch).toFixed(1)} 0)`, "data-slot": k });
    const title = svgNode("title");
    g.append(title, svgNode("rect", { x: L.gap + 1, y: y.boxTop, width: L.pitch - L.gap - 2, height: y.boxBottom - y.boxTop, rx: 8,
      fill: MODULE.fill, stroke: MODULE.edge, "stroke-width": base, class: "chain-box" }));
    for (const w of slotWires(this.plan, L)) {
      const color = w.kind === "state" ? pal.state : pal.line, width = w.kind === "state" ? f.state : f.line;
      g.append(svgNode("path", { d: pathOf(w.points), fill: "none", stroke: color, "stroke-width": width, "stroke-linejoin": "round" }));
      if (w.arrow) g.append(svgNode("path", { d: headOf(w.points, 4 + 2 * width), fill: color }));
      if (w.dot) g.append(svgNode("circle", { cx: w.points[0][0], cy: w.points[0][1], r: width * 1.3, fill: color }));
    }
    for (const o of [...this.plan.ops, this.plan.hOp].filter(Boolean)) {
      const ox = x.ops[o.name] ?? x.hOp, oy = x.ops[o.name] !== undefined ? y.state : y.grid;
      g.append(svgNode("circle", { cx: ox, cy: oy, r, fill: pal.op, stroke: INK.opEdge, "stroke-width": f.line }));
      if (textWidth(o.symbol, f.small) <= 2 * r - 2) g.append(this.text(o.symbol, ox, oy, f.small, INK.opText));
    }
    for (const l of this.plan.layers) {
      const lx = x.layers[l.name], bw = Math.max(8, x.columns[l.name] - L.pad);
      g.append(svgNode("rect", { x: lx - bw / 2, y: y.layerTop, width: bw, height: y.layerH, rx: 2, fill: pal.layer, stroke: INK.layerEdge,
        "stroke-width": f.line }));
      const font = [f.font, f.small].find((s) => textWidth(l.symbol, s) + 4 <= bw);
      if (font) g.append(this.text(l.symbol, lx, y.layerTop + y.layerH / 2, font, INK.layerText));
    }
    const cells = {};
    for (const s of slotStrips(this.plan, L)) if (this.units[s.name]) cells[`${s.role}:${s.name}`] = this.strip(g, s);
    const token = svgNode("rect", { y: y.tokenTop, height: y.tokenH, rx: 4, fill: INK.paper, stroke: pal.line, "stroke-width": f.line,
      class: "chain-token" });
    const word = this.text("", (L.gap + L.pitch) / 2, y.tokenTop + y.tokenH / 2, f.font, INK.label);
    const step = this.text("", (L.gap + L.pitch) / 2, y.step, f.small, INK.label, "auto");
    g.append(token, word, step);
    return { g, k, title, cells, token, word, stepText: step, step: null };
  }

  /** A vector's squares in a slot, grouped under its name and role. */
  strip(g, { name, role, x, y }) {
    const q = this.L.q, s = q * 0.88, units = this.units[name];
    const group = svgNode("g", { class: "chain-strip", "data-name": name, "data-role": role, stroke: INK.cellEdge, "stroke-width": 0.5 });
    const cells = gridCells(units.length, x, y, q).map(([cx, cy], i) => {
      const cell = svgNode("rect", { x: (cx - s / 2).toFixed(1), y: (cy - s / 2).toFixed(1), width: s.toFixed(1), height: s.toFixed(1),
        fill: INK.paper, class: "chain-cell" });
      cell.dataset.unit = units[i];
      group.append(cell);
      return cell;
    });
    g.append(group);
    return cells;
  }

  /** A moving copy of a handed-over state's squares, hidden until a hand-over. */
  packet(name) {
    const q = this.L.q, s = q * 0.88, units = this.units[name];
    const g = svgNode("g", { class: "chain-packet", "data-name": name, visibility: "hidden", stroke: INK.cellEdge, "stroke-width": 0.5 });
    const squares = gridCells(units.length, 0, 0, q).map(([cx, cy]) => svgNode("rect", { x: cx - s / 2, y: cy - s / 2, width: s, height: s }));
    g.append(...squares);
    return { g, squares };
  }

  /** The current module's outline and the names of what goes in and out of it, moved to it as one group. */
  outline() {
    const L = this.L, { y, fonts: f } = L, p = this.plan, sym = (n) => p.symbols[n] ?? n;
    const g = svgNode("g", { class: "chain-focus", "pointer-events": "none" });
    g.append(svgNode("rect", { x: L.gap, y: y.boxTop - 1, width: L.pitch - L.gap, height: y.boxBottom - y.boxTop + 2, rx: 9, fill: "none",
      stroke: palette(this.options.palette).highlight, "stroke-width": this.options.presenter ? 4 : 2.5, class: "chain-current" }));
    const gh = gridShape(L.U).rows * L.q, accent = palette(this.options.palette).highlight;
    for (const s of slotStrips(p, L)) {  // a lesson stop's names, framed in the current module for as long as it shows
      if (!highlighted(this.options).has(s.name) || !this.units[s.name]) continue;
      const { cols, rows } = gridShape(this.units[s.name].length);
      g.append(svgNode("rect", { x: s.x - (cols * L.q) / 2 - 2.5, y: s.y - (rows * L.q) / 2 - 2.5, width: cols * L.q + 5, height: rows * L.q + 5,
        rx: 2, fill: "none", stroke: accent, "stroke-width": this.options.presenter ? 2.5 : 1.8, class: "chain-marked", "data-name": s.name }));
    }
    this.carriedLabels = p.carried.map((c) => {
      const at = c.top ? y.state - gh / 2 - 5 : y.bus + gh / 2 + 5;
      const el = g.appendChild(this.label(sym(c.name), L.gap / 2, at, c.top ? "text-after-edge" : "hanging", "middle"));
      return { el, width: textWidth(sym(c.name), f.small) };
    });
    const out = slotStrips(p, L).find((s) => s.role === "out");
    if (out) g.append(this.label(sym(p.h), out.x - L.x.gw / 2 - 4, out.y, "central", "end"));
    if (p.input) this.inputLabel = g.appendChild(this.label(sym(p.input), 0, y.tokenTop + y.tokenH / 2, "central", "end"));
    return { g };
  }

  text(words, x, y, size, fill, baseline = "central") {
    return svgNode("text", { x, y, "font-size": size, fill, "text-anchor": "middle", "dominant-baseline": baseline }, words);
  }

  /** A name beside a vector, on a white halo: it stays legible across the lines it crosses. */
  label(words, x, y, baseline, anchor) {
    return svgNode("text", { x, y, "font-size": this.L.fonts.small, fill: INK.label, "text-anchor": anchor, "dominant-baseline": baseline,
      stroke: INK.paper, "stroke-width": 3, "paint-order": "stroke", class: "chain-label" }, words);
  }
}
