// The cell diagram as a Plotly figure, drawn exactly as the kind's description says (GET /api/kinds/{kind},
// cells/diagrams.py): every strip, label, box and circle where the server laid it out and every wire along the
// route the server found for it, so what a test checks there is what the page shows. Text is sized in diagram
// units and turned into pixels at the figure's scale, never above the chosen size: it fits its shape at any size.
// Pure: no DOM; views/diagram.js draws and colours it.

import { scaleFor, scaleTicks } from "../core/colors.js";
import { BACKGROUND, DIAGRAM, FONT_FAMILY, INK, palette, sizes } from "../core/config.js";
import { escapeHtml } from "../core/text.js";

export const STRIP_H = 0.36;
export const ROW = 12;    // units per strip row; wider vectors take two rows
const MARGIN = { l: 8, r: 78, t: 8, b: 8 };

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

/** Pixels per diagram unit of a figure of this size (the axes keep x and y at one scale). */
export function pixelsPerUnit(W, H, pixelWidth, pixelHeight) {
  const x = (pixelWidth - MARGIN.l - MARGIN.r) / (W + 0.3);
  return pixelHeight ? Math.min(x, (pixelHeight - MARGIN.t - MARGIN.b) / (H + 0.5)) : x;
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
  return `units ${run ? `${units[0]}–${units[units.length - 1]}` : units.join(", ")} of ${width}`;
}

function arrowHead([x, y], [dx, dy], s) {
  const px = -dy, py = dx, b = 1.6 * s;
  return `M ${x} ${y} L ${x - dx * b + px * s} ${y - dy * b + py * s} L ${x - dx * b - px * s} ${y - dy * b - py * s} Z`;
}

/**
 * The figure: {data, layout, shapeOwner, stripIndex, labelIndex, scales}. shapeOwner[i] names what shape i belongs
 * to (a name, "state" or "given"), so a phase can fade or outline it; stripIndex maps a name to its strip's
 * series, labelIndex to its label's annotation, legendIndex a scale (unit, signed, pre, real) to its bar's series,
 * unitsOf a name to the unit each of its cells draws.
 * chosen: the hidden units to draw when not all fit (views/diagram.js chosenUnits); widths: each name's width (the
 * stream header's fields), hidden_size when missing.
 */
export function figure(kindInfo, model, options, pixelWidth, pixelHeight = 0, chosen = [], widths = {}) {
  const { width: W, height: H } = kindInfo.diagram;  // the extents the server laid the diagram out in
  const base = sizes(options.presenter);
  const ppu = pixelsPerUnit(W, H, pixelWidth, pixelHeight);
  const px = (u, cap) => Math.max(3, Math.min(cap, Math.floor(u * ppu)));  // a font in diagram units, in pixels, never past its shape
  const f = {
    W, H, ppu, px, base, kindInfo, model, options, chosen, widths, pal: palette(options.palette),
    plotHeight: pixelHeight ? pixelHeight - MARGIN.t - MARGIN.b : ppu * (H + 0.5),
    glossary: Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n])),
    shapes: [], annotations: [], data: [], shapeOwner: [], stripIndex: {}, labelIndex: {}, legendIndex: {}, unitsOf: {}, scales: {},
  };
  f.add = (shape, owner) => { f.shapes.push(shape); f.shapeOwner.push(owner); };
  for (const w of kindInfo.diagram.wires ?? []) wire(f, w);
  for (const n of kindInfo.diagram.nodes) { mark(f, n); strip(f, n); }
  legend(f);
  const note = unitsNote(drawnUnits(model.hidden_size, chosen));
  if (note) {  // say so when the strips show only some of the units
    f.annotations.push({ x: 0, y: H + 0.35, xanchor: "left", yanchor: "top", showarrow: false, name: "units", text: note,
      hovertext: "The units box of the line plots (units= in the URL) chooses which units the diagram draws",
      font: { size: px(0.26, base.small), family: FONT_FAMILY, color: INK.label } });
  }
  const layout = {
    margin: MARGIN, showlegend: false, dragmode: false, hovermode: "closest",
    xaxis: { range: [-0.2, W + 0.1], visible: false, fixedrange: true },
    yaxis: { range: [-0.1, H + 0.4], visible: false, fixedrange: true, scaleanchor: "x" },
    shapes: f.shapes, annotations: f.annotations, ...BACKGROUND, font: { family: FONT_FAMILY, size: base.font },  // text bound to a shape sets its own
  };
  return { data: f.data, layout, shapeOwner: f.shapeOwner, stripIndex: f.stripIndex, labelIndex: f.labelIndex, legendIndex: f.legendIndex, unitsOf: f.unitsOf, scales: f.scales, ppu };
}

/** One wire along its route, with its arrowhead, or a dot where it branches off its net. */
function wire({ glossary, pal, base, add }, w) {
  const owner = glossary[w.target] ? w.target : w.style === "state" ? "state" : glossary[w.source] ? w.source : "given";
  const state = w.style === "state", peephole = w.style === "peephole";
  const color = peephole ? pal.highlight : state ? pal.state : pal.line;
  const width = state ? base.stateLine : base.line * (peephole ? 0.8 : 1);
  const p = w.points;
  add({ type: "path", path: p.map(([x, y], i) => `${i ? "L" : "M"} ${x} ${y}`).join(" "),
    line: { color, width, dash: peephole ? "dot" : "solid" }, layer: "below" }, owner);
  if (w.joins) {
    const [x, y] = p[0], r = 0.06;
    add({ type: "circle", x0: x - r, x1: x + r, y0: y - r, y1: y + r, fillcolor: color, line: { width: 0 }, layer: "below" }, owner);
  }
  if (!w.arrow) return;
  const [x1, y1] = p[p.length - 1], [x0, y0] = p[p.length - 2];
  const len = Math.hypot(x1 - x0, y1 - y0) || 1;
  add({ type: "path", path: arrowHead([x1, y1], [(x1 - x0) / len, (y1 - y0) / len], state ? 0.13 : 0.09), fillcolor: color, line: { width: 0 } }, owner);
}

/** A learned layer's box or a pointwise operation's circle, with its symbol sized to fit inside. */
function mark({ pal, px, base, add, annotations }, n) {
  if (!n.mark) return;
  const [x0, y0, x1, y1] = n.mark.box, rect = n.mark.kind === "box";
  add({ type: rect ? "rect" : "circle", x0, x1, y0, y1, fillcolor: rect ? pal.layer : pal.op,
    line: { color: rect ? INK.layerEdge : INK.opEdge, width: base.line }, layer: "below" }, n.name);
  annotations.push({ x: (x0 + x1) / 2, y: (y0 + y1) / 2, text: n.mark.text, showarrow: false,
    font: { size: px(n.mark.font, base.title), family: FONT_FAMILY, color: rect ? INK.layerText : INK.opText }, name: `mark:${n.name}` });
}

/** A name's strip of cells (one marker series, coloured per step) in its box, and its label beside its centre. */
function strip({ model, options, glossary, chosen, widths, px, base, data, stripIndex, labelIndex, unitsOf, scales, annotations }, n) {
  const v = glossary[n.name];
  const width = widths[n.name] ?? model.hidden_size;
  const drawn = drawnUnits(width, width === model.hidden_size ? chosen : []), shown = drawn.units.length;
  unitsOf[n.name] = drawn.units;
  const [x0, y0, x1, y1] = n.strip;
  const cells = stripCells(shown, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0);
  const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
  scales[n.name] = { colorscale, cmin, cmax, range: v.range };
  stripIndex[n.name] = data.length;
  data.push({
    type: "scatter", mode: "markers", x: cells.map((c) => c[0]), y: cells.map((c) => c[1]), name: n.name,
    marker: { symbol: "square", size: 8, color: cells.map(() => 0), colorscale, cmin, cmax, line: { color: INK.cellEdge, width: 0.5 } },
    customdata: drawn.units,
    meta: { label: escapeHtml(v.label), eq: escapeHtml(v.equation), more: unitsNote(drawn) ? ` (${unitsNote(drawn)})` : "" },
    hovertemplate: "<b>%{meta.label}</b>%{meta.more}<br>unit %{customdata}: %{marker.color:.4f}<br>%{meta.eq}<extra></extra>",
    hoverlabel: { font: { family: FONT_FAMILY, size: base.small } },
  });
  const t = n.text;
  labelIndex[n.name] = annotations.length;
  annotations.push({ x: t.x, y: t.y, xanchor: "left", yanchor: "middle", text: labelText(n, scales[n.name], v.role), showarrow: false,
    bgcolor: INK.labelBg, borderpad: 0, font: { size: px(t.font, base.small), family: FONT_FAMILY, color: INK.label }, name: `label:${n.name}` });
}

/** A strip label's text: its symbol, and for an unbounded name (not a pre-activation) the ±max it is coloured on. */
export function labelText(node, scale, role) {
  const sym = escapeHtml(node.text.text);
  return scale?.range === "real" && role !== "pre" ? `${sym}  ±${scaleTicks(scale).ticktext[2]}` : sym;
}

/** The legend bar of the pre-activations' shared scale ±m: its ticks, true numbers. */
export function preTicks(m) {
  return scaleTicks({ cmin: -m, cmax: m });
}

/**
 * The colour legend, one bar per scale in use: gates on 0…1, bounded values on −1…1, every pre-activation on
 * one ±(largest |value| so far) that its bar's ticks state, and any other unbounded vector (c, kept, x) on
 * ±its own largest |value| so far, which its label states.
 */
function legend({ options, kindInfo, glossary, base, data, legendIndex, plotHeight }) {
  const kinds = new Set(kindInfo.diagram.nodes.map((n) => { const v = glossary[n.name]; return v.range === "real" ? (v.role === "pre" ? "pre" : "real") : v.range; }));
  const own = [...new Set(kindInfo.diagram.nodes.map((n) => glossary[n.name]).filter((v) => v.range === "real" && v.role !== "pre")
    .map((v) => v.symbol.replace(/\(t(−1)?\)$/, "")))];  // the names on their own ±max, as "x, c, …"
  const bars = [["unit", "gates"], ["signed", "values"], ["pre", "pre-act."], ["real", own.slice(0, 2).join(", ") + (own.length > 2 ? ", …" : "")]]
    .filter(([r]) => kinds.has(r));
  // laid out in pixels: each bar gets its share of the height, its title above it and ticks that do not collide
  const slot = plotHeight / bars.length, font = Math.max(7, Math.min(base.small - 1, Math.floor(slot / 6)));
  const barLen = Math.max(12, slot - font * 1.6 - 10);  // the coloured bar; Plotly's len also holds the title and pads
  bars.forEach(([range, title], i) => {
    const { colorscale, cmin, cmax } = scaleFor(range === "unit" ? "unit" : "signed", options.palette);
    let ticks = range === "real" ? { tickvals: [-1, 0, 1], ticktext: ["−max", "0", "+max"] } : scaleTicks({ cmin, cmax });
    if (barLen < font * 4) ticks = { tickvals: [ticks.tickvals[0], ticks.tickvals[2]], ticktext: [ticks.ticktext[0], ticks.ticktext[2]] };
    legendIndex[range] = data.length;
    data.push({ type: "scatter", x: [null], y: [null], mode: "markers", hoverinfo: "skip", showlegend: false, name: `legend:${range}`,
      marker: { color: [cmin], colorscale, cmin, cmax, showscale: true,
        colorbar: { title: { text: title, font: { size: font, family: FONT_FAMILY } }, ...ticks, len: slot - 6, lenmode: "pixels", ypad: 2,
          y: 1 - (i * slot) / plotHeight, yanchor: "top", thickness: Math.max(6, Math.round(font * 0.9)), x: 1.0, xpad: 4,
          outlinewidth: 0, tickfont: { size: Math.max(7, font - 1), family: FONT_FAMILY } } } });
  });
}

/** How shape i looks in a phase: faded when its owner comes later; a box or circle of the active phase outlined. */
export function shapeLook(shape, owner, glossary, order, phase, options) {
  const active = phase ? order.indexOf(phase) : order.length;
  const p = glossary[owner] ? order.indexOf(glossary[owner].phase) : owner === "given" || owner === "state" ? 0 : order.length;
  const look = { opacity: p <= active ? 1 : 0.25 };
  if ((shape.type === "rect" || shape.type === "circle") && shape.fillcolor !== undefined && shape.line?.width) {
    const on = phase && glossary[owner] && glossary[owner].phase === phase;
    look.width = on ? sizes(options.presenter).line * 2.4 : sizes(options.presenter).line;
    look.color = on ? palette(options.palette).highlight : shape.type === "rect" ? INK.layerEdge : INK.opEdge;
  }
  return look;
}
