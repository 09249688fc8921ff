// The flow animation's moving squares in the diagram's SVG: a frame of views/flow.js (which wires carry a packet
// and how far along, which states slide in from the step before) drawn as small rows of the source's own
// colours, like the GIFs' vectors. The elements are made once per wire and moved, not made again every frame.

import { along } from "gatescope/views/flow.js";
import { svgNode } from "gatescope/views/diagram-svg.js";

const MOST = 8;  // squares in a packet: the first drawn units of its vector (the heatmaps show them all)
const JOIN = /^\[.*\]$/;

/** Pixel centre of a strip (the mean of its cells'). */
function centre(strip) {
  const n = strip.cells.length;
  return [strip.cells.reduce((a, c) => a + c[0], 0) / n, strip.cells.reduce((a, c) => a + c[1], 0) / n];
}

export class Packets {
  /** scene: views/diagram-figure.js; kindInfo: its description; layer: the SVG group to draw in. */
  constructor(scene, kindInfo, layer) {
    Object.assign(this, { scene, layer, pool: new Map() });
    const { X, Y } = scene, { width: W } = kindInfo.diagram;
    this.wires = (kindInfo.diagram.wires ?? []).map((w) => ({ ...w, px: w.points.map(([x, y]) => [X(x), Y(y)]) }));
    // the joint's packet is the vectors that meet there, side by side: [x, h(t−1)]
    this.joined = Object.fromEntries(this.wires.filter((w) => JOIN.test(w.target)).reduce((m, w) => {
      m.set(w.target, [...(m.get(w.target) ?? []), w.source]);
      return m;
    }, new Map()));
    this.edges = [X(W + 0.1), X(-0.2)];
  }

  /** The names a wire's packet carries. */
  sources(wire) {
    return JOIN.test(wire.source) ? this.joined[wire.source] ?? [] : [wire.source];
  }

  /** A packet's group: one square per unit it carries, the squares a strip's cells are, a little smaller. */
  packet(key, names) {
    if (this.pool.has(key)) return this.pool.get(key);
    const strips = names.map((n) => this.scene.strips[n]).filter(Boolean);
    const size = Math.max(4, Math.min(...strips.map((s) => s.size)) * 0.9);
    const counts = strips.map((s) => Math.min(MOST, s.units.length)), total = counts.reduce((a, b) => a + b, 0);
    const g = svgNode("g", { class: "packet", "data-key": key, visibility: "hidden" });
    const squares = [];
    let i = 0;
    counts.forEach((count, k) => {
      for (let u = 0; u < count; u++, i++) {
        const sq = svgNode("rect", { x: (i - total / 2) * size + k * size * 0.4, y: -size / 2, width: size, height: size });
        sq.dataset.name = names[k];
        squares.push(sq);
        g.append(sq);
      }
    });
    this.layer.append(g);
    const made = { g, squares, counts, names, painted: [], shown: 0, frame: 0 };
    this.pool.set(key, made);
    return made;
  }

  /** Show a packet at a point, coloured by colors(name) (the cells' colours at this step: recoloured when they change). */
  place(made, [x, y], colors) {
    let i = 0;
    made.names.forEach((name, k) => {
      const c = colors(name);
      if (made.painted[k] === c) { i += made.counts[k]; return; }
      for (let u = 0; u < made.counts[k]; u++, i++) made.squares[i].setAttribute("fill", c[u]);
      made.painted[k] = c;
    });
    made.g.setAttribute("transform", `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
    if (!made.shown) made.g.setAttribute("visibility", "visible");
    made.shown = made.frame = this.frames;
  }

  /** Draw a frame ({travel, handover} of flowFrame); colors(name): the colours of that name's drawn cells. Only the
   *  packets that move are touched, and those that stopped hidden. */
  paint(frame, colors) {
    this.frames = (this.frames ?? 0) + 1;
    for (const { wire, at } of frame.travel) {
      const w = this.wires[wire];
      this.place(this.packet(`wire:${wire}`, this.sources(w)), along(w.px, at), colors);
    }
    for (const { name, from, at } of frame.handover) {
      // off the right edge from where it was made, and in from the left to where the step uses it
      const [fx, fy] = centre(this.scene.strips[from]), [tx, ty] = centre(this.scene.strips[name]);
      const point = at < 0.5 ? along([[fx, fy], [this.edges[0], fy]], at * 2) : along([[this.edges[1], ty], [tx, ty]], at * 2 - 1);
      this.place(this.packet(`handover:${name}`, [name]), point, colors);
    }
    for (const made of this.pool.values()) {
      if (made.shown && made.frame !== this.frames) { made.g.setAttribute("visibility", "hidden"); made.shown = 0; }
    }
  }
}
