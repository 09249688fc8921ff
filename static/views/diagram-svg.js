// The diagram's scene (views/diagram-figure.js) made into SVG elements. Every colour, width and font is an
// attribute, not a style sheet's rule, so the SVG is complete in itself: serialized, it is the PNG and SVG export.

import { FONT_FAMILY, INK } from "gatescope/core/config.js";

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
  out.legend = [];  // [part, its element]: views/diagram.js moves them along when a number of the legend grows
  svg.append(drawLegend(scene.legend, id, out.ticks, out.legend));
  return out;
}

/** The legend's row under the cell: each scale's gradient swatch between its words and numbers; the texts that
 *  change as the run grows (keyed, diagram-legend.js) are kept in ticks for views/diagram.js to rewrite. */
function drawLegend(key, id, ticks, placed) {
  const g = svgNode("g", { class: "legend", "font-size": key.font, fill: INK.label }), defs = svgNode("defs");
  g.append(defs);
  for (const item of key.items) {
    for (const p of item.parts) {
      const x = key.x + p.x, y = key.top + p.y;
      if (p.swatch) {
        const gradient = svgNode("linearGradient", { id: `${id}-${item.range}`, x1: 0, y1: 0, x2: 1, y2: 0 });
        for (const [offset, color] of p.stops) gradient.append(svgNode("stop", { offset, "stop-color": color }));
        defs.append(gradient);
        const rect = svgNode("rect", { x, y: y - p.height / 2, width: p.width, height: p.height, fill: `url(#${id}-${item.range})`,
          stroke: INK.cellEdge, "stroke-width": 0.5, "data-range": item.range });
        placed.push([p, rect]);
        g.append(rect);
      } else {
        const text = svgNode("text", { x, y, "dominant-baseline": "central", class: p.key ? "tick" : "bar-title" }, p.text);
        if (p.key) ticks[p.key] = text;
        placed.push([p, text]);
        g.append(text);
      }
    }
  }
  return g;
}
