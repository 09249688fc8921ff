// The chain over time (views/chain-figure.js lays it out): a module per step around the current one, each holding
// its step's real numbers, c and h handed on from module to module, the current step's module outlined. It is drawn
// once per run, width and number of modules; a step writes only colours (and the numbers into data-value, which the
// tests read), and the hand-over between steps moves a few groups by a transform: the chain slides by one module, then
// the state squares slide from module t−1 into module t. With phases on, that is the first phase's opening, as in
// the diagram, and module t fills in phase by phase (views/flow.js); a frame is then a function of (t, phase, progress).

import { colorAt, scaleFor } from "gatescope/core/colors.js";
import { INK, palette } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { showToken } from "gatescope/core/text.js";
import { chosenUnits } from "gatescope/views/diagram.js";
import { drawnUnits } from "gatescope/views/diagram-figure.js";
import { along, ease, flowFrame, flowPlan } from "gatescope/views/flow.js";
import { MAX_UNITS, chainLayout, chainPlan, fitting, textWidth, tokenPlace, windowStart } from "gatescope/views/chain-figure.js";
import { drawChain } from "gatescope/views/chain-svg.js";
import { View } from "gatescope/views/view.js";

const SLIDE = 0.4;                        // of a hand-over: the chain's slide by one module; the rest, the squares' way
const DURATION = 450;                     // ms of a hand-over when stepping by hand (playing, at most 0.75 of a step)

export class Chain extends View {
  static id = "chain";
  static panel = { name: "chain", label: tr("chain over time") };  // the View menu's words are the page's (core/i18n.js)

  constructor(el, bus) {
    super(el, bus);
    let pending = null;
    const resized = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {  // a new width is a new figure; a panel shown again is painted at the step it missed
        if (this.info && this.key() !== this.drawnKey) this.draw();
        else if (this.missed && this.L && this.shown) this.show(this.shown[0], this.shown[1], false);
      }, 80);
    };
    if (typeof ResizeObserver === "function") new ResizeObserver(resized).observe(el);
    window.addEventListener("resize", resized);  // the page's fit() gives the hero chain its room (data-room) and says so
    el.addEventListener("click", (e) => {
      const slot = e.target.closest?.(".chain-module");
      if (slot?.dataset.step) bus.emit("seek", Number(slot.dataset.step));
    });
    el.addEventListener("pointerover", (e) => {
      const cell = e.target.closest?.(".chain-cell");
      bus.emit("point", cell ? { name: cell.parentNode.dataset.name, unit: Number(cell.dataset.unit) } : null);
    });
    el.addEventListener("pointerleave", () => bus.emit("point", null));
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.plan = chainPlan(kindInfo);
    this.flow = flowPlan(kindInfo);
    this.ranges = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n.range]));
    this.drawnKey = null;
    this.L = null;
    if (this.trace?.steps) this.draw();
  }

  /** Each name's colour scale: unbounded ones on their largest magnitude so far; a state handed on, on its source's. */
  update(trace) {
    super.update(trace);
    if (!this.plan || !trace.steps) return;
    const source = Object.fromEntries(this.plan.carried.map((c) => [c.name, c.from]));
    this.scales = {};
    for (const name of this.names()) {
      const of = source[name] ?? name, range = this.ranges[of] ?? "signed";
      this.scales[name] = scaleFor(range, this.options.palette, range === "real" && trace.has(of) ? trace.maxAbs(of) : 1);
    }
    if (this.key() !== this.drawnKey) this.draw();
    else if (this.shown) this.show(this.shown[0], this.shown[1], false);
  }

  /** The names the chain draws that the run has. */
  names() {
    const p = this.plan;
    return [...p.carried.map((c) => c.name), ...p.layers.map((l) => l.name), p.h].filter((n) => n && this.trace?.has(n));
  }

  /** The units each name shows: the chosen ones when not all fit (the diagram's), at most MAX_UNITS. */
  unitsOf(name) {
    const width = this.trace.width(name), hidden = this.header.model.hidden_size;
    return drawnUnits(width, width === hidden ? chosenUnits(this.options, this.header) : []).units.slice(0, MAX_UNITS);
  }

  /** What the drawn figure depends on besides the kind and the options: the width, the hero's room (controls/panels.js
   *  fit), the run's length up to the most shown. */
  key() {
    return `${this.el.clientWidth}|${this.el.dataset.room ?? ""}|${Math.min(this.trace?.steps ?? 0, 7)}`;
  }

  draw() {
    const el = this.el, trace = this.trace;
    if (!this.plan || !trace?.steps || !el.clientWidth) return;
    const units = Object.fromEntries(this.names().map((n) => [n, this.unitsOf(n)]));
    const presenter = Boolean(this.options.presenter);
    this.L = chainLayout(this.plan, { width: el.clientWidth, presenter, steps: trace.steps,
      units: Math.max(1, ...Object.values(units).map((u) => u.length)), maxHeight: Math.max(150, innerHeight * (presenter ? 0.38 : 0.3)),
      room: Number(el.dataset.room) || 0 });
    this.units = units;
    this.drawnKey = this.key();
    this.drawnWidth = el.clientWidth;
    const before = el.firstElementChild?.getAttribute("height");
    Object.assign(this, drawChain(this.plan, this.L, this.options, units));
    el.replaceChildren(this.svg);
    el.dataset.modules = String(this.L.n);
    this.at = null;
    this.edgesShown = null;
    this.painted = new Map();
    this.lit = [];
    if (this.shown) this.show(this.shown[0], this.shown[1], false);
    if (this.selection) this.highlight(this.selection);
    // the page sizes the diagram to the room the panels above it leave: a new height of ours is a new size of the page
    if (before !== this.svg.getAttribute("height")) window.dispatchEvent(new Event("resize"));
  }

  /**
   * Show step t (phase: the active one, or null for the whole step). A step on from the one shown (or back) is handed
   * over: the chain slides so that t is in its place, and the state squares slide from module t−1 into module t; with
   * phases on and playing, the flow's frames carry that (move), otherwise it plays here, in at most 0.75 of a step.
   */
  show(t, phase, playing = false) {
    const trace = this.trace;
    this.missed = Boolean(this.el.parentElement?.hidden);  // a hidden panel is painted when it is shown again
    if (!this.L || !trace?.steps || this.missed) return;
    this.stop();
    const now = performance.now(), gap = now - (this.lastShow ?? -Infinity), prev = this.at;
    this.lastShow = now;
    this.shown = [t, phase, playing];
    const start = windowStart(t, this.L.n, trace.steps), moved = !prev || prev.t !== t;
    if (moved) this.hand = prev && Math.abs(t - prev.t) === 1 && Math.abs(start - prev.start) <= 1 ? { from: prev } : null;
    this.at = { t, start };
    this.place(start);
    const current = this.slots.find((slot) => slot.step === t);
    for (const [name, p] of Object.entries(this.packets)) {  // the state handed to t: its squares are what travels
      p.squares.forEach((sq, i) => sq.setAttribute("fill", current?.colors[`in:${name}`]?.[i] ?? INK.paper));
    }
    if (phase !== null && playing) return this.move(t, phase, 0);
    this.flowAt = phase === null ? null : flowFrame(this.flow, phase, 1);
    const duration = playing ? Math.min(DURATION, gap * 0.75) : DURATION;
    if (!moved || !this.hand || duration < 80) return this.frame(1);
    const begun = now;
    const tick = (time) => {
      const at = Math.min(1, (time - begun) / duration);
      this.frame(at);
      this.raf = at < 1 ? requestAnimationFrame(tick) : null;
    };
    this.frame(0);
    this.raf = requestAnimationFrame(tick);
  }

  /** A frame of the flow animation in the phase shown: the hand-over opens the first phase, then module t fills in. */
  move(t, phase, progress) {
    if (!this.L || !this.trace?.steps) return;
    if (!this.shown || this.shown[0] !== t) return this.show(t, phase, true);
    this.stop();
    this.flowAt = phase === null ? null : flowFrame(this.flow, phase, progress);
    const handing = this.flowAt?.handover ?? [];
    const first = phase === this.flow.order[0];
    this.frame(this.hand && first ? (handing.length ? Math.max(...handing.map((h) => h.at)) : progress) : 1);
  }

  stop() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = null;
  }

  /** The hand-over at (0 to 1): the chain's slide (and the outline's move), then the squares' way from t−1 to t. */
  frame(at) {
    const L = this.L, to = this.at, from = this.hand?.from ?? to;
    const slide = ease(Math.min(1, at / SLIDE)), way = ease(Math.max(0, (at - SLIDE) / (1 - SLIDE)));
    const x = (k) => L.x0 + k * L.pitch;
    this.track.setAttribute("transform", `translate(${((to.start - from.start) * L.pitch * (1 - slide)).toFixed(1)} 0)`);
    const fx = x(from.t - from.start) + (x(to.t - to.start) - x(from.t - from.start)) * slide;
    this.focus.g.setAttribute("transform", `translate(${fx.toFixed(1)} 0)`);
    const forward = this.hand && to.t === from.t + 1, offset = x(to.t - 1 - to.start);
    for (const [name, p] of Object.entries(this.packets)) {
      const moving = forward && way > 0 && way < 1;
      if (moving) {
        const [px, py] = along(this.paths[name], way);
        p.g.setAttribute("transform", `translate(${(px + offset).toFixed(1)} ${py.toFixed(1)})`);
      }
      if ((p.g.getAttribute("visibility") === "visible") !== moving) p.g.setAttribute("visibility", moving ? "visible" : "hidden");
    }
    this.landed = at >= 1;
    // the slots off the figure's edges, there to slide in, show their tokens only while sliding (else a sliver shows)
    const sliding = slide < 1 && to.start !== from.start;
    if (this.edgesShown !== sliding) {
      this.edgesShown = sliding;
      for (const slot of this.slots) {
        if (slot.k >= 0 && slot.k < L.n) continue;
        for (const el of [slot.token, slot.word, slot.stepText]) el.setAttribute("visibility", sliding ? "inherit" : "hidden");
      }
    }
    this.paintNear();
    if (this.el.dataset.moving !== (at < 1 ? "1" : "0")) this.el.dataset.moving = at < 1 ? "1" : "0";
  }

  /** The slots given their steps from start on: visible or not, the token, the numbers of each vector and their colours. */
  place(start) {
    const trace = this.trace, T = trace.steps, L = this.L, { t } = this.at;
    const accent = palette(this.options.palette).highlight, line = palette(this.options.palette).line;
    for (const slot of this.slots) {
      const s = start + slot.k, shown = s >= 0 && s < T;
      slot.g.setAttribute("visibility", shown ? "visible" : "hidden");
      slot.g.dataset.shown = shown && slot.k >= 0 && slot.k < L.n ? "1" : "0";
      slot.g.dataset.current = s === t ? "1" : "0";
      slot.token.setAttribute("stroke", s === t ? accent : line);
      if (!shown) { slot.step = null; delete slot.g.dataset.step; continue; }
      if (slot.step === s && slot.scales === this.scales) continue;
      slot.step = s;
      slot.scales = this.scales;
      slot.g.dataset.step = String(s);
      this.stepped(slot, s);
    }
    const span = { from: start, to: Math.min(T, start + L.n) - 1, n: T };
    this.caption.textContent = fitting([tr("The same module at every step: steps {from}–{to} of {n} (click one to go there)", span),
      tr("Steps {from}–{to} of {n}", span)], L);
    this.caption.parentNode.setAttribute("aria-label", tr("the chain of modules over time, steps {from} to {to}", span));
    if (this.inputLabel) this.inputLabel.setAttribute("x", this.slots.find((s) => s.step === t)?.tokenLeft - 4 || 0);
    for (const { el, width } of this.carriedLabels) {  // the first module's, kept inside the figure's left edge
      el.setAttribute("x", (t === start ? Math.max(L.gap / 2, width / 2 + 2 - L.x0) : L.gap / 2).toFixed(1));
    }
  }

  /** A slot's new step: its token, its title, and each vector's numbers (data-value) and colours at that step. */
  stepped(slot, s) {
    const L = this.L, trace = this.trace, word = showToken(trace.tokens[s] ?? "");
    const { text, width, mid, left } = tokenPlace(word, L);
    slot.word.textContent = text;
    slot.word.setAttribute("x", mid.toFixed(1));
    slot.stepText.setAttribute("x", Math.max(mid, L.gap + textWidth(`t = ${s}`, L.fonts.small) / 2 + 1).toFixed(1));
    slot.token.setAttribute("x", left.toFixed(1));
    slot.token.setAttribute("width", width.toFixed(1));
    slot.tokenLeft = left;
    slot.stepText.textContent = `t = ${s}`;
    slot.title.textContent = tr("step {t}, input “{token}”: click to go there", { t: s, token: word });
    slot.colors = {};
    for (const [key, cells] of Object.entries(slot.cells)) {
      const name = key.slice(key.indexOf(":") + 1), values = trace.value(name, s), { colorscale, cmin, cmax } = this.scales[name];
      slot.colors[key] = cells.map((cell) => {
        const v = values[Number(cell.dataset.unit)];
        cell.dataset.value = v;
        return colorAt(v, colorscale, cmin, cmax);
      });
    }
    this.paintSlot(slot);
  }

  /** The slots of the current step and the next: what the flow (or the hand-over) has reached so far. */
  paintNear() {
    const { t } = this.at;
    for (const slot of this.slots) if (slot.step === t || slot.step === t + 1) this.paintSlot(slot);
  }

  /**
   * A slot's squares, coloured where reached: every step before the current one; in the current one, the state
   * handed to it, and each vector once the flow has computed it (all of them, paused on the whole step, once the
   * hand-over has landed); in the next one, the state handed over once the current step has made it; none later.
   */
  paintSlot(slot) {
    const { t } = this.at, s = slot.step, from = Object.fromEntries(this.plan.carried.map((c) => [c.name, c.from]));
    const made = (name) => (!this.landed ? 0 : this.flowAt ? this.flowAt.fill[name] ?? 1 : 1);
    for (const [key, cells] of Object.entries(slot.cells)) {
      const [role, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
      const reached = s < t ? 1 : s === t ? (role === "in" ? 1 : made(name)) : s === t + 1 && role === "in" ? Math.floor(made(from[name])) : 0;
      const count = Math.round(reached * cells.length), colors = slot.colors[key];
      cells.forEach((cell, i) => {
        const fill = i < count ? colors[i] : INK.paper;
        if (this.painted.get(cell) === fill) return;
        this.painted.set(cell, fill);
        cell.setAttribute("fill", fill);
        cell.dataset.reached = i < count ? "1" : "0";
      });
    }
  }

  /** Light up a selection: a unit's squares in every vector of its width outlined; a name's squares outlined. */
  highlight(sel) {
    this.selection = sel;
    for (const { node, stroke, width } of this.lit ?? []) { node.setAttribute("stroke", stroke); node.setAttribute("stroke-width", width); }
    this.lit = [];
    if (!sel || !this.L || !this.trace?.has(sel.name)) return;
    const accent = palette(this.options.palette).highlight, width = this.trace.width(sel.name);
    const light = (node, w) => {
      this.lit.push({ node, stroke: node.getAttribute("stroke"), width: node.getAttribute("stroke-width") });
      node.setAttribute("stroke", accent);
      node.setAttribute("stroke-width", w);
    };
    for (const group of this.el.querySelectorAll(".chain-strip")) {
      const name = group.dataset.name;
      if (sel.unit === undefined) { if (name === sel.name) light(group, 1.5); continue; }
      if (this.trace.width(name) !== width) continue;
      for (const cell of group.children) if (Number(cell.dataset.unit) === sel.unit) light(cell, 2);
    }
  }
}
