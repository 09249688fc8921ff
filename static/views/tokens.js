// The input tokens as a strip: the current one marked, optionally colored by one unit of the vector the
// lines follow (the state's color_unit); a click on a token, or Enter on it, asks the page to go there.
// From the keyboard the strip is one tab stop (the current token: a roving tabindex); the arrow keys, Home
// and End move along it and the page follows.
// A step costs no layout of its own: the window of drawn tokens moves by pages (a step inside it adds or removes no
// span; a page keeps the spans still in it), and the strip is scrolled to the current token in the next frame, whose
// layout is done by then (reading offsetLeft right after writing the classes laid the whole page out again, every step).

import { colorAt, isDark, scaleFor } from "gatescope/core/colors.js";
import { INK } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { showToken } from "gatescope/core/text.js";
import { focusName } from "gatescope/views/lines.js";
import { View } from "gatescope/views/view.js";

const WINDOW = 200;  // tokens drawn around the current step, for long inputs
const PAGE = WINDOW / 2;  // the window moves by pages: a step within it changes no spans (core/write.js says why that counts)

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
    this.start = this.end = this.total = -1;  // another run may have as many steps: its tokens are drawn anew
  }

  /** Draw the tokens around step t; colors are redone only when they change. */
  show(t) {
    const trace = this.trace, options = this.options;
    if (!trace?.steps) return;
    const name = options.color_unit !== null && options.color_unit !== undefined ? focusName(trace, options) : null;
    const color = name ? { name, unit: Math.min(options.color_unit, trace.width(name) - 1), range: this.ranges[name] ?? "signed", palette: options.palette } : null;
    const T = trace.steps;
    const from = Math.max(0, Math.min(PAGE * Math.floor((t - WINDOW / 4) / PAGE), T - WINDOW)), to = Math.min(T, from + WINDOW);  // t at least WINDOW / 4 in
    if (from !== this.start || to !== this.end || T !== this.total) this.lay(from, to, T);
    const key = color ? `${color.name}|${color.unit}|${color.palette}|${color.range}|${from}|${to}|${T}` : "";
    if (key !== this.colored) {
      this.colored = key;
      this.paint(color);
    }
    this.mark(t);
  }

  /** The spans of tokens from..to of T, with an ellipsis for what is left out on either side. The spans of the last
   *  window that are still in it are kept (a step moves the window by one: one span goes, one comes). */
  lay(from, to, T) {
    const el = this.el, old = this.spans, s0 = this.start;
    const overlap = s0 >= 0 && from < this.end && to > s0;
    const lo = overlap ? Math.max(from, s0) : to, hi = overlap ? Math.min(to, this.end) : to;  // the steps kept: lo..hi
    if (!overlap) el.replaceChildren();
    else {
      old.forEach((s, i) => { if (s0 + i < lo || s0 + i >= hi) s.remove(); });
      el.querySelectorAll(":scope > .more").forEach((m) => m.remove());
    }
    const kept = overlap ? old.slice(lo - s0, hi - s0) : [];
    const head = this.made(from, lo), tail = this.made(hi, to);
    if (kept.length) { kept[0].before(...head); kept.at(-1).after(...tail); }
    else el.append(...head, ...tail);
    if (from > 0) el.prepend(ellipsis(from));
    if (to < T) el.append(ellipsis(T - to));
    el.classList.toggle("long", to - from > 40);  // long inputs scroll on one line instead of filling the page
    Object.assign(this, { spans: [...head, ...kept, ...tail], start: from, end: to, total: T, colored: null, moved: true });  // mark() scrolls
  }

  /** New spans for the tokens of steps a..b. */
  made(a, b) {
    const tokens = this.trace.tokens, out = [];
    for (let i = a; i < b; i++) {
      const s = document.createElement("span");
      s.className = "token";
      s.dataset.t = String(i);
      s.textContent = showToken(tokens[i] ?? "");  // text, never markup
      s.title = `t = ${i}`;
      s.setAttribute("role", "option");
      s.setAttribute("aria-label", `t = ${i}: ${JSON.stringify(tokens[i] ?? "")}`);
      s.tabIndex = -1;
      out.push(s);
    }
    return out;
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
    if (t === last && !this.moved && spans[t - start]?.classList.contains("current")) return;
    this.moved = false;
    const was = spans[last - start];
    was?.classList.remove("current");
    was?.removeAttribute("aria-selected");
    if (was) was.tabIndex = -1;
    const s = spans[t - start] ?? spans[0];
    if (s) s.tabIndex = 0;  // the strip's one tab stop, even when the current step lies outside the drawn window
    s?.classList.toggle("current", s === spans[t - start]);
    if (s === spans[t - start]) s?.setAttribute("aria-selected", "true");
    if (refocus) s?.focus({ preventScroll: true });
    this.lastT = t;
    if (s && this.el.classList.contains("long")) this.scroll(s);
  }

  /** The strip scrolled to centre span s, in the next frame (before that frame's own work: its layout is clean). */
  scroll(s) {
    this.centred = s;
    this.frame ||= requestAnimationFrame(() => {
      this.frame = 0;
      if (this.centred.isConnected) this.el.scrollLeft = this.centred.offsetLeft - this.el.clientWidth / 2;
    });
  }
}
