// Playback: the current step and phase, play and pause, stepping, the scrub slider and the keyboard.
// While playing, each animation frame works out the (step, phase) the clock has reached and asks the views
// to show it only when it changed; the frame times are kept for the page benchmark (bench/bench_page.py).

export function createPlayer({ el, steps, phaseNames, onShow }) {
  const $ = (id) => el.querySelector(`[data-control="${id}"]`);
  let t = 0, phase = null, playing = false, speed = 2, phasesOn = true, raf = 0, clock = 0, last = 0;
  const frames = [];

  function phases() {
    const names = phaseNames().filter((p) => p !== "inputs");
    return phasesOn && names.length ? names : [null];
  }

  function set(nextT, nextPhase = null, source = "user") {
    const T = steps();
    if (!T) return;
    t = Math.max(0, Math.min(T - 1, nextT));
    phase = nextPhase;
    const slider = $("scrub");
    slider.max = String(T - 1);
    slider.value = String(t);
    $("step").textContent = `step ${t + 1} / ${T}`;
    onShow(t, phase, source);
  }

  function tick(now) {
    if (!playing) return;
    frames.push(now);
    if (frames.length > 4000) frames.splice(0, 2000);
    const dt = last ? (now - last) / 1000 : 0;
    last = now;
    const ps = phases();
    clock += dt * speed * ps.length;                 // in phase units
    const T = steps();
    const total = Math.floor(clock);
    const nextT = Math.floor(total / ps.length), nextPhase = ps[total % ps.length];
    if (nextT >= T) {
      pause();
      set(T - 1, null);
      return;
    }
    if (nextT !== t || nextPhase !== phase) set(nextT, nextPhase, "play");
    raf = requestAnimationFrame(tick);
  }

  function play() {
    if (playing || !steps()) return;
    if (t >= steps() - 1) set(0, phases()[0], "play");  // from the end, start over (and show it at once)
    playing = true;
    clock = t * phases().length;
    last = 0;
    $("play").textContent = "⏸";
    $("play").setAttribute("aria-label", "pause");
    raf = requestAnimationFrame(tick);
  }

  function pause() {
    playing = false;
    cancelAnimationFrame(raf);
    $("play").textContent = "▶";
    $("play").setAttribute("aria-label", "play");
    onShow(t, phase, "pause");
  }

  /** The next or previous phase of the current step (or the neighbouring step's first or last phase). */
  function stepPhase(dir) {
    const ps = phases();
    let i = ps.indexOf(phase) + dir, nt = t;
    if (phase === null) i = dir > 0 ? 0 : ps.length - 1;
    if (i >= ps.length) { i = 0; nt++; }
    if (i < 0) { i = ps.length - 1; nt--; }
    if (nt < 0 || nt >= steps()) return;
    set(nt, ps[i]);
  }

  $("play").addEventListener("click", () => (playing ? pause() : play()));
  $("prev").addEventListener("click", () => { pause(); set(t - 1); });
  $("next").addEventListener("click", () => { pause(); set(t + 1); });
  $("first").addEventListener("click", () => { pause(); set(0); });
  $("last").addEventListener("click", () => { pause(); set(steps() - 1); });
  $("scrub").addEventListener("input", (e) => { pause(); set(Number(e.target.value)); });
  $("speed").addEventListener("change", (e) => { speed = Number(e.target.value); onShow(t, phase, "speed"); });
  $("phases").addEventListener("change", (e) => { phasesOn = e.target.checked; set(t, null, "phases"); });

  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select, [contenteditable]") || e.altKey || e.ctrlKey || e.metaKey) return;
    const keys = {
      ArrowRight: () => { pause(); set(t + (e.shiftKey ? 10 : 1)); },
      ArrowLeft: () => { pause(); set(t - (e.shiftKey ? 10 : 1)); },
      ArrowDown: () => { pause(); stepPhase(1); },
      ArrowUp: () => { pause(); stepPhase(-1); },
      " ": () => (playing ? pause() : play()),
      Home: () => { pause(); set(0); },
      End: () => { pause(); set(steps() - 1); },
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });

  return {
    set, play, pause, stepPhase, frames,
    configure({ speed: s, phases: p }) {
      speed = s;
      phasesOn = p;
      $("speed").value = String(s);
      $("phases").checked = p;
    },
    get t() { return t; }, get phase() { return phase; }, get playing() { return playing; },
    get speed() { return speed; }, get phasesOn() { return phasesOn; },
  };
}
