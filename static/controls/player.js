// Playback: the current step and phase, play and pause, stepping, the scrub slider and the keyboard.
// While playing, each animation frame works out the (step, phase, progress) the clock has reached: the views are
// asked to show a step and phase only when it changed, and the flow animation (onMove) gets every frame. With
// phases on, the clock runs at the lecture's pace (seconds a phase), whatever the speed of plain stepping is.
// The frame times are kept for the page benchmark (bench/bench_page.py).

import { tr } from "gatescope/core/i18n.js";
import { writeText } from "gatescope/core/write.js";

export const PACE = { slow: 2.0, normal: 1.0, fast: 0.5 };  // seconds a phase: an LSTM step is 5 phases

class Player {
  constructor({ el, steps, phaseNames, onShow, onMove }) {
    this.$ = (id) => el.querySelector(`[data-control="${id}"]`);
    Object.assign(this, { steps, phaseNames, onShow, onMove, t: 0, phase: null, playing: false, speed: 2, pace: "normal", phasesOn: true,
      raf: 0, clock: 0, last: 0, until: null });
    this.frames = [];
    this.tick = this.tick.bind(this);
  }

  /** The phases a step is played in, numbered from 1 in the page: the kind's, or one "all at once". */
  phases() {
    const names = this.phaseNames();
    return this.phasesOn && names.length ? names : [null];
  }

  /** Clock units a second: phases at the lecture's pace, or steps (as phases of one) at the stepping speed. */
  rate() {
    return this.phasesOn && this.phases()[0] !== null ? 1 / (PACE[this.pace] ?? PACE.normal) : this.speed;
  }

  set(nextT, nextPhase = null, source = "user") {
    const T = this.steps();
    if (!T) return;
    this.t = Math.max(0, Math.min(T - 1, nextT));
    this.phase = nextPhase;
    const slider = this.$("scrub");
    if (slider.max !== String(T - 1)) slider.max = String(T - 1);  // unchanged while playing: no attribute written
    slider.value = String(this.t);
    // one numbering everywhere: t counts from 0, as in the equations (h(t), x(t)); T is how many steps there are
    writeText(this.$("step"), tr("t = {t} · {n} steps", { t: this.t, n: T }));
    this.onShow(this.t, this.phase, source);
  }

  tick(now) {
    if (!this.playing) return;
    this.frames.push(now);
    if (this.frames.length > 4000) this.frames.splice(0, 2000);
    const dt = this.last ? (now - this.last) / 1000 : 0;
    this.last = now;
    const ps = this.phases();
    this.clock += dt * this.rate();  // in phase units (a step is one phase when phases are off)
    const T = this.steps();
    if (this.until !== null && this.clock >= this.until) return this.stopAt(this.until);
    const total = Math.floor(this.clock);
    const nextT = Math.floor(total / ps.length), nextPhase = ps[total % ps.length];
    if (nextT >= T) {
      this.pause();
      this.set(T - 1, null);
      return;
    }
    if (nextT !== this.t || nextPhase !== this.phase) this.set(nextT, nextPhase, "play");
    if (nextPhase !== null) this.onMove?.(this.t, this.phase, this.clock - total);
    this.raf = requestAnimationFrame(this.tick);
  }

  /** "Play one step": the end of the step it plays is reached; it stops there, its last phase complete. */
  stopAt(until) {
    const ps = this.phases(), t = Math.max(0, Math.ceil(until / ps.length) - 1);
    this.until = null;
    this.pause();
    this.set(t, ps[ps.length - 1], "play-step");
  }

  /** Play one step phase by phase, then stop: the rest of this one, or the next when this one is complete. A step
   *  shown whole is played from its first phase (to see how it came about). */
  playStep() {
    if (!this.steps()) return;
    const ps = this.phases();
    let t = this.t, i = this.phase === null ? 0 : ps.indexOf(this.phase);
    if (this.phase !== null && i === ps.length - 1) { t += 1; i = 0; }
    if (ps[0] === null && this.phase === null) t += 1;  // phases off: one plain step on
    if (t >= this.steps()) return;
    this.pause();
    this.set(t, ps[i], "play");
    this.until = (t + 1) * ps.length;
    this.play(t * ps.length + i);
  }

  play(from = null) {
    if (this.playing || !this.steps()) return;
    if (from === null && this.t >= this.steps() - 1) this.set(0, this.phases()[0], "play");  // from the end, start over (and show it at once)
    this.playing = true;
    const ps = this.phases(), i = Math.max(0, ps.indexOf(this.phase));
    this.clock = from ?? this.t * ps.length + (this.phase === null ? 0 : i);
    this.last = 0;
    this.$("play").classList.add("playing");  // its pause icon (both are SVG: a font may lack ⏸)
    this.$("play").setAttribute("aria-label", tr("pause"));
    this.raf = requestAnimationFrame(this.tick);
  }

  /** Stop playing; the step it stopped at is shown again as a paused one (views skip work while playing). Not playing,
   *  nothing changes: the arrow keys pause before they step, and one step is shown once, not twice. */
  pause() {
    const was = this.playing;
    this.playing = false;
    this.until = null;
    cancelAnimationFrame(this.raf);
    this.$("play").classList.remove("playing");
    this.$("play").setAttribute("aria-label", tr("play"));
    if (was) this.onShow(this.t, this.phase, "pause");
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** The next or previous phase of the current step (or the neighbouring step's first or last phase). */
  stepPhase(dir) {
    const ps = this.phases();
    let i = ps.indexOf(this.phase) + dir, nt = this.t;
    if (this.phase === null) i = dir > 0 ? 0 : ps.length - 1;
    if (i >= ps.length) { i = 0; nt++; }
    if (i < 0) { i = ps.length - 1; nt--; }
    if (nt < 0 || nt >= this.steps()) return;
    this.set(nt, ps[i]);
  }

  configure({ speed, phases, pace = "normal" }) {
    Object.assign(this, { speed, phasesOn: phases, pace });
    this.$("speed").value = String(speed);
    this.$("phases").checked = phases;
    if (this.$("pace")) this.$("pace").value = pace;
  }
}

/** The buttons, the slider, the speed and phases inputs, and the keys (outside text inputs). */
function wire(p) {
  const $ = p.$, paused = (fn) => () => { p.pause(); fn(); };
  const shortcuts = () => { const d = document.getElementById("shortcuts"); if (d && !d.open) d.showModal(); };
  $("shortcuts-open")?.addEventListener("click", shortcuts);
  $("play").addEventListener("click", () => p.toggle());
  $("prev").addEventListener("click", paused(() => p.set(p.t - 1)));
  $("next").addEventListener("click", paused(() => p.set(p.t + 1)));
  $("first").addEventListener("click", paused(() => p.set(0)));
  $("last").addEventListener("click", paused(() => p.set(p.steps() - 1)));
  $("scrub").addEventListener("input", (e) => { p.pause(); p.set(Number(e.target.value)); });
  $("speed").addEventListener("change", (e) => { p.speed = Number(e.target.value); p.onShow(p.t, p.phase, "speed"); });
  $("phases").addEventListener("change", (e) => { p.phasesOn = e.target.checked; p.set(p.t, null, "phases"); });
  $("pace")?.addEventListener("change", (e) => { p.pace = e.target.value; p.onShow(p.t, p.phase, "pace"); });
  $("play-step")?.addEventListener("click", () => p.playStep());
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select, [contenteditable], dialog[open]") || e.altKey || e.ctrlKey || e.metaKey) return;
    const jump = e.shiftKey ? 10 : 1;
    const keys = {
      ArrowRight: paused(() => p.set(p.t + jump)),
      ArrowLeft: paused(() => p.set(p.t - jump)),
      ArrowDown: paused(() => p.stepPhase(1)),
      ArrowUp: paused(() => p.stepPhase(-1)),
      " ": () => p.toggle(),
      ".": () => p.playStep(),
      Home: paused(() => p.set(0)),
      End: paused(() => p.set(p.steps() - 1)),
      "?": () => shortcuts(),
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });
}

export function createPlayer(options) {
  const player = new Player(options);
  wire(player);
  return player;
}
