// The chain: the cell unrolled over time, a compact copy of its module per step side by side, as the article's first
// two figures draw it (colah's "Understanding LSTM Networks"). Pure: what a module holds is read off the kind's own
// description (chainPlan: its learned layers in order, its state line, its output h), and where everything sits is a
// function of the width and the sizes (chainLayout), so the view (views/chain.js) only draws and colours it.
//
// A slot is one step: the gap on its left, where the state handed over from the step before sits on its line (c(t−1)
// on the state line along the top, h(t−1) on the line into the layers), then the module's box with its layers, the
// output h(t) above it and the input x(t) below it. Coordinates are pixels, slot-local (x from 0 to the pitch P), y down.

import { sizes } from "gatescope/core/config.js";

export const MOST = 7, LEAST = 3;   // modules side by side
const HERO_ZOOM = 2;                // the hero chain at most twice its size
export const MAX_UNITS = 16;        // squares a vector shows at most (the chosen units first; the heatmaps show all)
const Q = { normal: { min: 6, legible: 7, max: 12 }, presenter: { min: 9, legible: 10, max: 16 } };  // a square's side

/** A text's width in pixels at a font size, near enough to decide whether it fits (DejaVu Sans; CJK a full em). */
export function textWidth(text, font) {
  let em = 0;
  for (const ch of String(text)) {
    const c = ch.codePointAt(0);
    em += c >= 0x2e80 ? 1 : /[ijlrt.,:;|!'()[\] ]/.test(ch) ? 0.38 : /[mwMW—]/.test(ch) ? 0.92 : 0.66;
  }
  return em * font;
}

/** Columns and rows of a vector of n squares: rows of at most four. */
export function gridShape(n) {
  const cols = Math.min(Math.max(n, 1), 4);
  return { cols, rows: Math.ceil(Math.max(n, 1) / cols) };
}

/** Centres of n squares of side q, in rows of gridShape, centred on (x, y). */
export function gridCells(n, x, y, q) {
  const { cols, rows } = gridShape(n);
  return Array.from({ length: n }, (_, i) => [x + ((i % cols) + 0.5 - cols / 2) * q, y + (Math.floor(i / cols) + 0.5 - rows / 2) * q]);
}

/** The first window of n steps of a run of T that has t in it, t a little right of its middle (more past than future). */
export function windowStart(t, n, T) {
  return Math.max(0, Math.min(t - Math.floor(n / 2), T - n));
}

/** Breadth first from a name along those computed from it (or, with back, those it is computed from). */
function walk(from, names, stop, back = false) {
  const seen = new Set([from]), queue = [from];
  while (queue.length) {
    const at = queue.shift();
    const next = back ? names[at]?.operands ?? [] : Object.values(names).filter((n) => n.operands?.includes(at)).map((n) => n.name);
    for (const n of next) {
      if (seen.has(n)) continue;
      seen.add(n);
      const s = stop(n);
      if (s === true) return n;
      if (s !== false) queue.push(n);
    }
  }
  return null;
}

/**
 * What a module holds, from the kind's description: {layers [{name, symbol, x}] in the description's order left to
 * right, state (the state line's name, or null), h (the output handed on), carried [{name, from, top}] (the states a
 * step receives from the step before: name(t) = from(t−1), top when on the state line), ops (the state line's
 * circles), hOp (h's circle when it is not on the state line), hLayer (h is a layer's output), input, risers
 * {layer: the op its output reaches first, or null}, drop (h is made from the state, as o ⊙ tanh(c) is)}.
 */
export function chainPlan(kindInfo) {
  const names = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
  const nodes = Object.fromEntries(kindInfo.diagram.nodes.map((n) => [n.name, n]));
  const mark = (name, kind) => {
    const m = nodes[name]?.mark;
    return m?.kind === kind ? { name, symbol: m.text, x: (m.box[0] + m.box[2]) / 2 } : null;
  };
  const layers = kindInfo.diagram.nodes.map((n) => mark(n.name, "box")).filter(Boolean).sort((a, b) => a.x - b.x);
  const line = (kindInfo.diagram.state_lines ?? []).filter((n) => nodes[n]);
  const state = line.length ? line[line.length - 1] : null;
  const shifted = kindInfo.glossary.names.filter((n) => n.role === "state_in" && n.operands?.length && nodes[n.name]);
  const outputs = kindInfo.glossary.names.filter((n) => n.role === "output" && nodes[n.name]);
  const h = (outputs.find((o) => shifted.some((s) => s.operands[0] === o.name)) ?? outputs[0])?.name ?? null;
  const carried = shifted.filter((s) => s.operands[0] === state || s.operands[0] === h)
    .map((s) => ({ name: s.name, from: s.operands[0], top: s.operands[0] === state }));
  const ops = line.map((n) => mark(n, "circle")).filter(Boolean).sort((a, b) => a.x - b.x);
  const hOp = h && h !== state ? mark(h, "circle") : null;
  const targets = new Set([...ops, hOp].filter(Boolean).map((o) => o.name)), isLayer = new Set(layers.map((l) => l.name));
  const risers = Object.fromEntries(layers.map((l) => [l.name, walk(l.name, names, (n) => (targets.has(n) ? true : isLayer.has(n) ? false : null))]));
  const drop = Boolean(hOp && state && walk(h, names, (n) => (n === state ? true : isLayer.has(n) ? false : null), true));
  const input = kindInfo.glossary.names.find((n) => n.role === "given" && nodes[n.name])?.name ?? null;
  return { layers, state, h, carried, ops, hOp, hLayer: isLayer.has(h), input, risers, drop,
    symbols: Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n.symbol])) };
}

/** Each layer's column at a square's side q: room for its squares, or for its symbol in its box, whichever is wider. */
function columns(plan, q, f, U, pad) {
  const { cols } = gridShape(U);
  return plan.layers.map((l) => Math.max(cols * q, textWidth(l.symbol, f.small) + 8) + pad);
}

/** The widths a module needs at a square's side q: {gap, module, pitch}. */
function widths(plan, q, f, U, pad) {
  const gap = gridShape(U).cols * q + 2 * pad, r = opRadius(plan, f);
  const module = 4 * pad + columns(plan, q, f, U, pad).reduce((a, b) => a + b, 0) + (plan.hOp ? 2 * r + pad : 0) + 3 * pad;
  return { gap, module, pitch: gap + module };
}

/** The radius of the circles: room for their symbols at the label size. */
function opRadius(plan, f) {
  const widest = Math.max(0, ...[...plan.ops, plan.hOp].filter(Boolean).map((o) => textWidth(o.symbol, f.small)));
  return Math.ceil(Math.max(f.small * 0.75, widest / 2 + 2));
}

/** The heights down a slot at a square's side q (see chainLayout), and the whole figure's height. */
function heights(plan, q, f, U, pad, stretch = 0) {
  const gh = gridShape(U).rows * q, r = opRadius(plan, f);
  const y = { caption: pad + f.small * 0.85 };
  y.outTop = pad + f.small + 6;
  y.out = y.outTop + gh / 2;
  // a hero's stretch lengthens the wires that run up and down: h(t) out of the module, the layers' risers, x(t) in
  y.boxTop = y.outTop + gh + 2 * pad + 0.3 * stretch;
  y.state = plan.state ? Math.max(y.boxTop + r + 4, y.outTop + f.small + 3 + gh / 2) : null;
  y.rise = plan.state ? y.state + r + pad : y.boxTop + pad;
  y.gridTop = y.rise + pad + 2 + 0.45 * stretch;
  y.grid = y.gridTop + gh / 2;
  y.layerTop = y.gridTop + gh + 3;
  y.layerH = f.font + 8;
  y.bus = y.layerTop + y.layerH + pad + 3;
  y.boxBottom = y.bus + pad + 3;
  y.tokenTop = Math.max(y.boxBottom + pad, y.bus + gh / 2 + f.small + 6) + 0.25 * stretch;
  y.tokenH = f.font + 8;
  y.step = y.tokenTop + y.tokenH + 3 + f.small * 0.85;
  y.height = Math.ceil(y.step + f.small * 0.3 + pad);
  return y;
}

/**
 * The figure for a width: {width, height, n (modules), pitch, gap, q, x0 (where slot 0 starts), fonts, y (the heights),
 * x (slot-local places), r, zoom}. As many modules as fit with squares of a legible side (LEAST to MOST, no more than
 * the run's steps); then the squares as large as the width and maxHeight allow. Given a room (a height in pixels),
 * the chain is the hero (heroLayout) where it can be.
 */
export function chainLayout(plan, { width, presenter = false, steps = 1, units = 8, maxHeight = Infinity, room = 0 }) {
  const base = sizes(presenter), f = { small: base.small, font: base.font, line: base.line, state: base.stateLine };
  const pad = presenter ? 6 : 4, U = Math.max(1, Math.min(units, MAX_UNITS)), range = Q[presenter ? "presenter" : "normal"];
  const hero = room > 0 ? heroLayout(plan, { width, steps, room, f, U, pad, range }) : null;
  if (hero) return hero;
  const fits = (q) => Math.floor((width - widths(plan, q, f, U, pad).gap) / widths(plan, q, f, U, pad).pitch);
  const n = Math.max(1, Math.min(steps, Math.max(LEAST, Math.min(MOST, fits(range.legible)))));
  let q = range.min;
  for (let s = range.max; s > range.min; s--) {
    const w = widths(plan, s, f, U, pad);
    if (w.pitch * n + w.gap <= width && heights(plan, s, f, U, pad).height <= maxHeight) { q = s; break; }
  }
  return build(plan, { width, n, q, f, U, pad });
}

/**
 * The chain as the hero (the stage's figure when the diagram is not shown, as the article's first two figures are):
 * LEAST modules at the largest squares that fit, zoomed (up to HERO_ZOOM) to fill the width, and stretched up and
 * down, to at most twice their height, to fill the room. Drawn in its own units (width / zoom wide), shown zoom times
 * larger; null when even the least squares do not fit at full size, so the ordinary chain is drawn.
 */
function heroLayout(plan, { width, steps, room, f, U, pad, range }) {
  const n = Math.max(1, Math.min(steps, LEAST));
  for (let q = range.max; q >= range.min; q--) {
    const w = widths(plan, q, f, U, pad), tall = heights(plan, q, f, U, pad).height;
    const zoom = Math.min(HERO_ZOOM, width / (n * w.pitch + w.gap), room / tall);
    if (zoom < 1) continue;
    const stretch = Math.max(0, Math.min(tall, Math.floor(room / zoom) - tall));
    return { ...build(plan, { width: width / zoom, n, q, f, U, pad, stretch }), zoom };
  }
  return null;
}

/** The figure for n modules of squares of side q in a width (see chainLayout). */
function build(plan, { width, n, q, f, U, pad, stretch = 0 }) {
  const w = widths(plan, q, f, U, pad), y = heights(plan, q, f, U, pad, stretch);
  // the modules share the width (squeezed when even LEAST do not fit: a box then drops its symbol), but a short
  // run's few do not stretch past half as wide again as they need
  const pitch = Math.min((width - w.gap) / n, w.pitch * 1.5);
  const x0 = Math.max(0, (width - (n * pitch + w.gap)) / 2);
  const r = opRadius(plan, f);
  const x = places(plan, pitch, w.gap, q, U, pad, r, columns(plan, q, f, U, pad));
  return { width, height: y.height, n, pitch, gap: w.gap, q, U, x0, pad, r, fonts: f, y, x, zoom: 1 };
}

/** The x of everything in a slot: the joint, each layer, the state line's circles, h's circle and its way out. */
function places(plan, P, G, q, U, pad, r, need) {
  const gw = gridShape(U).cols * q, joint = G + 2 * pad;
  const hCol = plan.hOp ? 2 * r + pad : 0, right = P - 3 * pad;
  const area = [G + 4 * pad, right - hCol];
  const scale = (area[1] - area[0]) / Math.max(1, need.reduce((a, b) => a + b, 0));  // the columns share what room there is
  let at = area[0];
  const layers = {}, widthOf = {};
  plan.layers.forEach((l, i) => { widthOf[l.name] = need[i] * scale; layers[l.name] = at + widthOf[l.name] / 2; at += widthOf[l.name]; });
  const hOp = plan.hOp ? area[1] + pad / 2 + r : null;
  const out = plan.hLayer ? layers[plan.h] : Math.min(right + pad, P - 2 - gw / 2);  // where h goes up and out
  // the description's x mapped onto the module's, through its layers (evenly spaced here): its circles keep their place
  const knots = plan.layers.map((l) => [l.x, layers[l.name]]);
  const span = knots.length > 1 ? (knots[knots.length - 1][1] - knots[0][1]) / (knots[knots.length - 1][0] - knots[0][0]) : (area[1] - area[0]) / 8;
  const map = (x) => {
    if (!knots.length) return (G + P) / 2;
    if (x <= knots[0][0]) return knots[0][1] + (x - knots[0][0]) * span;
    for (let i = 1; i < knots.length; i++) {
      const [a, b] = [knots[i - 1], knots[i]];
      if (x <= b[0]) return a[1] + ((x - a[0]) / (b[0] - a[0] || 1)) * (b[1] - a[1]);
    }
    return knots[knots.length - 1][1] + (x - knots[knots.length - 1][0]) * span;
  };
  // left to right, then right to left: inside the module, left of where h leaves the state line, never overlapping
  const ops = {};
  let bound = G + 2 * pad - r - 4;
  for (const o of plan.ops) bound = ops[o.name] = Math.max(map(o.x), bound + 2 * r + 4);
  bound = (hOp ?? out) + r;
  for (const o of [...plan.ops].reverse()) bound = ops[o.name] = Math.min(ops[o.name], bound - 2 * r - 4);
  return { joint, layers, columns: widthOf, ops, hOp, out, exit: right + pad, gw };
}

/** Where the token x(t) sits, under the slot's joint where x(t) meets h(t−1): {text (cut with … to fit), width, mid, left}. */
export function tokenPlace(word, L) {
  const room = L.pitch - L.gap - 2 * L.pad, fits = (w) => textWidth(w, L.fonts.font) + 12 <= room;
  const text = fits(word) ? word : `${[...word].reduce((acc, ch) => (fits(`${acc}${ch}…`) ? acc + ch : acc), "")}…`;
  const width = Math.min(room, textWidth(text, L.fonts.font) + 12);
  const mid = Math.min(Math.max(L.x.joint, L.gap + 2 + width / 2), L.pitch - L.pad - width / 2);
  return { text, width, mid, left: mid - width / 2 };
}

/** The first of these texts that fits the figure's width at the label size, or none (""): detail is dropped, not shrunk. */
export function fitting(texts, L) {
  return texts.find((text) => textWidth(text, L.fonts.small) <= L.width - 4) ?? "";
}

/** A polyline as an SVG path. */
export const pathOf = (points) => points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join(" ");

/** An arrowhead at a polyline's end, s pixels long. */
export function headOf(points, s) {
  const [x1, y1] = points[points.length - 1], [x0, y0] = points[points.length - 2];
  const len = Math.hypot(x1 - x0, y1 - y0) || 1, dx = (x1 - x0) / len, dy = (y1 - y0) / len;
  const b = [x1 - dx * s, y1 - dy * s], w = s * 0.55;
  return `${pathOf([[x1, y1], [b[0] - dy * w, b[1] + dx * w], [b[0] + dy * w, b[1] - dx * w]])} Z`;
}

/**
 * The wires of a slot, as polylines {points, kind ("state", "wire", "h"), arrow, dot (a fork or a join at its start)}:
 * the state line through it, the line that carries h(t−1) in and the bus to each layer, x(t) up into it, each layer's
 * output up to the circle it reaches, h's way out (to the next step) and up (the output).
 */
export function slotWires(plan, L) {
  const { x, y, pitch: P, r } = L, wires = [], top = plan.carried.some((c) => c.top && c.from === plan.h);
  const lastLayer = Math.max(x.joint, ...Object.values(x.layers));
  if (plan.state) wires.push({ points: [[0, y.state], [P, y.state]], kind: "state" });
  if (top) wires.push({ points: [[x.joint, y.state], [x.joint, y.bus], [lastLayer, y.bus]], kind: "wire", dot: true });
  else wires.push({ points: [[0, y.bus], [lastLayer, y.bus]], kind: "wire" });
  if (plan.input) wires.push({ points: [[x.joint, y.tokenTop], [x.joint, y.bus]], kind: "wire", end: true });
  for (const l of plan.layers) {
    const lx = x.layers[l.name];
    wires.push({ points: [[lx, y.bus], [lx, y.layerTop + y.layerH]], kind: "wire", arrow: true, dot: lx < lastLayer });
    const to = plan.risers[l.name], from = [lx, y.gridTop - 1];
    if (to && x.ops[to] !== undefined) {
      const ox = x.ops[to];
      const points = Math.abs(ox - lx) < 1 ? [from, [lx, y.state + r]] : [from, [lx, y.rise], [ox, y.rise], [ox, y.state + r]];
      wires.push({ points, kind: "wire", arrow: true });
    } else if (to && to === plan.hOp?.name) {
      wires.push({ points: [[lx + x.gw / 2 + 2, y.grid], [x.hOp - r, y.grid]], kind: "wire", arrow: true });
    }
  }
  if (plan.drop) wires.push({ points: [[x.hOp, y.state], [x.hOp, y.grid - r]], kind: "wire", arrow: true, dot: true });
  const up = (fy) => ({ points: [[x.out, fy], [x.out, y.outTop + gridShape(L.U).rows * L.q + 1]], kind: "h", arrow: true, dot: true });
  if (top) wires.push(up(y.state));
  else if (plan.hOp) {
    wires.push({ points: [[x.hOp, y.grid + r], [x.hOp, y.bus], [x.out, y.bus], [P, y.bus]], kind: "h" }, up(y.bus));
  } else if (plan.hLayer) {  // h is the layer's own output: straight up out of it, and round to the next step
    wires.push({ points: [[x.out, y.gridTop - 1], [x.out, y.rise]], kind: "h" }, up(y.rise),
      { points: [[x.out, y.rise], [x.exit, y.rise], [x.exit, y.bus], [P, y.bus]], kind: "h" });
  }
  return wires;
}

/** Where each of a slot's vectors sits: [{name, role ("in", "layer", "out"), x, y}]: its grid's centre. */
export function slotStrips(plan, L) {
  const { x, y, gap } = L, strips = [];
  for (const c of plan.carried) strips.push({ name: c.name, role: "in", x: gap / 2, y: c.top ? y.state : y.bus });
  for (const l of plan.layers) strips.push({ name: l.name, role: "layer", x: x.layers[l.name], y: y.grid });
  if (plan.h) strips.push({ name: plan.h, role: "out", x: Math.min(x.out, L.pitch - 2 - x.gw / 2), y: y.out });
  return strips;
}

/**
 * The way each carried state travels from the module of step t−1 (slot-local to it) into the next: from where it is
 * made (the state line's last circle; h's fork) along its line to the next module's first circle or its joint.
 */
export function handoverPaths(plan, L) {
  const { x, y, pitch: P } = L, first = Object.values(x.ops), out = {};
  for (const c of plan.carried) {
    if (c.top) out[c.name] = [[first.length ? Math.max(...first) : x.out, y.state], [P + (first.length ? Math.min(...first) : x.joint), y.state]];
    else if (plan.hLayer) out[c.name] = [[x.out, y.rise], [x.exit, y.rise], [x.exit, y.bus], [P + x.joint, y.bus]];
    else out[c.name] = [[x.out, y.bus], [P + x.joint, y.bus]];
  }
  return out;
}
