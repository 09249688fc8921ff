// The input tokens as a strip: the current one marked, optionally colored by one unit of the vector the
// lines follow (the state's color_unit); a click on a token asks the page to go there.

import { colorAt, isDark, scaleFor } from "../core/colors.js";
import { INK } from "../core/config.js";
import { showToken } from "../core/text.js";
import { focusName } from "./lines.js";
import { View } from "./view.js";

const WINDOW = 200;  // tokens drawn around the current step, for long inputs

function ellipsis(n) {
  const s = document.createElement("span");
  s.className = "token more";
  s.textContent = `… ${n} more`;
  return s;
}

export class Tokens extends View {
  static id = "tokens";
  static panel = { name: "tokens", label: "tokens" };

  constructor(el, bus) {
    super(el, bus);
    Object.assign(this, { start: -1, end: -1, total: -1, spans: [], lastT: -1, colored: "", ranges: {} });
    el.addEventListener("click", (e) => {
      const t = e.target.closest("[data-t]");
      if (t) bus.emit("seek", Number(t.dataset.t));
    });
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
      s.title = `step ${i}`;
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
    if (t === last && spans[t - start]?.classList.contains("current")) return;
    spans[last - start]?.classList.remove("current");
    spans[last - start]?.removeAttribute("aria-current");
    const s = spans[t - start];
    s?.classList.add("current");
    s?.setAttribute("aria-current", "step");
    if (s && this.el.classList.contains("long")) this.el.scrollLeft = s.offsetLeft - this.el.clientWidth / 2;
    this.lastT = t;
  }
}
