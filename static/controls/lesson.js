// The lesson panel of /lesson/<name>: the stop's title and text, its "try this", "4 / 9", back and next, and the keys.
// A stop is a view state (lessons/*.json): opening one is one view.update() through the page (main.js go()), so the
// views draw it as they draw any change; the URL holds ?stop=N and what the student changed from the stop's own view.
// Keys, in a lesson: → and PageDown next stop, ← and PageUp back (a presentation clicker sends PageDown / PageUp, some
// send → ←); Shift+→ / Shift+← step time, as the player's buttons do; ↑ ↓, space, ., Home and End stay the player's.
// The text is the lesson's data, set as text: *emphasis* and $math$ (KaTeX) are the only markup it has.

import "gatescope/vendor/katex/katex.min.js";  // a UMD bundle: as a module it defines globalThis.katex
import { parse } from "gatescope/core/state.js";
import { tr } from "gatescope/core/i18n.js";

const KEPT = ["lang", "presenter", "palette"];  // the reader's, not the stop's: they stay as the stops change
const NEXT = new Set(["PageDown", "ArrowRight"]), BACK = new Set(["PageUp", "ArrowLeft"]);

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Plain text with *emphasis* and $math$, as nodes: the math set by KaTeX (which escapes what it sets), the rest as text. */
export function rich(text) {
  return text.split("$").flatMap((part, i) => {
    if (i % 2) {
      const span = element("span", "lesson-math");
      if (globalThis.katex) span.innerHTML = globalThis.katex.renderToString(part, { throwOnError: false, output: "htmlAndMathml" });
      else span.textContent = part;
      return [span];
    }
    return part.split("*").map((words, j) => (j % 2 ? element("em", "", words) : document.createTextNode(words)));
  });
}

/** The lesson's shortcuts, in the page's dialog (it lists the player's keys for the main page). */
function shortcuts() {
  const dl = document.querySelector("#shortcuts dl");
  if (!dl) return;
  const rows = [
    [["→", "PageDown"], tr("next stop of the lesson")], [["←", "PageUp"], tr("previous stop of the lesson")],
    [["🖱"], tr("a presentation clicker sends PageDown / PageUp (some send → ←): it moves the stops")],
    [["Shift+→", "Shift+←"], tr("next / previous step of time")], [["↓", "↑"], tr("next / previous phase of the step")], [["Space"], tr("play / pause")],
    [["."], tr("play one step, phase by phase, then stop")], [["b", "."], tr("a clicker's blank-screen button sends b or .: b does nothing here, . plays one step")],
    [["Home", "End"], tr("first / last step")], [["Escape"], tr("close a menu or this list")], [["?"], tr("this list")],
  ];
  dl.replaceChildren(...rows.flatMap(([keys, key]) => {
    const dt = element("dt");
    dt.append(...keys.flatMap((k, i) => [...(i ? [document.createTextNode(" ")] : []), element("kbd", "", k)]));
    return [dt, element("dd", "", key)];
  }));
}

/** The panel's elements, made once: the stops change their words, not their shape. */
function panel(el, n, onDot) {
  const parts = {
    all: element("a", "lesson-all"), title: element("span", "lesson-title"), progress: element("span", "lesson-progress"),
    dots: element("span", "lesson-dots"), lang: element("a", "lesson-lang"), heading: element("h2", "lesson-stop-title"),
    text: element("p", "lesson-text"), tryBox: element("div", "lesson-try"), tryLabel: element("strong"), tryText: element("p"),
    back: element("button", "lesson-back"), next: element("button", "lesson-next primary"),
  };
  parts.back.type = parts.next.type = "button";
  parts.back.dataset.control = "lesson-back";
  parts.next.dataset.control = "lesson-next";
  parts.back.title = "← / PageUp";
  parts.next.title = "→ / PageDown";
  parts.dots.setAttribute("aria-hidden", "true");
  parts.tryBox.append(parts.tryLabel, parts.tryText);
  // in the diagram's side column: which lesson, then back · 4 / 10 · next and the stops as dots, then the stop itself
  const head = element("div", "lesson-head"), nav = element("nav", "lesson-nav");
  head.append(parts.all, parts.title, parts.lang);
  nav.append(parts.back, parts.progress, parts.next);
  el.replaceChildren(head, nav, parts.dots, parts.heading, parts.text, parts.tryBox);
  for (let i = 0; i < n; i++) {
    const dot = element("button", "lesson-dot");
    dot.type = "button";
    dot.tabIndex = -1;
    dot.addEventListener("click", () => onDot(i));
    parts.dots.append(dot);
  }
  return parts;
}

/** One stop's words in the panel, in lang. */
function render(parts, lesson, index, lang) {
  const s = lesson.stops[index], n = lesson.stops.length;
  document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
  document.title = `${lesson.title[lang]} · ${index + 1} / ${n} · gatescope`;
  parts.all.textContent = `← ${tr("All lessons")}`;
  parts.all.href = `/lesson${lang === "zh" ? "?lang=zh" : ""}`;
  parts.title.textContent = lesson.title[lang];
  parts.progress.textContent = `${index + 1} / ${n}`;
  parts.progress.setAttribute("aria-label", tr("Stop {i} of {n}", { i: index + 1, n }));
  [...parts.dots.children].forEach((d, i) => { d.classList.toggle("on", i === index); d.title = lesson.stops[i].title[lang]; });
  parts.lang.textContent = lang === "zh" ? "English" : "中文";  // the other language, named in itself
  parts.lang.title = lang === "zh" ? tr("Read this lesson in English") : tr("Read this lesson in Chinese");
  parts.lang.href = `?stop=${index + 1}${lang === "zh" ? "" : "&lang=zh"}`;
  parts.heading.replaceChildren(...rich(s.title[lang]));
  parts.text.replaceChildren(...rich(s.text[lang]));
  parts.tryBox.hidden = !s.try_this;
  parts.tryLabel.textContent = tr("Try this");
  if (s.try_this) parts.tryText.replaceChildren(...rich(s.try_this[lang]));
  parts.back.textContent = `← ${tr("Back")}`;
  parts.next.textContent = `${tr("Next")} →`;
  parts.back.disabled = index === 0;
  parts.next.disabled = index === n - 1;
  document.body.dataset.stop = String(index + 1);
  shortcuts();
}

/** What a key does in a lesson: "next", "back", +1 / -1 (a step of time), or null (the player's, or typing). */
export function keyAction(e) {
  if (e.target.closest?.("input, textarea, select, [contenteditable], dialog[open]") || e.altKey || e.ctrlKey || e.metaKey) return null;
  if (e.shiftKey) return e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : null;
  if (e.target.closest?.(".tokens") && e.key.startsWith("Arrow")) return null;  // the token strip's own arrows
  return NEXT.has(e.key) ? "next" : BACK.has(e.key) ? "back" : null;
}

/**
 * lesson: the lesson's data (config.lesson), stop: the stop the URL opens (from 1), fields: the view state's table;
 * go(state): open a view state; step(delta): move time by delta steps.
 */
export function createLesson(el, { lesson, stop, fields, go, step }) {
  const defaults = Object.fromEntries(fields.map((f) => [f.name, f.default]));
  const n = lesson.stops.length;
  let index = Math.min(Math.max(1, stop), n) - 1, lang = "en", getState = () => null;
  const own = (i) => ({ ...defaults, ...lesson.stops[i].view });  // the stop's view state, as the lesson writes it
  const show = () => render(parts, lesson, index, lang);  // the diagram outlines the stop's highlight itself (views/diagram.js)
  const open = (i) => {
    if (i < 0 || i >= n) return;
    index = i;
    const current = getState();
    show();
    go({ ...own(i), ...(current ? Object.fromEntries(KEPT.map((k) => [k, current[k]])) : {}) });
  };
  const parts = panel(el, n, open);

  return {
    /** The state the page opens with: the stop's, changed by what the URL says besides ?stop=. */
    initial(search) {
      const params = new URLSearchParams(search);
      const given = parse(params, fields);
      const state = own(index);
      for (const f of fields) if (params.has(f.name)) state[f.name] = given[f.name];
      lang = state.lang === "zh" ? "zh" : "en";
      show();
      return state;
    },
    /** The URL's query for a state: the stop, and every field that differs from the stop's own view. */
    query(state) {
      const params = new URLSearchParams({ stop: String(index + 1) });
      const base = own(index);
      for (const f of fields) {
        const v = state[f.name];
        if (v !== base[f.name] && v !== null && v !== undefined) params.set(f.name, String(v));
      }
      return params.toString();
    },
    /** Wire the buttons and keys; state(): the page's view state now (the reader's lang, presenter, palette are kept). */
    wire(state) {
      getState = state;
      parts.back.addEventListener("click", () => open(index - 1));
      parts.next.addEventListener("click", () => open(index + 1));
      // capture, before the player's keys: in a lesson ← → move stops; Shift with them moves time one step
      window.addEventListener("keydown", (e) => {
        const act = keyAction(e);
        if (act === null) return;
        e.preventDefault();
        e.stopPropagation();
        if (act === "next") open(index + 1);
        else if (act === "back") open(index - 1);
        else step(act);
      }, true);
    },
    get index() { return index; },
  };
}

/** /lesson's "load your own": the file goes to POST /api/lessons, and the page opens it, or says what is wrong. */
export function wireUpload(input, say) {
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    say("");
    try {
      const r = await fetch("/api/lessons", { method: "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "application/json" } });
      const body = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
      if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
      location.href = `${body.url}${location.search}`;
    } catch (err) {
      say(`${file.name}: ${err.message}`);
      input.value = "";
    }
  });
}

const uploadBox = document.querySelector('[data-control="lesson-upload"]');  // only on /lesson, which loads this module alone
if (uploadBox) {
  const said = document.querySelector('[data-control="lesson-upload-message"]');
  wireUpload(uploadBox, (text) => { said.textContent = text; said.hidden = !text; });
}
