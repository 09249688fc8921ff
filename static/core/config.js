// Colors, sizes and fonts: every view reads them from here.

export const PALETTES = {
  // classic: the article's warm/cool look. Sequential for gates in [0, 1], diverging for values in [-1, 1].
  classic: {
    unit: [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]],
    signed: [[0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1, "#2166ac"]],
    layer: "#ffe08a", op: "#f8bbd0", line: "#4a4a4a", state: "#222222", highlight: "#e8590c",
    series: ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"],
  },
  // colorblind: cividis and a blue-orange diverging scale read the same under the common deficiencies.
  colorblind: {
    unit: [[0, "#00224e"], [0.25, "#414d6b"], [0.5, "#7c7b78"], [0.75, "#bcaf6f"], [1, "#fee838"]],
    signed: [[0, "#b35806"], [0.25, "#f1a340"], [0.5, "#f7f7f7"], [0.75, "#998ec3"], [1, "#542788"]],
    layer: "#f0e442", op: "#cc79a7", line: "#3a3a3a", state: "#000000", highlight: "#d55e00",
    series: ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"],
  },
  // mono: more ink is more, on both scales: a gate from white (0) to black (1); a signed value from light
  // (-1) through mid grey (0) to black (+1), so -1 and +1 differ (they were both black). The grey is where
  // the contrast to either end is equal (about 4.1:1, above WCAG's 3:1 for graphics).
  mono: {
    unit: [[0, "#ffffff"], [1, "#111111"]],
    signed: [[0, "#f4f4f4"], [0.5, "#767676"], [1, "#111111"]],
    layer: "#e6e6e6", op: "#cfcfcf", line: "#333333", state: "#000000", highlight: "#000000",
    series: ["#000000", "#555555", "#888888", "#bbbbbb", "#222222", "#666666", "#999999", "#cccccc"],
  },
};

const SIZES = {
  normal: { font: 13, small: 11, title: 15, line: 1.6, stateLine: 3.2, cell: 11 },
  presenter: { font: 20, small: 16, title: 24, line: 3, stateLine: 5.5, cell: 16 },
};

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

/** The ink that stays the same under every palette: outlines, symbols, labels, the background. */
export const INK = {
  paper: "white",
  layerEdge: "#8a6d00", layerText: "#3a2f00",  // a learned layer's box and its symbol
  opEdge: "#9c2759", opText: "#4a0d2a",        // a pointwise operation's circle and its symbol
  cellEdge: "rgba(60,60,60,0.35)",             // the outline of a strip's cells
  label: "#222", labelBg: "rgba(255,255,255,0.92)",
  pointEdge: "#333", guide: "#bbb",            // saturation's markers and its diagonal
  onDark: "#fff", onLight: "#111",             // text on a colored token
  missing: "rgb(200,200,200)",                 // a value that is not a number
};

/** A chart's paper and plot area. */
export const BACKGROUND = { paper_bgcolor: INK.paper, plot_bgcolor: INK.paper };

export const FONT_FAMILY = '"DejaVu Sans", "Helvetica Neue", Arial, sans-serif';

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
