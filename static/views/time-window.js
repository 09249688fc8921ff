// The span of steps a time chart shows (the heatmaps, the lines): all of a run while each step gets a few
// pixels, else a window around the current step that pages on as the step leaves it; zoomed and panned by the
// user. Ranges are [lo, hi] in steps, with half a step of margin at the ends ([-0.5, T - 0.5] is the whole run).

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
  return a <= 0 && b >= T - 1 ? `all ${thousands(T)} step${T === 1 ? "" : "s"}` : `steps ${thousands(a)}–${thousands(b)} of ${thousands(T)}`;
}
