// The diagram's colour legend, one bar per scale in use: gates on 0…1, bounded values on −1…1, every
// pre-activation on one ±(largest |value| so far) that its bar's ticks state, and any other unbounded vector
// (c, kept, x) on ±its own largest |value| so far, which its strip's label states. Laid out in pixels in the
// diagram's right margin: each bar gets its share of the height, its title above it and ticks that do not collide.
// Pure: no DOM.

import { scaleFor, scaleTicks } from "../core/colors.js";

/** The scale a glossary name is coloured on: "unit", "signed", "pre" or "real". */
export function scaleOf(v) {
  return v.range === "real" ? (v.role === "pre" ? "pre" : "real") : v.range;
}

/** A bar's ticks for a scale ±m (the pre-activations'), or its own fixed ones; two when the bar is short. */
export function barTicks(range, scale, few) {
  const ticks = range === "real" ? { tickvals: [-1, 0, 1], ticktext: ["−max", "0", "+max"] } : scaleTicks(scale);
  return few ? { tickvals: [ticks.tickvals[0], ticks.tickvals[2]], ticktext: [ticks.ticktext[0], ticks.ticktext[2]] } : ticks;
}

/**
 * The bars, top to bottom: {range, title, x, top, thickness, length, titleY, font, stops, cmin, cmax, few, ticks}
 * where stops are the gradient's [offset from the bottom, colour] and ticks [{y, text}] in pixels.
 * box: {x, top, width, height} of the margin they share.
 */
export function legend(kindInfo, glossary, options, base, box) {
  const used = new Set(kindInfo.diagram.nodes.map((n) => scaleOf(glossary[n.name])));
  const own = [...new Set(kindInfo.diagram.nodes.map((n) => glossary[n.name]).filter((v) => scaleOf(v) === "real")
    .map((v) => v.symbol.replace(/\(t(−1)?\)$/, "")))];  // the names on their own ±max, as "x, c, …"
  const bars = [["unit", "gates"], ["signed", "values"], ["pre", "pre-act."], ["real", own.slice(0, 2).join(", ") + (own.length > 2 ? ", …" : "")]]
    .filter(([r]) => used.has(r));
  const slot = box.height / Math.max(1, bars.length), font = Math.max(7, Math.min(base.small - 1, Math.floor(slot / 6)));
  const length = Math.max(12, slot - font * 2.2 - 10);
  const fits = Math.max(4, Math.floor(box.width / (font * 0.62)));  // characters of a title the margin holds
  return bars.map(([range, whole], i) => {
    const title = whole.length > fits ? `${whole.slice(0, fits - 1).trimEnd()}…` : whole;
    const { colorscale, cmin, cmax } = scaleFor(range === "unit" ? "unit" : "signed", options.palette);
    const top = box.top + i * slot + font * 1.6 + 4;  // the title's line, then half a tick label's height
    const bar = { range, title, x: box.x, top, thickness: Math.max(6, Math.round(font * 0.9)), length, titleY: top - font * 0.6 - 2, font,
      stops: colorscale.map(([offset, color]) => [offset, color]), cmin, cmax, few: length < font * 4 };
    return { ...bar, ticks: tickMarks(bar, barTicks(range, { cmin, cmax }, bar.few)) };
  });
}

/** Tick labels of a bar in pixels: the ticks span the bar, its bottom the first (the least), its top the last. */
export function tickMarks(bar, { tickvals, ticktext }) {
  const lo = tickvals[0], hi = tickvals[tickvals.length - 1];
  return tickvals.map((v, i) => ({ y: bar.top + ((hi - v) / (hi - lo)) * bar.length, text: ticktext[i] }));
}
