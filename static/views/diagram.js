// The cell drawn like colah's figures: learned layers as yellow boxes, pointwise operations as pink
// circles, the state running along the top, and every vector as a strip of colored cells holding the
// real numbers of the current step. Positions and arrows come from the server (GET /api/kinds/{kind});
// this module only draws them. A shown step is a Plotly restyle of marker colors; while playing, frames
// paint the SVG Plotly drew directly (a restyle redraws the whole figure, ~50 ms; painting takes ~1 ms),
// and the next paused step puts Plotly's own state back in line.

import { colorAt, scaleFor } from "../core/colors.js";
import { DIAGRAM, FONT_FAMILY, palette, sizes } from "../core/config.js";
import { escapeHtml } from "../core/text.js";

const OP_SYMBOL = { mul: "×", add: "+", clip: "+", one_minus: "1−", tanh: "tanh", identity: "=", relu: "relu", sigmoid: "σ" };
const BUS_Y = 1.45;       // the [x, h(t−1)] line that feeds every gate, as in colah's figures
const STRIP_H = 0.3;
const ROW = 12;           // units per strip row; wider vectors take two rows

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

export function createDiagram(el, { onHover } = {}) {
  let info = null, names = [], vocab = {}, traceIndex = {}, nodes = {}, shapeOwner = [], opts = {}, scales = {};
  let lastPhase = null, dom = null, painted = false, paintedPhase;

  function build(kindInfo, model, options) {
    info = kindInfo;
    opts = options;
    vocab = Object.fromEntries(kindInfo.vocabulary.names.map((n) => [n.name, n]));
    nodes = Object.fromEntries(kindInfo.diagram.nodes.map((n) => [n.name, n]));
    names = kindInfo.diagram.nodes.map((n) => n.name);
    const sides = arrowSides(kindInfo.diagram);
    const geo = (name) => geometry(nodes[name], sides);
    const pal = palette(options.palette), base = sizes(options.presenter);
    // fonts follow the figure's size (a small embed frame, a projector), within the chosen size's bounds
    const scale = Math.max(0.85, Math.min(1.25, (el.clientWidth - 78) / 14.3 / 52));
    const sz = { ...base, font: Math.round(base.font * scale), small: Math.round(base.small * scale), title: Math.round(base.title * scale) };
    const widths = { hidden: model.hidden_size, proj: model.out_size, input: model.input_size };
    const shapes = [], annotations = [], traces = [];
    shapeOwner = [];
    const add = (shape, owner) => { shapes.push(shape); shapeOwner.push(owner); };

    // the state line along the top, and the [x, h(t−1)] bus under the gates
    const stateNames = kindInfo.diagram.state_lines;
    if (stateNames.length) {
      const y = nodes[stateNames[0]].y;
      add({ type: "line", x0: nodes[stateNames[0]].x + DIAGRAM.stripWidth / 2 + 0.05, x1: 13.6, y0: y, y1: y, line: { color: pal.state, width: sz.stateLine }, layer: "below" }, "state");
      add({ type: "path", path: arrowHead(13.75, y, [1, 0], 0.16), fillcolor: pal.state, line: { width: 0 } }, "state");
    }
    const fed = kindInfo.diagram.edges.filter((e) => (e.source === "x" || e.source === "h_prev") && vocab[e.target].role === "pre");
    if (fed.length) {
      const xs = fed.map((e) => nodes[e.target].x);
      const right = Math.max(...xs);
      const hp = nodes.h_prev;
      add({ type: "path", path: `M ${hp.x + 0.95} ${hp.y === BUS_Y ? BUS_Y : hp.y} ${hp.y === BUS_Y ? "" : `L ${hp.x + 1.2} ${hp.y} L ${hp.x + 1.2} ${BUS_Y}`} L ${right} ${BUS_Y}`,
        line: { color: pal.line, width: sz.line }, layer: "below" }, "inputs");
      add({ type: "line", x0: nodes.x.x, x1: nodes.x.x, y0: nodes.x.y + STRIP_H / 2, y1: BUS_Y, line: { color: pal.line, width: sz.line }, layer: "below" }, "inputs");
      for (const e of fed) {
        const t = nodes[e.target];
        add({ type: "line", x0: t.x, x1: t.x, y0: BUS_Y, y1: t.y - STRIP_H / 2 - 0.04, line: { color: pal.line, width: sz.line }, layer: "below" }, e.target);
      }
    }
    // the other arrows, routed with right angles
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
      let end = [x1, y1 - up * endInset];
      if (Math.abs(y0 - y1) < 1e-6) end = [x1 - Math.sign(x1 - x0) * endInset, y1];
      const dash = e.style === "peephole" ? "dot" : e.style === "gate" ? "solid" : "solid";
      const color = e.style === "peephole" ? pal.highlight : pal.line;
      add({ type: "path", path: zPath(start[0], start[1], end[0], end[1]), line: { color, width: sz.line * (e.style === "peephole" ? 0.8 : 1), dash }, layer: "below" }, e.target);
      const dir = Math.abs(end[1] - (Math.abs(start[0] - end[0]) < 1e-6 ? start[1] : (start[1] + end[1]) / 2)) < 1e-6
        ? [Math.sign(end[0] - start[0]) || 1, 0] : [0, Math.sign(end[1] - start[1]) || 1];
      add({ type: "path", path: arrowHead(end[0], end[1], dir), fillcolor: color, line: { width: 0 } }, e.target);
    }
    // boxes, circles, strips, labels
    for (const name of names) {
      const n = nodes[name], v = vocab[name], g = geo(name);
      if (n.shape === "layer") {
        const [bx, by] = g.mark;
        add({ type: "rect", x0: bx - DIAGRAM.boxWidth / 2, x1: bx + DIAGRAM.boxWidth / 2, y0: by - DIAGRAM.boxHeight / 2, y1: by + DIAGRAM.boxHeight / 2,
          fillcolor: pal.layer, line: { color: "#8a6d00", width: sz.line }, layer: "below" }, name);
        annotations.push({ x: bx, y: by, text: OP_SYMBOL[v.op] ?? v.op, showarrow: false, font: { size: sz.title, family: FONT_FAMILY, color: "#3a2f00" } });
        add({ type: "line", x0: bx, x1: bx, y0: by + DIAGRAM.boxHeight / 2, y1: n.y - STRIP_H / 2 - 0.04, line: { color: pal.line, width: sz.line }, layer: "below" }, name);
        if (vocab[v.inputs[0]]) {
          add({ type: "line", x0: bx, x1: bx, y0: nodes[v.inputs[0]].y + STRIP_H / 2 + 0.04, y1: by - DIAGRAM.boxHeight / 2, line: { color: pal.line, width: sz.line }, layer: "below" }, name);
        }
      } else if (n.shape === "op") {
        const [cx, cy] = g.mark, r = DIAGRAM.opRadius * (v.op === "tanh" ? 1.35 : 1);
        add({ type: "circle", x0: cx - r, x1: cx + r, y0: cy - DIAGRAM.opRadius, y1: cy + DIAGRAM.opRadius,
          fillcolor: pal.op, line: { color: "#9c2759", width: sz.line } }, name);
        annotations.push({ x: cx, y: cy, text: OP_SYMBOL[v.op] ?? v.op, showarrow: false, font: { size: v.op === "tanh" ? sz.small : sz.title, family: FONT_FAMILY, color: "#4a0d2a" } });
      }
      const width = widths[v.width] ?? model.hidden_size;
      const shown = Math.min(width, DIAGRAM.maxUnits);
      const [sx, sy] = g.strip;
      const cells = stripCells(shown, sx, sy, DIAGRAM.stripWidth);
      const xs = cells.map((c) => c[0]);
      const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
      scales[name] = { colorscale, cmin, cmax };
      traceIndex[name] = traces.length;
      traces.push({
        type: "scatter", mode: "markers", x: xs, y: cells.map((c) => c[1]), name,
        marker: { symbol: "square", size: 8, color: xs.map(() => 0), colorscale, cmin, cmax, line: { color: "rgba(60,60,60,0.35)", width: 0.5 } },
        customdata: xs.map((_, i) => i),
        meta: { label: escapeHtml(v.label), eq: escapeHtml(v.equation), more: width > shown ? ` (first ${shown} of ${width} units)` : "" },
        hovertemplate: "<b>%{meta.label}</b>%{meta.more}<br>unit %{customdata}: %{marker.color:.4f}<br>%{meta.eq}<extra></extra>",
        hoverlabel: { font: { family: FONT_FAMILY, size: sz.small } },
      });
      const half = DIAGRAM.stripWidth / Math.ceil(shown / Math.ceil(shown / ROW)) / 2;
      const below = n.shape === "op" && sy < n.y;  // a strip under its circle takes its label under it too
      const edge = below ? Math.min(...cells.map((c) => c[1])) - half : Math.max(...cells.map((c) => c[1])) + half;
      annotations.push({ x: sx, y: edge + (below ? -0.02 : 0.02), yanchor: below ? "top" : "bottom", text: escapeHtml(v.symbol), showarrow: false,
        bgcolor: "rgba(255,255,255,0.92)", borderpad: 0,
        font: { size: sz.small, family: FONT_FAMILY, color: "#222" }, name: `label:${name}` });
    }
    // the way out: h(t) leaves to the right
    const h = nodes.h;
    if (h) {
      const [hx, hy] = geo("h").mark ?? geo("h").strip;
      if (!stateNames.includes("h")) {
        add({ type: "path", path: `M ${hx + 0.32} ${hy} L 13.45 ${hy}`, line: { color: pal.line, width: sz.line }, layer: "below" }, "h");
        add({ type: "path", path: arrowHead(13.6, hy, [1, 0]), fillcolor: pal.line, line: { width: 0 } }, "h");
      }
    }
    // the color legend: two colorbars, gates in [0, 1] and values in [-1, 1]
    for (const [i, range] of ["unit", "signed"].entries()) {
      const { colorscale, cmin, cmax } = scaleFor(range, options.palette);
      traces.push({ type: "scatter", x: [null], y: [null], mode: "markers", hoverinfo: "skip", showlegend: false,
        marker: { color: [cmin], colorscale, cmin, cmax, showscale: true,
          colorbar: { title: { text: range === "unit" ? "gates" : "values", font: { size: sz.small, family: FONT_FAMILY } },
            len: 0.42, y: i === 0 ? 0.77 : 0.25, thickness: sz.small, x: 1.0, tickfont: { size: sz.small, family: FONT_FAMILY } } } });
    }
    const layout = {
      margin: { l: 8, r: 70, t: 8, b: 8 }, showlegend: false, dragmode: false, hovermode: "closest",
      xaxis: { range: [-0.2, 14.1], visible: false, fixedrange: true },
      yaxis: { range: [-0.1, 9.4], visible: false, fixedrange: true, scaleanchor: "x" },
      shapes, annotations, paper_bgcolor: "white", plot_bgcolor: "white", font: { family: FONT_FAMILY, size: sz.font },
    };
    Plotly.newPlot(el, traces, layout, { displayModeBar: false, responsive: true, staticPlot: false });
    el.on("plotly_afterplot", () => { dom = null; });  // Plotly may have made new elements
    fitMarkers();
    lastPhase = null;
    painted = false;
    if (onHover) el.on("plotly_hover", (e) => onHover(e.points[0]?.data?.name, e.points[0]?.customdata));
  }

  /** Marker sizes follow the figure's pixel scale, so strips fill their width at any size. */
  function fitMarkers() {
    const full = el._fullLayout;
    if (!full || !info) return;
    const pxPerUnit = full.xaxis._length / (full.xaxis.range[1] - full.xaxis.range[0]);
    const idx = [], size = [];
    for (const name of names) {
      const n = el.data[traceIndex[name]].x.length;
      idx.push(traceIndex[name]);
      size.push(Math.max(2, Math.min(STRIP_H * pxPerUnit, (DIAGRAM.stripWidth / Math.min(n, ROW)) * pxPerUnit * 0.88)));
    }
    Plotly.restyle(el, { "marker.size": size }, idx);
  }

  /**
   * Show step t of the store. phase: the active animation phase, or null for all at once.
   * Names in later phases are drawn faint; the active phase's shapes are outlined in the highlight color.
   */
  function show(store, t, phase, playing = false) {
    if (!info || !store.steps) return;
    if (playing) return paint(store, t, phase);
    const order = info.vocabulary.phases.map((p) => p.name);
    const active = phase ? order.indexOf(phase) : order.length;
    const idx = [], colors = [], opacity = [];
    for (const name of names) {
      if (!store.has(name)) continue;
      const n = el.data[traceIndex[name]].x.length;
      idx.push(traceIndex[name]);
      colors.push(Array.from(store.value(name, t).subarray(0, n)));
      const p = order.indexOf(vocab[name].phase);
      opacity.push(p <= active ? 1 : 0.18);
    }
    Plotly.restyle(el, { "marker.color": colors, opacity }, idx);
    if (phase !== lastPhase || painted) {
      painted = false;
      const pal = palette(opts.palette), sz = sizes(opts.presenter);
      const update = {};
      el.layout.shapes.forEach((s, i) => {
        const owner = shapeOwner[i];
        const p = vocab[owner] ? order.indexOf(vocab[owner].phase) : owner === "inputs" || owner === "state" ? 0 : order.length;
        update[`shapes[${i}].opacity`] = p <= active ? 1 : 0.25;
        if (s.type === "rect" || s.type === "circle") {
          const on = phase && vocab[owner] && vocab[owner].phase === phase;
          update[`shapes[${i}].line.width`] = on ? sz.line * 2.4 : sz.line;
          update[`shapes[${i}].line.color`] = on ? pal.highlight : s.type === "rect" ? "#8a6d00" : "#9c2759";
        }
      });
      Plotly.relayout(el, update);
      lastPhase = phase;
    }
  }

  /** The SVG elements of the strips (per name) and of the shapes (by index), as Plotly last drew them. */
  function elements() {
    if (dom) return dom;
    const groups = el.querySelectorAll(".scatterlayer .trace");
    dom = { points: {}, groups: {}, shapes: [] };
    for (const name of names) {
      const g = groups[traceIndex[name]];
      dom.groups[name] = g;
      dom.points[name] = g ? g.querySelectorAll("path.point") : [];
    }
    el.querySelectorAll(".shapelayer path[data-index]").forEach((p) => { dom.shapes[Number(p.dataset.index)] = p; });
    return dom;
  }

  /** One playing frame: cell colors, faded phases and the active phase's outline, written into the SVG. */
  function paint(store, t, phase) {
    const d = elements(), order = info.vocabulary.phases.map((p) => p.name);
    const active = phase ? order.indexOf(phase) : order.length;
    for (const name of names) {
      if (!store.has(name)) continue;
      const pts = d.points[name], values = store.value(name, t), { colorscale, cmin, cmax } = scales[name];
      for (let i = 0; i < pts.length; i++) pts[i].style.fill = colorAt(values[i], colorscale, cmin, cmax);
      if (d.groups[name]) d.groups[name].style.opacity = order.indexOf(vocab[name].phase) <= active ? 1 : 0.18;
    }
    if (phase !== paintedPhase) {
      const pal = palette(opts.palette), sz = sizes(opts.presenter);
      d.shapes.forEach((path, i) => {
        const owner = shapeOwner[i], s = el.layout.shapes[i];
        const p = vocab[owner] ? order.indexOf(vocab[owner].phase) : owner === "inputs" || owner === "state" ? 0 : order.length;
        path.style.opacity = p <= active ? 1 : 0.25;
        if (s.type === "rect" || s.type === "circle") {
          const on = phase && vocab[owner] && vocab[owner].phase === phase;
          path.style.strokeWidth = `${on ? sz.line * 2.4 : sz.line}px`;
          path.style.stroke = on ? pal.highlight : s.type === "rect" ? "#8a6d00" : "#9c2759";
        }
      });
      paintedPhase = phase;
    }
    painted = true;
  }

  /** Unbounded names (c, kept, pre-activations) colored on ±their largest magnitude so far. */
  function setRanges(store) {
    const idx = [], cmin = [], cmax = [];
    for (const name of names) {
      if (vocab[name].range !== "real" || !store.has(name)) continue;
      const m = Math.max(1, store.maxAbs(name));
      idx.push(traceIndex[name]);
      cmin.push(-m);
      cmax.push(m);
      scales[name] = { ...scales[name], cmin: -m, cmax: m };
    }
    if (idx.length) Plotly.restyle(el, { "marker.cmin": cmin, "marker.cmax": cmax }, idx);
  }

  return { build, show, setRanges, resize: () => { Plotly.Plots.resize(el); fitMarkers(); }, get names() { return names; } };
}
