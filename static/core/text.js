// Text a user typed is only ever shown as text.

import { tr } from "gatescope/core/i18n.js";

// Quotes as numeric entities: Plotly decodes those, but of the named ones only &amp; &lt; &gt; &nbsp;,
// so "&quot;" would show as typed on a tick, a legend or a hover.
const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

/** For strings handed to Plotly, which reads a few HTML tags in labels and hovers. */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const NUMERIC = /^[\s\d.,;+\-eE[\]]*\d[\s\d.,;+\-eE[\]]*$/u;  // a step of numbers ("-0.26", "[0.09, -1]"), not a word

/** A token as it should appear on screen: spaces and newlines made visible, a step of numbers with minus signs
 *  ("−0.26": the input box keeps what was typed). A character a text model reads, "-" included, is shown as it is. */
export function showToken(tok) {
  if (tok === " ") return "␣";
  if (tok === "\n") return "⏎";
  if (tok === "\t") return "⇥";
  return typeof tok === "string" && NUMERIC.test(tok) ? minusSigns(tok) : tok;
}

export const MINUS = "\u2212";  // the minus sign of typeset math; "-" is a hyphen, shorter and set lower

/** A number in a short, fixed form, as text to read: "−0.639" with a minus sign, as the equations write it
 *  (machine-readable places, CSV and data-* attributes, keep JavaScript's own "-0.639"). */
export function num(v, digits = 3) {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : `${MINUS}∞`;
  const s = v.toFixed(digits);
  if (s === `-${(0).toFixed(digits)}`) return (0).toFixed(digits);  // −0.00004 reads as 0.000, not −0.000
  return s.startsWith("-") ? MINUS + s.slice(1) : s;
}

/** Prose with its negative numbers given a minus sign ("r = -0.45" -> "r = −0.45"): a hyphen before a digit that
 *  starts a number, not one inside a word or a range (adding-lstm, 2-3 stay). */
export function minusSigns(text) {
  return String(text).replace(/(^|[^\w.\-])-(?=\.?\d)/gu, `$1${MINUS}`);
}

/** The server's error detail as one line: its message, or each validation error as "where: what". */
export function errorText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc ?? []).join(".")}: ${d.msg}`).join("; ");
  return detail === undefined || detail === null ? tr("the server gave no reason") : JSON.stringify(detail);
}

/** What the loader could not read off the weights and assumed, as a sentence ("" when nothing was). */
export function assumedText(assumed) {
  const parts = Object.entries(assumed ?? {}).map(([k, v]) => `${k} = ${v}`);
  return parts.length ? tr(" Assumed {what}.", { what: parts.join("; ") }) : "";
}
