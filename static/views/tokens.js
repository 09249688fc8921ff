// The input tokens as a strip: the current one marked, optionally colored by one unit of the vector the
// lines follow (the state's color_unit); a click on a token, or Enter on it, asks the page to go there.
// From the keyboard the strip is one tab stop (the current token: a roving tabindex); the arrow keys, Home
// and End move along it and the page follows.

import { colorAt, isDark, scaleFor } from "../core/colors.js";
import { INK } from "../core/config.js";
import { tr } from "../core/i18n.js";
import { showToken } from "../core/text.js";
import { focusName } from "./lines.js";
import { View } from "./view.js";

const WINDOW = 200;  // tokens drawn around the current step, for long inputs

function ellipsis(n) {
  const s = document.createElement("span");
  s.className = "token more";
  s.textContent = tr("… {n} more", { n });
  return s;
}

export class Tokens extends View {
  static id = "tokens";
  static panel = { name: "tokens", label: tr("tokens") };

  constructor(el, bus) {
    super(el, bus);
    Object.assign(this, { start: -1, end: -1, total: -1, spans: [], lastT: -1, colored: "", ranges: {} });
    el.setAttribute("role", "listbox");
    el.setAttribute("aria-label", tr("input tokens, one per step"));
    el.setAttribute("aria-orientation", "horizontal");
    el.addEventListener("click", (e) => {
      const t = e.target.closest("[data-t]");
      if (t) bus.emit("seek", Number(t.dataset.t));
    });
    el.addEventListener("keydown", (e) => this.key(e));
  }

  /** Keys on a focused token: it is the strip's, not the page's (the player's keys on document do not see it). */
  key(e) {
    const span = e.target.closest("[data-t]");
    if (!span || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = Number(span.dataset.t), last = (this.trace?.steps ?? 1) - 1, jump = e.shiftKey ? 10 : 1;
    const to = { ArrowRight: t + jump, ArrowLeft: t - jump, Home: 0, End: last, Enter: t, " ": t }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    this.focusing = true;  // the token of the step the page goes to takes the focus (mark)
    this.bus.emit("seek", Math.max(0, Math.min(last, to)));
  }

  /** options.color_unit: which unit colors the tokens (null: none). */
  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.ranges = Object.fromEntries((kindInfo?.glossary.names ?? []).map((n) => [n.name, n.range]));
  }

  /** Draw the tokens around step t; colors are redone only when they change. */
  show(t) {
    const trace = this.trace, options = this.options;
    if (!trace?.steps) return;
    const name = options.color_unit !== null && options.color_unit !== undefined ? focusName(trace, options) : null;
    const color = name ? { name, unit: Math.min(options.color_unit, trace.width(name) - 1), range: this.ranges[name] ?? "signed", palette: options.palette } : null;
    const T = trace.steps;
    const from = Math.max(0, Math.min(t - WINDOW / 2, T - WINDOW)), to = Math.min(T, from + WINDOW);
    if (from !== this.start || to !== this.end || T !== this.total) this.lay(from, to, T);
    const key = color ? `${color.name}|${color.unit}|${color.palette}|${color.range}|${from}|${to}|${T}` : "";
    if (key !== this.colored) {
      this.colored = key;
      this.paint(color);
    }
    this.mark(t);
  }

  /** The spans of tokens from..to of T, with an ellipsis for what is left out on either side. */
  lay(from, to, T) {
    const el = this.el, tokens = this.trace.tokens;
    this.colored = null;
    this.total = T;
    el.replaceChildren();
    this.spans = [];
    if (from > 0) el.append(ellipsis(from));
    for (let i = from; i < to; i++) {
      const s = document.createElement("span");
      s.className = "token";
      s.dataset.t = String(i);
      s.textContent = showToken(tokens[i] ?? "");  // text, never markup
      s.title = `t = ${i}`;
      s.setAttribute("role", "option");
      s.setAttribute("aria-label", `t = ${i}: ${JSON.stringify(tokens[i] ?? "")}`);
      s.tabIndex = -1;
      this.spans.push(s);
      el.append(s);
    }
    if (to < T) el.append(ellipsis(T - to));
    el.classList.toggle("long", to - from > 40);  // long inputs scroll on one line instead of filling the page
    this.start = from;
    this.end = to;
  }

  paint(color) {
    const trace = this.trace;
    if (!color) {
      this.spans.forEach((s) => { s.style.background = ""; s.style.color = ""; });
      return;
    }
    const { colorscale, cmin, cmax } = scaleFor(color.range, color.palette, color.range === "real" ? trace.maxAbs(color.name) : 1);
    this.spans.forEach((s, k) => {
      const c = colorAt(trace.value(color.name, this.start + k)[color.unit], colorscale, cmin, cmax);
      s.style.background = c;
      s.style.color = isDark(c) ? INK.onDark : INK.onLight;
    });
  }

  mark(t) {
    const spans = this.spans, start = this.start, last = this.lastT;
    const refocus = this.focusing || this.el.contains(document.activeElement);
    this.focusing = false;
    if (t === last && spans[t - start]?.classList.contains("current")) return;
    const was = spans[last - start];
    was?.classList.remove("current");
    was?.removeAttribute("aria-selected");
    if (was) was.tabIndex = -1;
    const s = spans[t - start] ?? spans[0];
    if (s) s.tabIndex = 0;  // the strip's one tab stop, even when the current step lies outside the drawn window
    s?.classList.toggle("current", s === spans[t - start]);
    if (s === spans[t - start]) s?.setAttribute("aria-selected", "true");
    if (refocus) s?.focus({ preventScroll: true });
    if (s && this.el.classList.contains("long")) this.el.scrollLeft = s.offsetLeft - this.el.clientWidth / 2;
    this.lastT = t;
  }
}
