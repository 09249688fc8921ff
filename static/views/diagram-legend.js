// The diagram's colour legend: one compact row (two on a narrow figure) under the cell, an item per scale in use:
// gates on 0…1, bounded values on −1…+1, every pre-activation on one ±(largest |value| so far), and each other
// unbounded vector (c, kept, x) on ±its own largest |value| so far, listed by name ("c 12.6 · kept 11.7"): that is
// what a strip's colour means, said once, not beside every strip. Laid out in pixels at the labels' font, so it is as
// legible as they are. Pure: no DOM (views/diagram-svg.js draws it, views/diagram.js rewrites its numbers).

import { scaleFor, scaleTicks } from "gatescope/core/colors.js";
import { tr } from "gatescope/core/i18n.js";

const CHAR = 0.62;     // a character's width in DejaVu Sans, in ems (digits and most letters are narrower)
const SWATCH = 2.6;    // a gradient swatch's width, in ems
const GAP = 1.2;       // between two items, in ems
const NUMBER = 4;      // characters kept for a number that grows as the run does ("12.6", "9.89")

const WIDE = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/u;  // CJK and full-width forms: a full em each

/** A text's width in characters of CHAR ems: a Chinese character (a full em) counts as 1 / CHAR of them. */
export function chars(text) {
  let n = 0;
  for (const ch of text) n += WIDE.test(ch) ? 1 / CHAR : 1;
  return n;
}

/** The scale a glossary name is coloured on: "unit", "signed", "pre" or "real". */
export function scaleOf(v) {
  return v.range === "real" ? (v.role === "pre" ? "pre" : "real") : v.range;
}

/** A number as the legend writes it: three significant digits, a true minus sign. */
export function bound(m) {
  return scaleTicks({ cmin: -m, cmax: m }).ticktext[2];
}

/** The short name of a vector in the legend's list: its symbol without "(t)" ("c", "kept", "c(t−1)", "f + i"). */
export function shortName(v) {
  return v.symbol.replaceAll("(t)", "");
}

/**
 * The legend's items in rows: {font, height, items: [{range, parts}]} where parts are, left to right,
 * {text, x, y, key?} or {swatch: range, x, y, width, height, stops}; key names a text diagram.js rewrites as the run
 * grows ("pre:lo", "pre:hi", "real:<name>"). maxima: the current ±max of "pre" and of each real name.
 */
export function legend(kindInfo, glossary, options, font, width, maxima = {}) {
  const names = kindInfo.diagram.nodes.map((n) => glossary[n.name]);
  const used = new Set(names.map(scaleOf));
  const em = font * CHAR, swatch = font * SWATCH;
  const items = [];
  // a keyed text is rewritten as the run grows (views/diagram.js: its prefix, then the new bound); the rows are chosen
  // with room for NUMBER digits in each, so a number that grows never needs another row (place() moves the rest along)
  const text = (s, key, prefix = "") => ({ text: `${prefix}${s}`, key, prefix, reserve: (chars(prefix) + Math.max(chars(s), key ? NUMBER : 0)) * em });
  const swatchOf = (range) => ({ swatch: range, reserve: swatch, height: font * 0.8, stops: scaleFor(range, options.palette).colorscale });
  const pre = bound(maxima.pre ?? 1);
  if (used.has("unit")) items.push({ range: "unit", parts: [text(`${tr("gates")} 0`), swatchOf("unit"), text("1")] });
  if (used.has("signed")) items.push({ range: "signed", parts: [text(`${tr("values")} −1`), swatchOf("signed"), text("+1")] });
  if (used.has("pre")) items.push({ range: "pre", parts: [text(tr("pre-act.")), text(pre, "pre:lo", "−"), swatchOf("signed"), text(pre, "pre:hi", "+")] });
  const own = names.filter((v) => scaleOf(v) === "real");
  if (own.length) {  // "±own max: x 1 · c(t−1) 12.4 · c 12.6": a name each after the first, so a long list wraps
    const list = own.map((v, i) => text(bound(maxima[v.name] ?? 1), `real:${v.name}`, `${i ? "· " : ""}${shortName(v)} `));
    items.push({ range: "real", parts: [swatchOf("signed"), text(tr("±own max:")), list[0]] });
    items.push(...list.slice(1).map((part) => ({ range: "real", parts: [part] })));
  }
  // rows: items left to right, a new row when the next one would not fit
  const key = { font, rowH: font * 1.6, pad: font * 0.35, gap: GAP * em, em, items };
  let x = 0, row = 0;
  for (const item of items) {
    const w = item.parts.reduce((sum, p) => sum + p.reserve + key.pad, 0);
    if (x > 0 && x + w > width) { row += 1; x = 0; }
    item.row = row;
    x += w + key.gap;
  }
  key.height = items.length ? (row + 1) * key.rowH : 0;
  return place(key);
}

/** Each part's x and y from the texts it holds now: items one after another along their rows. */
export function place(key) {
  let x = 0, row = -1;
  for (const item of key.items) {
    if (item.row !== row) { row = item.row; x = 0; }
    for (const p of item.parts) {
      Object.assign(p, { x, y: row * key.rowH + key.rowH / 2, width: p.swatch ? p.reserve : chars(p.text) * key.em });
      x += p.width + key.pad;
    }
    x += key.gap;
  }
  return key;
}
