// Every gate and state over the sequence: one heatmap per name (units x time), stacked, sharing one time axis
// drawn on top, with unit ticks and a colour bar per scale. One cursor line (cursor.js) crosses them all at the
// current step; a click on a column, or the arrow keys on the focused maps, ask the page to go there ("seek").
// Time zooms and pans (drag across a span, the buttons, + and −) in the window the lines share (time-window.js);
// a run longer than the plot has pixels for opens on a window around the current step that follows it, and a
// zoomed-out view draws each cell as the mean of a block of steps (or units), which the line above the maps says.
// Every axis lets its labels overflow (ticklabeloverflow "allow": the margins hold them), which spares Plotly
// measuring each label on every redraw: two thirds of a redraw of nine maps, and a typed step redraws them.

import { HEATMAP, palette, sizes } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { createCursor, createRowMark } from "gatescope/views/cursor.js";
import { blockSizes, colorbars, columnOf, defaultNames, figure, hoverFor, margins, sample, scalesOf, stepAxis, tokenStepPx, unitTicks } from "gatescope/views/heatmap-figure.js";
import { afterPaint, asked, moved, same, sharedWindow, stepsShown } from "gatescope/views/time-window.js";
import { View } from "gatescope/views/view.js";

const REDRAW_MS = 150;

/** The line above the maps: which steps are shown, and what one cell is. */
function describe(range, T, kx, ky) {
  const blocks = [kx > 1 ? tr("{n} steps", { n: kx }) : "", ky > 1 ? tr("{n} units", { n: ky }) : ""].filter(Boolean).join(" × ");
  return `${stepsShown(range, T)}${blocks ? ` · ${tr("{blocks} per cell (mean)", { blocks })}` : ""}`;
}

/** The caption and the zoom buttons, above the chart. */
function toolbar(wrap, act) {
  const bar = document.createElement("div");
  bar.className = "chart-caption heatmap-tools";
  const text = document.createElement("span");
  text.className = "heatmap-range";
  bar.append(text);
  for (const [name, label, title] of [["left", "◀", tr("earlier steps")], ["right", "▶", tr("later steps")], ["out", "−", tr("zoom out (−)")],
    ["in", "+", tr("zoom in (+)")], ["all", tr("all"), tr("the whole run (0)")]]) {
    const b = document.createElement("button");
    Object.assign(b, { type: "button", textContent: label, title });
    b.dataset.zoom = name;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", () => act(name));
    bar.append(b);
  }
  wrap.before(bar);
  return text;
}

export class Heatmaps extends View {
  static id = "heatmaps";
  static plotly = true;
  static panel = { name: "heatmaps", label: tr("heatmaps") };

  /** cursor: false for a snapshot with no current step (the trainer's probe). */
  constructor(el, bus, { cursor = true } = {}) {
    super(el, bus);
    Object.assign(this, { names: [], built: false, t: 0, drawn: null, columns: [] });
    this.win = sharedWindow(bus);
    this.win.join(this);
    this.line = cursor ? createCursor(el) : null;
    if (!el.parentElement?.classList.contains("cursor-wrap")) {  // the probe has no cursor: wrap it all the same
      const wrap = document.createElement("div");
      el.replaceWith(wrap);
      wrap.append(el);
    }
    this.caption = toolbar(el.parentElement, (name) => this.act(name));
    this.row = cursor ? createRowMark(el) : null;  // the unit pointed at or pinned in any view
    if (bus) this.keys();
  }

  /** The maps as a slider of the current step: arrows (Shift: 10), Home, End, Page keys; + − 0 zoom. */
  keys() {
    const el = this.el;
    el.tabIndex = 0;
    el.setAttribute("role", "slider");
    el.setAttribute("aria-label", tr("heatmaps: the current step (arrow keys move it, + and − zoom)"));
    el.addEventListener("focus", () => { if (el.matches(":focus-visible")) Object.assign(el.style, { outline: `3px solid ${palette(this.options.palette).highlight}`, outlineOffset: "2px" }); });
    el.addEventListener("blur", () => { el.style.outline = ""; });
    el.addEventListener("keydown", (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey || !this.trace?.steps) return;
      const T = this.trace.steps, range = this.win.range, page = Math.max(1, Math.round(range ? range[1] - range[0] : 10));
      const to = { ArrowRight: this.t + (e.shiftKey ? 10 : 1), ArrowLeft: this.t - (e.shiftKey ? 10 : 1), Home: 0, End: T - 1,
        PageDown: this.t + page, PageUp: this.t - page }[e.key];
      const zoom = { "+": "in", "=": "in", "-": "out", "0": "all" }[e.key];
      if (to === undefined && !zoom) return;
      e.preventDefault();
      e.stopPropagation();  // the player's own keys (on the document) would step a second time
      if (zoom) this.act(zoom);
      else this.bus.emit("seek", Math.max(0, Math.min(T - 1, to)));
    });
  }

  /** options.names: which names to stack (the default names of the kind otherwise). */
  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    const glossary = kindInfo.glossary;
    this.glossary = Object.fromEntries(glossary.names.map((n) => [n.name, n]));
    this.names = (options.names ?? defaultNames(glossary)).filter((n) => this.glossary[n]);
    Object.assign(this, { columns: [], drawn: null, maxes: {}, sampled: null });
    this.win.open(options.window);
    this.later ??= afterPaint(() => this.drawFitted(), REDRAW_MS);
    const widest = Math.max(2, ...(header?.fields ?? []).filter((f) => this.names.includes(f.name)).map((f) => f.width));
    const { data, layout } = figure(this.glossary, this.names, options, this.fitHeight(options), String(widest - 1).length);
    Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true, doubleClick: "autosize", showTips: false });
    this.el.on("plotly_click", (e) => { if (e.points?.length) this.bus?.emit("seek", Math.round(e.points[0].x)); });
    this.el.on("plotly_relayout", (e) => this.zoomed(e));
    // a cell under the pointer is a unit of a name: every view lights it up (the page's "point")
    this.el.on("plotly_hover", (e) => { const p = e.points?.[0]; if (p) this.bus?.emit("point", { name: this.names[p.curveNumber], unit: Math.round(p.y) }); });
    this.el.on("plotly_unhover", () => this.bus?.emit("point", null));
    this.built = true;
    if (!this.line) return;
    this.line.color = palette(options.palette).highlight;
    this.line.place();
  }

  /**
   * The figure's height, fixed while playing: the maps fill the panel's bounded height (its own, when its size
   * is contained, or its max-height) so that it does not scroll and the step axis on top stays in view; each
   * map gets between HEATMAP's least and twice its row height. An unbounded panel (the compare page) gets the row height.
   */
  fitHeight(options) {
    const n = Math.max(1, this.names.length), m = margins(options);
    const most = n * (options.presenter ? HEATMAP.presenterRowHeight : HEATMAP.rowHeight) + m.t + m.b;
    const least = n * (options.presenter ? HEATMAP.presenterMinRow : HEATMAP.minRow) + m.t + m.b;
    const panel = this.el.closest(".panel");
    if (!panel) return most;
    const style = getComputedStyle(panel);
    const bound = /size|strict/.test(style.contain) ? panel.clientHeight : parseFloat(style.maxHeight);
    if (!(bound > 0)) return most;
    const above = this.el.parentElement.getBoundingClientRect().top - panel.getBoundingClientRect().top;
    const below = parseFloat(style.paddingBottom) + parseFloat(style.borderBottomWidth) + 4;
    return Math.round(Math.max(least, Math.min(2 * most, bound - Math.max(0, above) - below)));
  }

  /** A unit pointed at or pinned (in any view): its row outlined in its name's map. */
  highlight(sel) {
    const i = sel?.unit === undefined ? -1 : this.names.indexOf(sel.name);
    if (!this.row) return;
    if (i < 0 || !this.trace?.has(sel.name) || sel.unit >= this.trace.width(sel.name)) return this.row.hide();
    this.row.color = palette(this.options.palette).highlight;
    this.row.show(i === 0 ? "yaxis" : `yaxis${i + 1}`, sel.unit);
  }

  /** Redraw every heatmap from the trace (after new steps arrive). */
  update(trace) {
    super.update(trace);
    if (!this.built || !trace.steps) return;
    const height = this.fitHeight(this.options);  // the panel's height may have settled since the build
    if (Math.abs(height - this.el._fullLayout.height) > 4) Plotly.relayout(this.el, { height });
    this.columns = this.names.map((n) => columnOf(trace, n));
    this.sampled = null;  // new steps, new scales: the next draw samples anew
    this.scales = scalesOf(trace, this.glossary, this.names, this.options.palette, this.maxes);
    this.win.fit(this, this.fits());
    this.win.steps(trace.steps);
    // The first steps are drawn at once; after that, steps that keep coming (a long run streaming, a student typing)
    // are drawn together once the newest is painted, and no more than a quarter of the time (time-window.js afterPaint),
    // so that a typed character's step is on the diagram at once and the next key does not wait for these maps.
    if (this.drawn) this.later.soon();
    else this.later.now();
  }

  /** draw(); the colour bars it drew may have taken a margin that changes how many steps fit (the window then moves). */
  drawFitted() {
    if (!this.built || !this.trace?.steps || !this.win.range) return;
    this.draw();
    if (this.win.fit(this, this.fits())) this.win.moveTo(this.win.range);
  }

  /** How many steps the maps show at a readable size: text by characters where its characters can be read. */
  fits() {
    if (!this.el.getClientRects().length || !this.trace?.steps) return 0;  // not shown: the lines alone set the window
    const T = this.trace.steps, perStep = Math.max(HEATMAP.minStepPx, tokenStepPx(this.trace.tokens.slice(0, T), sizes(this.options.presenter).small));
    return Math.floor(((this.el._fullLayout?._size?.w ?? 400) - perStep) / perStep);  // a window of w holds w + 1 steps
  }

  /** The shared window was moved by a zoom (here or in the lines), or opens anew: drawn at once. */
  windowMoved() {
    if (this.built && this.trace?.steps && this.win.range && !same(this.drawn, this.win.range)) this.draw();
  }

  /**
   * Sample every map for the visible range and draw it, with its ticks, colour bars and the caption. One window more
   * is sampled ahead: the window pages forward into it (playback, the ▶ button) with a relayout of the step axis
   * alone (about 30 ms), not a redraw of every map and colour bar (130 to 200 ms at 256 units: a frame that long every
   * page while playing).
   */
  draw() {
    const T = this.trace.steps, range = this.win.range, [lo, hi] = range, size = this.el._fullLayout._size, options = this.options;
    const fontPx = sizes(options.presenter).small, mapH = size.h / Math.max(1, this.names.length);
    const a = Math.max(0, Math.floor(lo + 0.5)), b = Math.min(T, Math.ceil(hi + 0.5)), ahead = Math.min(T, 2 * b - a);
    const key = this.blocks(a, b, size.w, mapH);
    if (this.sampled && this.sampled.T === T && this.sampled.key === key && a >= this.sampled.a && b <= this.sampled.b) return this.pan(range, fontPx);
    const bars = colorbars(this.scales, this.el.layout, options, size.h);
    const data = { z: [], x0: [], dx: [], y0: [], dy: [], zmin: [], zmax: [], showscale: [], colorbar: [], hovertemplate: [] };
    const layout = { "xaxis.range": [lo, hi], ...prefixed("xaxis", stepAxis(this.trace.tokens, lo, hi, size.w, fontPx)) };
    let block = { kx: 1, ky: 1 };
    this.names.forEach((name, i) => {
      const column = this.columns[i], width = Math.max(1, this.trace.width(name));
      const { kx, ky } = blockSizes(b - a, width, size.w, mapH * 0.9);
      const from = Math.floor(a / kx) * kx;  // blocks on multiples of kx: panning keeps each block's steps
      const push = { z: column ? sample(column, width, from, ahead, kx, ky) : [[]], x0: from + (kx - 1) / 2, dx: kx, y0: (ky - 1) / 2, dy: ky, zmin: this.scales[i].cmin,
        zmax: this.scales[i].cmax, showscale: bars[i].showscale, colorbar: bars[i].colorbar, hovertemplate: hoverFor(kx, ky) };
      for (const k in data) data[k].push(push[k]);
      Object.assign(layout, prefixed(i === 0 ? "yaxis" : `yaxis${i + 1}`, unitTicks(width, mapH, fontPx)));
      block = { kx: Math.max(block.kx, kx), ky: Math.max(block.ky, ky) };
    });
    this.drawn = range.slice();
    this.sampled = { T, key, a, b: ahead, block };
    Plotly.update(this.el, data, layout, this.names.map((_, i) => i));
    this.caption.textContent = this.caption.title = describe(range, T, block.kx, block.ky);
    this.el.setAttribute("aria-valuemax", String(T - 1));
  }

  /** Each map's block size for steps a..b (what its sampled cells are means of), as one string to compare. */
  blocks(a, b, plotW, mapH) {
    return this.names.map((name) => Object.values(blockSizes(b - a, Math.max(1, this.trace.width(name)), plotW, mapH * 0.9)).join("x")).join(" ");
  }

  /** The window moved within the steps sampled, its blocks unchanged: only the step axis is drawn anew. */
  pan(range, fontPx) {
    const [lo, hi] = range, { T, block } = this.sampled;
    this.drawn = range.slice();
    Plotly.relayout(this.el, { "xaxis.range": [lo, hi], ...prefixed("xaxis", stepAxis(this.trace.tokens, lo, hi, this.el._fullLayout._size.w, fontPx)) });
    this.caption.textContent = this.caption.title = describe(range, T, block.kx, block.ky);
  }

  /** A zoom or pan asked of the chart itself (a drag across a span; a double click: the whole run). */
  zoomed(e) {
    if ("xaxis.tickmode" in e) return;  // our own draw (every draw sets the step axis), however late its event comes
    const T = this.trace?.steps, range = T ? asked(e, T) : null;
    if (range) this.win.zoom(range);
  }

  /** A button or key: pan by half the span, zoom by two about the current step (if shown), or the whole run. */
  act(name) {
    if (this.trace?.steps && this.win.range) this.win.zoom(moved(this.win.range, name, this.t, this.trace.steps));
  }

  show(t, phase, playing) {
    this.t = t;
    this.el.setAttribute("aria-valuenow", String(t));
    this.el.setAttribute("aria-valuetext", `t = ${t}`);
    this.win.show(t);
    if (this.built && this.drawn && !same(this.drawn, this.win.range)) {
      if (!playing && t === this.trace.steps - 1) this.later.soon();  // typing at the end moves it every key: drawn with the steps
      else this.draw();
    }
    this.line?.move(t);  // also kept for a figure built later
  }
}

/** {a: 1} under "xaxis" -> {"xaxis.a": 1}: one Plotly.update for every axis. */
function prefixed(axis, settings) {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [`${axis}.${k}`, v]));
}
