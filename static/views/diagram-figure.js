// The cell diagram as a scene of SVG elements in page pixels, drawn exactly as the kind's description says
// (GET /api/kinds/{kind}, cells/diagrams.py): every strip, label, box and circle where the server laid it out and
// every wire along the route the server found for it, so what a test checks there is what the page shows. Text
// is sized in diagram units and turned into pixels at the scene's scale, never above the chosen size: it fits
// its shape at any size. Pure: no DOM (views/diagram-svg.js makes the elements, views/diagram.js colours them).
//
// Plain SVG, not Plotly: the diagram is the first thing a student sees, and it need not wait the second that
// plotly.js takes to load; every step then writes its colours into the cells it drew.

import { scaleFor } from "gatescope/core/colors.js";
import { DIAGRAM, FONT_FAMILY, INK, palette, sizes } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { legend } from "gatescope/views/diagram-legend.js";

/** The labels' font in diagram units (cells/diagrams.py FONTS.label), for a description that does not say. */
const LABEL_UNITS = 0.24;

export const ROW = 12;    // units per strip row; wider vectors take two rows
export const MARGIN = { l: 6, r: 6, t: 6, b: 6 };  // the legend is a row under the cell (diagram-legend.js)
// the diagram's extents around the description's W x H: room for a state line's arrowheads and the units note
const PAD = { left: 0.2, right: 0.1, bottom: 0.1, top: 0.4 };
const JOINT = /^\[.*\]$/;  // the node where h(t−1) and x(t) join: "[x, h(t−1)]"

/** Cell centres of a strip of n units centred on (sx, sy): one row, or two rows of ROW, in a box width × height. */
export function stripCells(n, sx, sy, width, height = Infinity) {
  const perRow = Math.ceil(n / Math.ceil(n / ROW));  // balanced rows: 16 units are two rows of 8
  const rows = Math.ceil(n / perRow);
  const cell = Math.min(width / perRow, height / rows);
  return Array.from({ length: n }, (_, i) => {
    const r = Math.floor(i / perRow), c = i % perRow;
    return [sx + ((c + 0.5) - perRow / 2) * cell, sy + ((rows - 1) / 2 - r) * cell];
  });
}

/** Pixels per diagram unit of a scene of this size (x and y at one scale, the smaller of the two fits), with legendHeight
 *  pixels under the cell for the legend. */
export function pixelsPerUnit(W, H, pixelWidth, pixelHeight, legendHeight = 0) {
  const x = (pixelWidth - MARGIN.l - MARGIN.r) / (W + PAD.left + PAD.right);
  return pixelHeight ? Math.min(x, (pixelHeight - MARGIN.t - MARGIN.b - legendHeight) / (H + PAD.bottom + PAD.top)) : x;
}

/** The text sizes of a scene at ppu pixels per unit: a font in diagram units, in pixels, never past its shape's own
 *  size and never above cap (the page's size for it). */
export function fontPx(units, ppu, cap) {
  return Math.max(3, Math.min(cap, Math.round(units * ppu * 10) / 10));
}

/** The legend at the labels' font for a figure pixelWidth wide (the font the labels would have at full width). */
function legendFor(kindInfo, glossary, options, pixelWidth, maxima) {
  const { width: W, height: H, fonts } = kindInfo.diagram;
  const font = fontPx(fonts?.label ?? LABEL_UNITS, pixelsPerUnit(W, H, pixelWidth, 0), sizes(options.presenter).small);
  return legend(kindInfo, glossary, options, font, pixelWidth - MARGIN.l - MARGIN.r, maxima);
}

/** The width over the height the figure is drawn at when pixelWidth wide: what the page sizes its box to (panels.js). */
export function naturalAspect(kindInfo, options, pixelWidth) {
  const { width: W, height: H } = kindInfo.diagram;
  const glossary = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
  const ppu = pixelsPerUnit(W, H, pixelWidth, 0);
  const height = ppu * (H + PAD.bottom + PAD.top) + MARGIN.t + MARGIN.b + legendFor(kindInfo, glossary, options, pixelWidth).height;
  return pixelWidth / height;
}

/** The diagram-unit box [x0, y0, x1, y1] (y up) that a scene of W x H units shows. */
export function extents(W, H) {
  return [-PAD.left, -PAD.bottom, W + PAD.right, H + PAD.top];
}

/**
 * Which units a strip of width units draws: all when they fit (DIAGRAM.maxUnits), else the chosen ones (sorted,
 * at most maxUnits), else the first maxUnits. {units: [unit index per cell], width}.
 */
export function drawnUnits(width, chosen = []) {
  if (width <= DIAGRAM.maxUnits) return { units: Array.from({ length: width }, (_, i) => i), width };
  const picked = [...new Set(chosen.filter((u) => Number.isInteger(u) && u >= 0 && u < width))].sort((a, b) => a - b);
  return { units: picked.length ? picked.slice(0, DIAGRAM.maxUnits) : Array.from({ length: DIAGRAM.maxUnits }, (_, i) => i), width };
}

/** "units 0–23 of 48" or "units 2, 20, 38 of 48": which units the strips draw, or "" when they draw all. */
export function unitsNote({ units, width }) {
  if (units.length === width) return "";
  const run = units.every((u, i) => i === 0 || u === units[i - 1] + 1);
  return tr("units {units} of {width}", { units: run ? `${units[0]}–${units[units.length - 1]}` : units.join(", "), width });
}

const fixed = (v) => Math.round(v * 100) / 100;  // pixels to 1/100: short paths, no visible rounding

function arrowHead([x, y], [dx, dy], s) {
  const px = -dy, py = dx, b = 1.6 * s;
  return [[x, y], [x - dx * b + px * s, y - dy * b + py * s], [x - dx * b - px * s, y - dy * b - py * s]];
}

/**
 * The scene: {width, height, ppu, X, Y, items, strips, labels, legend, scales}. items are SVG elements in drawing
 * order, each {tag, attrs, text?, title?, owner?, part}: owner names what it belongs to (a name, "state" or
 * "given") so a phase can fade or outline it; part is "wire", "mark", "symbol", "head", "label", "note".
 * strips[name] = {units, cells: [[x, y]], size, label}: the unit each cell draws, its centre and side in pixels,
 * and the index of its label item. chosen: the hidden units to draw when not all fit (views/diagram.js
 * chosenUnits); widths: each name's width (the stream header's fields), hidden_size when missing.
 */
export function scene(kindInfo, model, options, pixelWidth, pixelHeight = 0, chosen = [], widths = {}, maxima = {}) {
  const { width: W, height: H } = kindInfo.diagram;  // the extents the server laid the diagram out in
  const [ex0, ey0, ex1, ey1] = extents(W, H);
  const glossary = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
  const key = legendFor(kindInfo, glossary, options, pixelWidth, maxima);
  const ppu = pixelsPerUnit(W, H, pixelWidth, pixelHeight, key.height);
  const height = pixelHeight || Math.ceil(ppu * (ey1 - ey0) + MARGIN.t + MARGIN.b + key.height);
  // the cell centred in the room above the legend, as an equal-axes chart would be
  const cx = MARGIN.l + (pixelWidth - MARGIN.l - MARGIN.r) / 2, cy = MARGIN.t + (height - MARGIN.t - MARGIN.b - key.height) / 2;
  const X = (x) => fixed(cx + (x - (ex0 + ex1) / 2) * ppu), Y = (y) => fixed(cy - (y - (ey0 + ey1) / 2) * ppu);
  const base = sizes(options.presenter);
  const s = {
    width: pixelWidth, height, ppu, X, Y, base, model, options, chosen, widths, pal: palette(options.palette), glossary,
    px: (u, cap) => fontPx(u, ppu, cap),
    items: [], heads: [], texts: [], strips: {}, scales: {},
  };
  for (const w of kindInfo.diagram.wires ?? []) wire(s, w);
  for (const n of kindInfo.diagram.nodes) { mark(s, n); strip(s, n); }
  s.items.push(...s.heads, ...s.texts);  // arrowheads over the strips they point at; symbols and labels on top
  for (const name of Object.keys(s.strips)) s.strips[name].label = s.items.findIndex((it) => it.part === "label" && it.owner === name);
  const note = unitsNote(drawnUnits(model.hidden_size, chosen));
  if (note) {  // say so when the strips show only some of the units
    const font = kindInfo.diagram.fonts?.label ?? LABEL_UNITS;
    s.items.push({ tag: "text", part: "note", text: note, title: tr("The units box of the line plots (units= in the URL) chooses which units the diagram draws"),
      attrs: { x: X(0), y: Y(H + 0.35), "dominant-baseline": "hanging", "font-size": s.px(font, base.small), fill: INK.label, "font-family": FONT_FAMILY } });
  }
  // the legend's row under the cell, at its font or the labels' if they came out smaller (a figure limited by its height)
  const labelFont = s.px(kindInfo.diagram.fonts?.label ?? LABEL_UNITS, base.small);
  const bars = labelFont < key.font ? legend(kindInfo, glossary, options, labelFont, pixelWidth - MARGIN.l - MARGIN.r, maxima) : key;
  Object.assign(bars, { x: MARGIN.l, top: height - MARGIN.b - key.height, height: key.height });  // the room the cell left it
  return { width: pixelWidth, height, ppu, X, Y, items: s.items, strips: s.strips, scales: s.scales, legend: bars, note };
}

/** One wire along its route, with its arrowhead, or a dot where it branches off its net. */
function wire({ glossary, pal, base, items, heads, X, Y, ppu }, w) {
  // the joint's bus carries [h(t−1), x(t)] to every layer in the first phase, so it belongs to the inputs
  const owner = JOINT.test(w.source) ? "given" : glossary[w.target] ? w.target : w.style === "state" ? "state" : glossary[w.source] ? w.source : "given";
  const state = w.style === "state", peephole = w.style === "peephole";
  const color = peephole ? pal.highlight : state ? pal.state : pal.line;
  const width = state ? base.stateLine : base.line * (peephole ? 0.8 : 1);
  const p = w.points;
  items.push({ tag: "path", part: "wire", owner, attrs: { d: p.map(([x, y], i) => `${i ? "L" : "M"}${X(x)} ${Y(y)}`).join(" "),
    fill: "none", stroke: color, "stroke-width": width, "stroke-linejoin": "round", ...(peephole ? { "stroke-dasharray": `${width} ${width * 2}` } : {}) } });
  if (w.joins) items.push({ tag: "circle", part: "wire", owner, attrs: { cx: X(p[0][0]), cy: Y(p[0][1]), r: fixed(0.06 * ppu), fill: color } });
  if (!w.arrow) return;
  const [x1, y1] = p[p.length - 1], [x0, y0] = p[p.length - 2];
  const len = Math.hypot(x1 - x0, y1 - y0) || 1;
  const tri = arrowHead([x1, y1], [(x1 - x0) / len, (y1 - y0) / len], state ? 0.13 : 0.09);
  heads.push({ tag: "path", part: "head", owner, attrs: { d: `M${tri.map(([x, y]) => `${X(x)} ${Y(y)}`).join(" L")} Z`, fill: color } });
}

/** A learned layer's box or a pointwise operation's circle, with its symbol sized to fit inside. */
function mark({ pal, px, base, items, texts, X, Y }, n) {
  if (!n.mark) return;
  const [x0, y0, x1, y1] = n.mark.box, rect = n.mark.kind === "box";
  const line = { stroke: rect ? INK.layerEdge : INK.opEdge, "stroke-width": base.line };
  items.push(rect
    ? { tag: "rect", part: "mark", owner: n.name, attrs: { x: X(x0), y: Y(y1), width: fixed(X(x1) - X(x0)), height: fixed(Y(y0) - Y(y1)), fill: pal.layer, ...line } }
    : { tag: "ellipse", part: "mark", owner: n.name, attrs: { cx: X((x0 + x1) / 2), cy: Y((y0 + y1) / 2), rx: fixed((X(x1) - X(x0)) / 2), ry: fixed((Y(y0) - Y(y1)) / 2), fill: pal.op, ...line } });
  texts.push({ tag: "text", part: "symbol", owner: n.name, text: n.mark.text,
    attrs: { x: X((x0 + x1) / 2), y: Y((y0 + y1) / 2), "text-anchor": "middle", "dominant-baseline": "central",
      "font-size": px(n.mark.font, base.title), "font-family": FONT_FAMILY, fill: rect ? INK.layerText : INK.opText } });
}

/** A name's strip of cells (coloured per step) in its box, and its label on a backing beside its centre. */
function strip({ model, options, glossary, chosen, widths, px, base, texts, strips, scales, X, Y, ppu }, n) {
  const v = glossary[n.name];
  const width = widths[n.name] ?? model.hidden_size;
  const drawn = drawnUnits(width, width === model.hidden_size ? chosen : []), shown = drawn.units.length;
  const [x0, y0, x1, y1] = n.strip;
  const centres = stripCells(shown, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0);
  const perRow = Math.ceil(shown / Math.ceil(shown / ROW)), rows = Math.ceil(shown / perRow);
  const size = Math.max(2, Math.min((x1 - x0) / perRow, (y1 - y0) / rows) * ppu * 0.86);  // a gap between cells
  scales[n.name] = { ...scaleFor(v.range, options.palette), range: v.range };
  strips[n.name] = { units: drawn.units, cells: centres.map(([x, y]) => [X(x), Y(y)]), size: fixed(size), note: unitsNote(drawn), label: -1 };
  const t = n.text, [bx0, by0, bx1, by1] = t.box;
  texts.push({ tag: "rect", part: "label", owner: `${n.name}:backing`, attrs: { x: X(bx0), y: Y(by1), width: fixed(X(bx1) - X(bx0)), height: fixed(Y(by0) - Y(by1)), fill: INK.labelBg } });
  texts.push({ tag: "text", part: "label", owner: n.name, text: labelText(n),
    attrs: { x: X(t.x), y: Y(t.y), "dominant-baseline": "central", "font-size": px(t.font, base.small), "font-family": FONT_FAMILY, fill: INK.label } });
}

/** The names the view state's highlight lights up (comma-separated glossary names). */
export function highlighted(options) {
  return new Set(String(options.highlight ?? "").split(",").filter(Boolean));
}

/** A strip label's text: its symbol (the scale an unbounded strip is coloured on is in the legend). */
export function labelText(node) {
  return node.text.text;
}

/**
 * How an item looks in a phase: faded when its owner comes later; a box or circle of the active phase, or one the
 * view state's highlight names (a lesson stop's), outlined in the highlight colour.
 */
export function partLook(item, glossary, order, phase, options) {
  const owner = item.owner?.replace(/:backing$/, "");
  const active = phase ? order.indexOf(phase) : order.length;
  const p = glossary[owner] ? order.indexOf(glossary[owner].phase) : owner === "given" || owner === "state" ? 0 : order.length;
  const look = { opacity: p <= active ? 1 : 0.25 };
  if (item.part === "mark") {
    const on = (phase && glossary[owner] && glossary[owner].phase === phase) || highlighted(options).has(owner);
    look.width = on ? sizes(options.presenter).line * 2.4 : sizes(options.presenter).line;
    look.color = on ? palette(options.palette).highlight : item.tag === "rect" ? INK.layerEdge : INK.opEdge;
  }
  return look;
}
