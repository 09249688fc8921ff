// The input tokens as a strip: the current one marked, optionally colored by one unit's activation.

import { colorAt, isDark, scaleFor } from "../core/colors.js";
import { showToken } from "../core/text.js";

const WINDOW = 200;  // tokens drawn around the current step, for long inputs

export function createTokens(el, { onSeek } = {}) {
  let start = -1, end = -1, total = -1, spans = [], lastT = -1, colored = "";

  el.addEventListener("click", (e) => {
    const t = e.target.closest("[data-t]");
    if (t && onSeek) onSeek(Number(t.dataset.t));
  });

  /** Draw the tokens around step t; colors (by one unit of one name) are redone only when they change. */
  function render(store, t, color) {
    const T = store.steps;
    const from = Math.max(0, Math.min(t - WINDOW / 2, T - WINDOW)), to = Math.min(T, from + WINDOW);
    const key = color ? `${color.name}|${color.unit}|${color.palette}|${color.range}|${from}|${to}|${T}` : "";
    if (from !== start || to !== end || T !== total) {
      colored = null;
      total = T;
      el.replaceChildren();
      spans = [];
      if (from > 0) el.append(ellipsis(from));
      for (let i = from; i < to; i++) {
        const s = document.createElement("span");
        s.className = "token";
        s.dataset.t = String(i);
        s.textContent = showToken(store.tokens[i] ?? "");  // text, never markup
        s.title = `step ${i}`;
        spans.push(s);
        el.append(s);
      }
      if (to < T) el.append(ellipsis(T - to));
      el.classList.toggle("long", to - from > 40);  // long inputs scroll on one line instead of filling the page
      start = from;
      end = to;
    }
    if (key === colored) return mark(t);
    colored = key;
    if (color) {
      const { colorscale, cmin, cmax } = scaleFor(color.range, color.palette, color.range === "real" ? store.maxAbs(color.name) : 1);
      spans.forEach((s, k) => {
        const v = store.value(color.name, start + k)[color.unit];
        const c = colorAt(v, colorscale, cmin, cmax);
        s.style.background = c;
        s.style.color = isDark(c) ? "#fff" : "#111";
      });
    } else {
      spans.forEach((s) => { s.style.background = ""; s.style.color = ""; });
    }
    mark(t);
  }

  function mark(t) {
    if (t === lastT && spans[t - start]?.classList.contains("current")) return;
    spans[lastT - start]?.classList.remove("current");
    spans[lastT - start]?.removeAttribute("aria-current");
    const s = spans[t - start];
    s?.classList.add("current");
    s?.setAttribute("aria-current", "step");
    if (s && el.classList.contains("long")) el.scrollLeft = s.offsetLeft - el.clientWidth / 2;
    lastT = t;
  }

  function ellipsis(n) {
    const s = document.createElement("span");
    s.className = "token more";
    s.textContent = `… ${n} more`;
    return s;
  }

  return { render, mark, get range() { return [start, end]; } };
}
