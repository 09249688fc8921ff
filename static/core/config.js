// Colors, sizes and fonts: every view reads them from here.

import LOOK from "gatescope/core/look.js";  // palettes, sizes and ink: shared with the server's first drawing (app/first_paint.py)

export const PALETTES = LOOK.palettes;
const SIZES = LOOK.sizes;
export const INK = LOOK.ink;
export const FONT_FAMILY = LOOK.font;

export const DIAGRAM = {
  maxUnits: 24,      // units drawn per strip; more are summarized in the hover and the heatmaps
  stripWidth: 1.7,   // diagram units a strip spans
  boxWidth: 1.1, boxHeight: 0.62, opRadius: 0.3,
};

// rowHeight: a map's height at most (the only one where the panel's height is not bounded: the compare page, the trainer's probe);
// minRow: the least a map gets when the maps are fitted to the panel; minStepPx: below this many pixels a
// step, the heatmaps show a window of the run around the current step rather than all of it.
export const HEATMAP = { maxNames: 16, rowHeight: 64, presenterRowHeight: 88, minRow: 34, presenterMinRow: 46, minStepPx: 4 };

// minStepPx: below this many pixels a step, the lines show a window of the run around the current step.
export const LINES = { minStepPx: 3 };

/** A chart's paper and plot area. */
export const BACKGROUND = { paper_bgcolor: INK.paper, plot_bgcolor: INK.paper };

/** The least whole number of the form 1, 2 or 5 times a power of ten that is at least raw (1 at the least). */
export function niceStep(raw) {
  const r = Math.max(1, raw);
  const pow = 10 ** Math.floor(Math.log10(r));
  return Math.max(1, Math.round([1, 2, 5, 10].map((m) => m * pow).find((d) => d >= r - 1e-9)));
}

/** Axis settings that put ticks on whole steps only (about eight of them). */
export function stepTicks(T) {
  return { tick0: 0, dtick: niceStep(T / 8), tickformat: "d" };
}

export function sizes(presenter) {
  return presenter ? SIZES.presenter : SIZES.normal;
}

export function palette(name) {
  return PALETTES[name] || PALETTES.classic;
}
