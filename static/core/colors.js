// Color scales for values: pure functions, shared by the diagram, the heatmaps and the token strip.

import { INK, palette } from "gatescope/core/config.js";

/** The value range of a glossary range class. */
function bounds(range) {
  return range === "unit" ? [0, 1] : [-1, 1];
}

/**
 * Plotly colorscale, cmin and cmax for a name's range ("unit", "signed" or "real"). Unbounded ("real")
 * values get a symmetric scale reaching their largest magnitude, at least ±1, so a cell state of 12 is
 * not drawn as saturated as one of 1.
 */
export function scaleFor(range, paletteName, maxAbs = 1) {
  const p = palette(paletteName);
  const [cmin, cmax] = range === "real" ? [-Math.max(1, maxAbs), Math.max(1, maxAbs)] : bounds(range);
  return { colorscale: range === "unit" ? p.unit : p.signed, cmin, cmax };
}

/** Where a colour bar's ticks go for a scale (scaleFor's answer): its ends and its middle, labelled as numbers. */
export function scaleTicks({ cmin, cmax }) {
  const label = (v) => (v === 0 ? "0" : `${v < 0 ? "−" : ""}${Number(Math.abs(v).toPrecision(3))}`);
  const mid = (cmin + cmax) / 2;
  return { tickvals: [cmin, mid, cmax], ticktext: [cmin, mid, cmax].map(label) };
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The CSS color of value v on a Plotly-style colorscale between cmin and cmax (clamped). */
export function colorAt(v, scale, cmin, cmax) {
  if (!Number.isFinite(v)) return INK.missing;
  const x = Math.min(1, Math.max(0, (v - cmin) / (cmax - cmin)));
  for (let i = 1; i < scale.length; i++) {
    const [x1, c1] = scale[i];
    if (x <= x1) {
      const [x0, c0] = scale[i - 1];
      const f = x1 === x0 ? 0 : (x - x0) / (x1 - x0);
      const a = hexToRgb(c0), b = hexToRgb(c1);
      const mix = a.map((ai, k) => Math.round(ai + f * (b[k] - ai)));
      return `rgb(${mix[0]},${mix[1]},${mix[2]})`;
    }
  }
  const last = hexToRgb(scale[scale.length - 1][1]);
  return `rgb(${last[0]},${last[1]},${last[2]})`;
}

/** Relative luminance of an rgb() string: text on a dark cell must be light. */
export function isDark(rgb) {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

/** WCAG's relative luminance of a "#rrggbb" or "rgb(...)" colour. */
export function luminance(color) {
  const rgb = color.startsWith("#") ? hexToRgb(color) : color.match(/\d+/g).map(Number);
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG's contrast ratio of two colours (1 to 21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
