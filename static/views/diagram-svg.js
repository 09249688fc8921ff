// The diagram's scene (views/diagram-figure.js) made into SVG elements. Every colour, width and font is an
// attribute, not a style sheet's rule, so the SVG is complete in itself: serialized, it is the PNG and SVG export.

import { FONT_FAMILY, INK } from "../core/config.js";

const NS = "http://www.w3.org/2000/svg";

/** An SVG element with these attributes (and text). */
export function svgNode(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * The scene drawn into a new <svg>: {svg, items (one element per scene item), cells (per name, one <rect> per
 * drawn unit), groups (per name, the <g> of its cells), ticks (per legend range, its tick <text>s), packets (the
 * empty layer the flow animation moves its squares in, views/diagram-flow.js)}.
 * id: what the legend's gradients are named after (unique in the page).
 */
export function drawScene(scene, id) {
  const svg = svgNode("svg", { xmlns: NS, width: scene.width, height: scene.height, viewBox: `0 0 ${scene.width} ${scene.height}`,
    role: "img", "font-family": FONT_FAMILY, class: "diagram-svg" });
  svg.append(svgNode("rect", { x: 0, y: 0, width: scene.width, height: scene.height, fill: INK.paper, class: "paper" }));
  const out = { svg, items: [], cells: {}, groups: {}, ticks: {} };
  const below = svgNode("g", { class: "wires" }), strips = svgNode("g", { class: "strips" }), above = svgNode("g", { class: "texts" });
  out.packets = svgNode("g", { class: "packets", stroke: INK.cellEdge, "stroke-width": 0.5 });  // the flow's moving squares
  svg.append(below, strips, out.packets, above);
  for (const item of scene.items) {
    const node = svgNode(item.tag, item.attrs, item.text ?? null);
    if (item.owner) node.dataset.owner = item.owner;
    node.dataset.part = item.part;
    // a title (the hover text) beside the text it explains, in a group: inside, it would be part of its text
    const placed = item.title ? svgNode("g", {}) : node;
    if (item.title) placed.append(svgNode("title", {}, item.title), node);
    (item.part === "wire" || item.part === "mark" ? below : above).append(placed);
    out.items.push(node);
  }
  for (const [name, strip] of Object.entries(scene.strips)) {
    const g = svgNode("g", { class: "strip", "data-name": name, stroke: INK.cellEdge, "stroke-width": 0.5 });
    const half = strip.size / 2;
    out.cells[name] = strip.cells.map(([x, y], i) => {
      const cell = svgNode("rect", { x: x - half, y: y - half, width: strip.size, height: strip.size, fill: INK.missing, class: "cell" });
      cell.dataset.unit = strip.units[i];
      g.append(cell);
      return cell;
    });
    out.groups[name] = g;
    strips.append(g);
  }
  svg.append(drawLegend(scene.legend, id, out.ticks));
  return out;
}

/** The legend's bars: a gradient each (its top is the scale's top), its title and its tick labels. */
function drawLegend(bars, id, ticks) {
  const g = svgNode("g", { class: "legend" }), defs = svgNode("defs");
  g.append(defs);
  for (const bar of bars) {
    const gradient = svgNode("linearGradient", { id: `${id}-${bar.range}`, x1: 0, y1: 1, x2: 0, y2: 0 });
    for (const [offset, color] of bar.stops) gradient.append(svgNode("stop", { offset, "stop-color": color }));
    defs.append(gradient);
    const label = { "font-size": bar.font, fill: INK.label };
    g.append(svgNode("text", { x: bar.x, y: bar.titleY, ...label, class: "bar-title" }, bar.title));
    g.append(svgNode("rect", { x: bar.x, y: bar.top, width: bar.thickness, height: bar.length, fill: `url(#${id}-${bar.range})`, "data-range": bar.range }));
    ticks[bar.range] = bar.ticks.map((t) => {
      const tick = svgNode("text", { x: bar.x + bar.thickness + 3, y: t.y, "dominant-baseline": "central", ...label, "font-size": Math.max(7, bar.font - 1), class: "tick" }, t.text);
      g.append(tick);
      return tick;
    });
  }
  return g;
}
