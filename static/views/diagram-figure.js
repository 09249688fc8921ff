// The cell diagram as a Plotly figure, computed from the kind's description (GET /api/kinds/{kind}) and
// the model's widths: learned layers as yellow boxes, pointwise operations as pink circles, the state
// along the top, every vector as a strip of cells. Pure: no DOM; views/diagram.js draws and colors it.

import { scaleFor } from "../core/colors.js";
import { BACKGROUND, DIAGRAM, FONT_FAMILY, INK, palette, sizes } from "../core/config.js";
import { escapeHtml } from "../core/text.js";

const OP_SYMBOL = { mul: "×", add: "+", clip: "+", one_minus: "1−", tanh: "tanh", identity: "=", relu: "relu", sigmoid: "σ" };
const BUS_Y = 1.45;       // the [x, h(t−1)] line that feeds every gate, as in colah's figures
export const STRIP_H = 0.3;
export const ROW = 12;    // units per strip row; wider vectors take two rows

/** Cell centres of a strip of n units centred on (sx, sy): one row, or two rows of ROW. */
export function stripCells(n, sx, sy, width) {
  const perRow = Math.ceil(n / Math.ceil(n / ROW));  // balanced rows: 16 units are two rows of 8
  const cell = width / perRow;
  const rows = Math.ceil(n / perRow);
  return Array.from({ length: n }, (_, i) => {
    const r = Math.floor(i / perRow), c = i % perRow;
    return [sx - width / 2 + (c + 0.5) * cell, sy + ((rows - 1) / 2 - r) * cell];
  });
}

/**
 * Where a node's strip sits, and where its box or circle sits. A pointwise operation's strip goes on a
 * side no arrow uses: above, else below, else to the right.
 */
function geometry(node, sides) {
  if (node.shape === "layer") return { strip: [node.x, node.y], mark: [node.x, node.y - 0.9] };
  if (node.shape === "op") {
    const used = sides?.[node.name] ?? new Set();
    const at = !used.has("up") ? [node.x, node.y + 0.55] : !used.has("down") ? [node.x, node.y - 0.55] : [node.x + 1.3, node.y];
    return { strip: at, mark: [node.x, node.y] };
  }
  return { strip: [node.x, node.y], mark: null };
}

/** Which sides of each node its arrows leave or enter by ("up" when the other end is higher). */
function arrowSides(diagram) {
  const pos = Object.fromEntries(diagram.nodes.map((n) => [n.name, n]));
  const sides = Object.fromEntries(diagram.nodes.map((n) => [n.name, new Set()]));
  for (const e of diagram.edges) {
    const a = pos[e.source], b = pos[e.target];
    if (b.y > a.y + 1e-6) { sides[a.name].add("up"); sides[b.name].add("down"); }
    if (b.y < a.y - 1e-6) { sides[a.name].add("down"); sides[b.name].add("up"); }
  }
  const h = pos.h;
  if (h && !diagram.state_lines.includes("h")) sides.h.add("right");
  return sides;
}

function zPath(x0, y0, x1, y1) {
  if (Math.abs(x0 - x1) < 1e-6 || Math.abs(y0 - y1) < 1e-6) return `M ${x0} ${y0} L ${x1} ${y1}`;
  const mid = (y0 + y1) / 2;
  return `M ${x0} ${y0} L ${x0} ${mid} L ${x1} ${mid} L ${x1} ${y1}`;
}

function arrowHead(x, y, dir, s = 0.12) {
  const [dx, dy] = dir;
  const px = -dy, py = dx;
  return `M ${x} ${y} L ${x - dx * s * 1.6 + px * s} ${y - dy * s * 1.6 + py * s} L ${x - dx * s * 1.6 - px * s} ${y - dy * s * 1.6 - py * s} Z`;
}

/**
 * The figure: {data, layout, shapeOwner, stripIndex, scales}. shapeOwner[i] names what shape i belongs
 * to (a name, "state" or "given"), so a phase can fade or outline it; stripIndex maps a name to its strip.
 */
export function figure(kindInfo, model, options, pixelWidth) {
  const { width: W, height: H } = kindInfo.diagram;  // the extents the server drew the positions in
  const base = sizes(options.presenter);
  // fonts follow the figure's size (a small embed frame, a projector), within the chosen size's bounds
  const scale = Math.max(0.85, Math.min(1.25, (pixelWidth - 78) / (W + 0.3) / 52));
  const sides = arrowSides(kindInfo.diagram);
  const nodes = Object.fromEntries(kindInfo.diagram.nodes.map((n) => [n.name, n]));
  const f = {
    W, H, kindInfo, model, options, nodes, pal: palette(options.palette),
    glossary: Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n])),
    sz: { ...base, font: Math.round(base.font * scale), small: Math.round(base.small * scale), title: Math.round(base.title * scale) },
    geo: (name) => geometry(nodes[name], sides),
    shapes: [], annotations: [], data: [], shapeOwner: [], stripIndex: {}, scales: {},
  };
  f.add = (shape, owner) => { f.shapes.push(shape); f.shapeOwner.push(owner); };
  const fed = stateAndBus(f);
  arrows(f, fed);
  for (const n of kindInfo.diagram.nodes) { mark(f, n.name); strip(f, n.name); }
  wayOut(f);
  legend(f);
  const layout = {
    margin: { l: 8, r: 70, t: 8, b: 8 }, showlegend: false, dragmode: false, hovermode: "closest",
    xaxis: { range: [-0.2, W + 0.1], visible: false, fixedrange: true },
    yaxis: { range: [-0.1, H + 0.4], visible: false, fixedrange: true, scaleanchor: "x" },
    shapes: f.shapes, annotations: f.annotations, ...BACKGROUND, font: { family: FONT_FAMILY, size: f.sz.font },
  };
  return { data: f.data, layout, shapeOwner: f.shapeOwner, stripIndex: f.stripIndex, scales: f.scales };
}

/** The state line along the top, and the [x, h(t−1)] bus under the gates; returns the edges the bus feeds. */
function stateAndBus({ W, kindInfo, nodes, glossary, pal, sz, add }) {
  const stateNames = kindInfo.diagram.state_lines;
  if (stateNames.length) {
    const y = nodes[stateNames[0]].y;
    add({ type: "line", x0: nodes[stateNames[0]].x + DIAGRAM.stripWidth / 2 + 0.05, x1: W - 0.4, y0: y, y1: y, line: { color: pal.state, width: sz.stateLine }, layer: "below" }, "state");
    add({ type: "path", path: arrowHead(W - 0.25, y, [1, 0], 0.16), fillcolor: pal.state, line: { width: 0 } }, "state");
  }
  const fed = kindInfo.diagram.edges.filter((e) => (e.source === "x" || e.source === "h_prev") && glossary[e.target].role === "pre");
  if (fed.length) {
    const right = Math.max(...fed.map((e) => nodes[e.target].x));
    const hp = nodes.h_prev;
    add({ type: "path", path: `M ${hp.x + 0.95} ${hp.y === BUS_Y ? BUS_Y : hp.y} ${hp.y === BUS_Y ? "" : `L ${hp.x + 1.2} ${hp.y} L ${hp.x + 1.2} ${BUS_Y}`} L ${right} ${BUS_Y}`,
      line: { color: pal.line, width: sz.line }, layer: "below" }, "given");
    add({ type: "line", x0: nodes.x.x, x1: nodes.x.x, y0: nodes.x.y + STRIP_H / 2, y1: BUS_Y, line: { color: pal.line, width: sz.line }, layer: "below" }, "given");
    for (const e of fed) {
      const t = nodes[e.target];
      add({ type: "line", x0: t.x, x1: t.x, y0: BUS_Y, y1: t.y - STRIP_H / 2 - 0.04, line: { color: pal.line, width: sz.line }, layer: "below" }, e.target);
    }
  }
  return fed;
}

/** The other arrows, routed with right angles. */
function arrows({ kindInfo, nodes, pal, sz, geo, add }, fed) {
  for (const e of kindInfo.diagram.edges) {
    if (fed.includes(e)) continue;
    if (e.style === "state") continue;  // drawn as the state line
    const s = geo(e.source), t = geo(e.target);
    const [x0, y0] = nodes[e.source].shape === "op" ? s.mark : s.strip;
    const [x1, y1] = t.mark ?? t.strip;
    const up = y1 > y0 ? 1 : -1;
    const level = Math.abs(y0 - y1) < 1e-6;
    const sourceInset = nodes[e.source].shape === "op" ? DIAGRAM.opRadius : level ? DIAGRAM.stripWidth / 2 + 0.05 : STRIP_H / 2;
    const start = level ? [x0 + Math.sign(x1 - x0) * sourceInset, y0] : [x0, y0 + up * sourceInset];
    const endInset = t.mark ? (nodes[e.target].shape === "op" ? DIAGRAM.opRadius : DIAGRAM.boxHeight / 2) : STRIP_H / 2;
    const end = level ? [x1 - Math.sign(x1 - x0) * endInset, y1] : [x1, y1 - up * endInset];
    const peephole = e.style === "peephole";
    const color = peephole ? pal.highlight : pal.line;
    add({ type: "path", path: zPath(start[0], start[1], end[0], end[1]), line: { color, width: sz.line * (peephole ? 0.8 : 1), dash: peephole ? "dot" : "solid" }, layer: "below" }, e.target);
    const dir = Math.abs(end[1] - (Math.abs(start[0] - end[0]) < 1e-6 ? start[1] : (start[1] + end[1]) / 2)) < 1e-6
      ? [Math.sign(end[0] - start[0]) || 1, 0] : [0, Math.sign(end[1] - start[1]) || 1];
    add({ type: "path", path: arrowHead(end[0], end[1], dir), fillcolor: color, line: { width: 0 } }, e.target);
  }
}

/** A learned layer's box (and the lines into and out of it), or a pointwise operation's circle. */
function mark({ nodes, glossary, pal, sz, geo, add, annotations }, name) {
  const n = nodes[name], v = glossary[name], g = geo(name);
  if (n.shape === "layer") {
    const [bx, by] = g.mark;
    add({ type: "rect", x0: bx - DIAGRAM.boxWidth / 2, x1: bx + DIAGRAM.boxWidth / 2, y0: by - DIAGRAM.boxHeight / 2, y1: by + DIAGRAM.boxHeight / 2,
      fillcolor: pal.layer, line: { color: INK.layerEdge, width: sz.line }, layer: "below" }, name);
    annotations.push({ x: bx, y: by, text: OP_SYMBOL[v.op] ?? v.op, showarrow: false, font: { size: sz.title, family: FONT_FAMILY, color: INK.layerText } });
    add({ type: "line", x0: bx, x1: bx, y0: by + DIAGRAM.boxHeight / 2, y1: n.y - STRIP_H / 2 - 0.04, line: { color: pal.line, width: sz.line }, layer: "below" }, name);
    if (glossary[v.operands[0]]) {
      add({ type: "line", x0: bx, x1: bx, y0: nodes[v.operands[0]].y + STRIP_H / 2 + 0.04, y1: by - DIAGRAM.boxHeight / 2, line: { color: pal.line, width: sz.line }, layer: "below" }, name);
    }
  } else if (n.shape === "op") {
    const [cx, cy] = g.mark, r = DIAGRAM.opRadius * (v.op === "tanh" ? 1.35 : 1);
    add({ type: "circle", x0: cx - r, x1: cx + r, y0: cy - DIAGRAM.opRadius, y1: cy + DIAGRAM.opRadius,
      fillcolor: pal.op, line: { color: INK.opEdge, width: sz.line } }, name);
    annotations.push({ x: cx, y: cy, text: OP_SYMBOL[v.op] ?? v.op, showarrow: false, font: { size: v.op === "tanh" ? sz.small : sz.title, family: FONT_FAMILY, color: INK.opText } });
  }
}

/** A name's strip of cells (one marker series, colored per step) and its symbol above or below it. */
function strip({ model, options, nodes, glossary, sz, geo, data, stripIndex, scales, annotations }, name) {
  const n = nodes[name], v = glossary[name];
  const widths = { hidden: model.hidden_size, proj: model.out_size, input: model.input_size };
  const width = widths[v.width] ?? model.hidden_size;
  const shown = Math.min(width, DIAGRAM.maxUnits);
  const [sx, sy] = geo(name).strip;
  const cells = stripCells(shown, sx, sy, DIAGRAM.stripWidth);
  const xs = cells.map((c) => c[0]);
  const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
  scales[name] = { colorscale, cmin, cmax };
  stripIndex[name] = data.length;
  data.push({
    type: "scatter", mode: "markers", x: xs, y: cells.map((c) => c[1]), name,
    marker: { symbol: "square", size: 8, color: xs.map(() => 0), colorscale, cmin, cmax, line: { color: INK.cellEdge, width: 0.5 } },
    customdata: xs.map((_, i) => i),
    meta: { label: escapeHtml(v.label), eq: escapeHtml(v.equation), more: width > shown ? ` (first ${shown} of ${width} units)` : "" },
    hovertemplate: "<b>%{meta.label}</b>%{meta.more}<br>unit %{customdata}: %{marker.color:.4f}<br>%{meta.eq}<extra></extra>",
    hoverlabel: { font: { family: FONT_FAMILY, size: sz.small } },
  });
  const half = DIAGRAM.stripWidth / Math.ceil(shown / Math.ceil(shown / ROW)) / 2;
  const below = n.shape === "op" && sy < n.y;  // a strip under its circle takes its label under it too
  const edge = below ? Math.min(...cells.map((c) => c[1])) - half : Math.max(...cells.map((c) => c[1])) + half;
  annotations.push({ x: sx, y: edge + (below ? -0.02 : 0.02), yanchor: below ? "top" : "bottom", text: escapeHtml(v.symbol), showarrow: false,
    bgcolor: INK.labelBg, borderpad: 0,
    font: { size: sz.small, family: FONT_FAMILY, color: INK.label }, name: `label:${name}` });
}

/** The way out: h(t) leaves to the right (unless it is the state line). */
function wayOut({ W, kindInfo, nodes, pal, sz, geo, add }) {
  if (!nodes.h || kindInfo.diagram.state_lines.includes("h")) return;
  const [hx, hy] = geo("h").mark ?? geo("h").strip;
  add({ type: "path", path: `M ${hx + 0.32} ${hy} L ${W - 0.55} ${hy}`, line: { color: pal.line, width: sz.line }, layer: "below" }, "h");
  add({ type: "path", path: arrowHead(W - 0.4, hy, [1, 0]), fillcolor: pal.line, line: { width: 0 } }, "h");
}

/** The color legend: two colorbars, gates in [0, 1] and values in [-1, 1]. */
function legend({ options, sz, data }) {
  for (const [i, range] of ["unit", "signed"].entries()) {
    const { colorscale, cmin, cmax } = scaleFor(range, options.palette);
    data.push({ type: "scatter", x: [null], y: [null], mode: "markers", hoverinfo: "skip", showlegend: false,
      marker: { color: [cmin], colorscale, cmin, cmax, showscale: true,
        colorbar: { title: { text: range === "unit" ? "gates" : "values", font: { size: sz.small, family: FONT_FAMILY } },
          len: 0.42, y: i === 0 ? 0.77 : 0.25, thickness: sz.small, x: 1.0, tickfont: { size: sz.small, family: FONT_FAMILY } } } });
  }
}

/** How shape i looks in a phase: faded when its owner comes later; a box or circle of the active phase outlined. */
export function shapeLook(shape, owner, glossary, order, phase, options) {
  const active = phase ? order.indexOf(phase) : order.length;
  const p = glossary[owner] ? order.indexOf(glossary[owner].phase) : owner === "given" || owner === "state" ? 0 : order.length;
  const look = { opacity: p <= active ? 1 : 0.25 };
  if (shape.type === "rect" || shape.type === "circle") {
    const on = phase && glossary[owner] && glossary[owner].phase === phase;
    look.width = on ? sizes(options.presenter).line * 2.4 : sizes(options.presenter).line;
    look.color = on ? palette(options.palette).highlight : shape.type === "rect" ? INK.layerEdge : INK.opEdge;
  }
  return look;
}
