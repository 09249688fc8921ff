// The span of steps a time chart shows (the heatmaps, the lines): all of a run while each step gets a few
// pixels, else a window around the current step that pages on as the step leaves it; zoomed and panned by the
// user. Ranges are [lo, hi] in steps, with half a step of margin at the ends ([-0.5, T - 0.5] is the whole run).

import { tr } from "gatescope/core/i18n.js";

export const MIN_SPAN = 4;  // the fewest steps a zoom shows

/** [lo, hi] moved inside the run's steps, no wider than it. */
export function clampRange([lo, hi], T) {
  const w = Math.max(MIN_SPAN, Math.min(hi - lo, T));
  const a = Math.max(-0.5, Math.min(lo, T - 0.5 - w));
  return [a, a + w];
}

/** The range a run opens on: all of it while a step gets minStepPx of plotW, else a window centred on step t. */
export function opening(T, t, plotW, minStepPx) {
  const fits = Math.floor(plotW / minStepPx);
  return T <= fits ? [-0.5, T - 0.5] : clampRange([t - fits / 2, t + fits / 2], T);
}

/** The range that shows step t: null if it already does; else a page on when t just left it, else centred on t. */
export function follow([lo, hi], t, T) {
  if (t >= lo + 0.5 && t <= hi - 0.5) return null;
  const w = hi - lo;
  return clampRange(t > hi && t <= hi + w / 2 ? [t - 0.1 * w, t + 0.9 * w] : [t - w / 2, t + w / 2], T);
}

/** A button or key's range: pan by half the span, zoom by two about step t (if shown), or the whole run. */
export function moved([lo, hi], name, t, T) {
  const w = hi - lo, centre = t >= lo && t <= hi ? t : (lo + hi) / 2;
  const next = {
    left: [lo - w / 2, hi - w / 2], right: [lo + w / 2, hi + w / 2],
    in: [centre - w / 4, centre + w / 4], out: [centre - w, centre + w], all: [-0.5, T - 0.5],
  }[name];
  return next[1] - next[0] >= T ? [-0.5, T - 0.5] : clampRange(next, T);
}

/** The range a chart's own zoom (a drag across it, a double click) asks for, from its plotly_relayout event. */
export function asked(e, T) {
  if (e["xaxis.autorange"]) return [-0.5, T - 0.5];
  const lo = e["xaxis.range[0]"] ?? e["xaxis.range"]?.[0], hi = e["xaxis.range[1]"] ?? e["xaxis.range"]?.[1];
  return lo === undefined || hi === undefined ? null : clampRange([lo, hi], T);
}

/** Whether a range is the whole run. */
export function isWhole([lo, hi], T) {
  return lo <= -0.5 + 1e-9 && hi >= T - 0.5 - 1e-9;
}

const thousands = (n) => n.toLocaleString("en-US");

/** Which steps a range shows, in words: "all 19 steps", "steps 800–999 of 2,000". */
export function stepsShown([lo, hi], T) {
  const a = Math.max(0, Math.ceil(lo)), b = Math.min(T - 1, Math.floor(hi));
  if (a <= 0 && b >= T - 1) return T === 1 ? tr("all {n} step", { n: thousands(T) }) : tr("all {n} steps", { n: thousands(T) });
  return tr("steps {a}–{b} of {n}", { a: thousands(a), b: thousands(b), n: thousands(T) });
}

/** The steps a URL's window names ("120-220": steps 120 to 220, both shown) as a range; null for none or one that does not read. */
export function fromQuery(text) {
  const m = /^(\d+)-(\d+)$/.exec(text ?? "");
  return m && Number(m[1]) <= Number(m[2]) ? [Number(m[1]) - 0.5, Number(m[2]) + 0.5] : null;
}

/** A range as the URL writes it: the steps it shows, "120-220". */
export function toQuery([lo, hi], T) {
  return `${Math.max(0, Math.ceil(lo))}-${Math.min(T - 1, Math.floor(hi))}`;
}

/** Whether two ranges are the same (null is the same as null only). */
export function same(a, b) {
  return a === b || (Boolean(a && b) && Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[1]) < 1e-6);
}

const WINDOWS = new WeakMap();

/** The time window a bus's charts share (one per page); a chart with no bus (the trainer's probe) gets its own. */
export function sharedWindow(bus) {
  if (!bus) return new TimeWindow(null);
  if (!WINDOWS.has(bus)) WINDOWS.set(bus, new TimeWindow(bus));
  return WINDOWS.get(bus);
}

/**
 * The one time window of a page's time charts (the heatmaps and the lines; on /compare, every column's maps):
 * zooming or panning one moves them all, and a long run opens on the same window in each, the span that the
 * most crowded of them can show. A chart draws `range` and redraws when it is told the window moved
 * (windowMoved()); the user's own window is the view state's `window` ("120-220"), written back as it changes.
 */
export class TimeWindow {
  constructor(bus) {
    Object.assign(this, { bus, charts: new Set(), fits: new Map(), want: null, auto: true, range: null, T: 0, t: 0, written: null });
  }

  join(chart) { this.charts.add(chart); }

  /** A run's picture is built: open on the view state's window (query: "120-220"), or on the run's opening. */
  open(query) {
    const want = fromQuery(query);
    Object.assign(this, { want, auto: !want, range: null, written: query ?? null });
  }

  /** The run has T steps: the range is its opening while no window is asked for, else the asked one inside the run. */
  steps(T) {
    this.T = T;
    this.range = T ? (this.auto ? this.opening() : clampRange(this.want, T)) : null;
    return this.range;
  }

  /** All of the run while every chart shown has a few pixels a step for it, else a window centred on the step. */
  opening() {
    for (const chart of this.fits.keys()) if (!chart.el.isConnected) this.fits.delete(chart);
    const fits = Math.min(Infinity, ...this.fits.values()), T = this.T;
    return T <= fits ? [-0.5, T - 0.5] : clampRange([this.t - fits / 2, this.t + fits / 2], T);
  }

  /** A chart can show `steps` steps at a readable size (0: it is not shown). Returns whether that moved the opening
   *  window; the caller then tells every chart (moveTo), or draws the steps it is about to draw in it. */
  fit(chart, steps) {
    if (steps === (this.fits.get(chart) ?? 0)) return false;
    if (steps > 0) this.fits.set(chart, steps);
    else this.fits.delete(chart);
    if (!this.auto || !this.T) return false;
    const before = this.range;
    this.range = this.opening();
    return !same(before, this.range);
  }

  /** Step t is shown: the window follows it (see follow()); returns whether it moved. */
  show(t) {
    this.t = t;
    const next = this.range ? follow(this.range, t, this.T) : null;
    if (!next) return false;
    this.range = next;
    if (!this.auto) this.keep(next);
    return true;
  }

  /** What the user asked of a chart (a drag, a button, a key): the window every chart shows, kept in the view state. */
  zoom(range) {
    if (!this.T || same(range, this.range)) return;
    const whole = isWhole(range, this.T), opening = this.opening();
    const lo = Math.round(range[0] + 0.5) - 0.5, steps = whole ? [-0.5, Infinity] : [lo, lo + Math.max(1, Math.round(range[1] - range[0]))];  // whole steps, as the URL says
    this.auto = same(clampRange(steps, this.T), opening);  // back to where the run opened: nothing to keep
    if (!this.auto) this.keep(steps);
    else this.write(null);
    this.moveTo(clampRange(steps, this.T));
  }

  keep(range) {
    this.want = range;
    this.write(toQuery(clampRange(range, this.T), this.T));
  }

  /** The window in the view state (the URL): the page only writes it down, it redraws nothing. */
  write(query) {
    if (query === this.written) return;
    this.written = query;
    this.bus?.emit("change", { window: query });
  }

  moveTo(range) {
    this.range = range;
    for (const chart of this.charts) {
      if (chart.el.isConnected) chart.windowMoved();
      else this.charts.delete(chart);
    }
  }
}

/**
 * How a time chart redraws a run that keeps growing (a student typing, a long run streaming): fn never before the step
 * just added is painted, and at most a quarter of the time. soon() runs it once two frames have begun after the call
 * (the first paints the diagram with the new step; the second is the one a user or a benchmark sees it in), and no
 * sooner than ms, or three times what the last run took, after that run ended: nine maps at 2,000 steps take 70 to
 * 100 ms, and redrawn every 150 ms they would keep a typist's keys waiting. now() runs it at once.
 */
export function afterPaint(fn, ms) {
  let last = -Infinity, cost = 0, timer = 0, frame = 0;
  const run = () => {
    timer = frame = 0;
    const start = performance.now();
    fn();
    last = performance.now();
    cost = last - start;
  };
  const frames = (n) => { frame = requestAnimationFrame(() => (n > 1 ? frames(n - 1) : (frame = 0, timer = setTimeout(run, 0)))); };
  return {
    now() {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      run();
    },
    soon() {
      if (timer || frame) return;
      const wait = last + Math.max(ms, 3 * cost) - performance.now();
      if (wait > 0) timer = setTimeout(() => frames(2), wait);
      else frames(2);
    },
  };
}
