// The heatmaps' figure as data, with no Plotly call and no DOM: the stacked maps and their axes, a colour bar
// per scale in use, the unit and step ticks, and the sampling that keeps a long or wide run to about one
// cell per pixel (a 5,000 x 1,024 map has 5 million cells; the plot has a few hundred pixels each way).

import { scaleFor, scaleTicks } from "gatescope/core/colors.js";
import { BACKGROUND, FONT_FAMILY, HEATMAP, niceStep, sizes } from "gatescope/core/config.js";
import { local, tr } from "gatescope/core/i18n.js";
import { escapeHtml, showToken } from "gatescope/core/text.js";

const SHOWN_ROLES = ["gate", "candidate", "product", "state", "output"];

/** The names the heatmaps show by default: gates, candidate, products and states (not inputs, not pre-activations). */
export function defaultNames(glossary) {
  return glossary.names.filter((n) => SHOWN_ROLES.includes(n.role)).map((n) => n.name).slice(0, HEATMAP.maxNames);
}

/** The margins around the maps: unit ticks and symbols left, the step axis on top, the colour bars right. */
export function margins(options) {
  return options.presenter ? { l: 92, r: 78, t: 40, b: 12 } : { l: 66, r: 58, t: 30, b: 9 };  // b: half a colour bar's end label
}

/**
 * A name's values between steps a and b (b excluded) as block means of kx steps by ky units: what a cell of the
 * drawn map is when there are more steps or units than pixels (kx = ky = 1: the values themselves). column(t)
 * gives the name's vector at step t, so only the steps drawn are read.
 */
export function sample(column, units, a, b, kx, ky) {
  const nx = Math.max(0, Math.ceil((b - a) / kx)), ny = Math.ceil(units / ky);
  const z = Array.from({ length: ny }, () => new Float32Array(nx));
  for (let i = 0; i < nx; i++) {
    const t0 = a + i * kx, t1 = Math.min(b, t0 + kx);
    for (let t = t0; t < t1; t++) {
      const v = column(t);
      for (let u = 0; u < units; u++) z[(u / ky) | 0][i] += v[u];
    }
    if (kx === 1 && ky === 1) continue;
    for (let j = 0; j < ny; j++) z[j][i] /= (t1 - t0) * (Math.min(units, (j + 1) * ky) - j * ky);
  }
  return z;
}

/** column(t) of a name: the trace's own view of step t, or (a trace that only gives rows, the trainer's probe) a copy. */
export function columnOf(trace, name) {
  if (!trace.has(name)) return null;
  if (trace.value) return (t) => trace.value(name, t);
  const rows = trace.matrix(name);
  return (t) => rows.map((row) => row[t]);
}

/** How many steps and units one drawn cell takes so that the visible span has at most one cell per pixel. */
export function blockSizes(span, units, plotW, mapH) {
  return { kx: Math.max(1, Math.ceil(span / Math.max(1, plotW))), ky: Math.max(1, Math.ceil(units / Math.max(1, mapH))) };
}

/** Ticks for a map's units, far enough apart to read (every unit while they fit). */
export function unitTicks(width, mapH, fontPx) {
  const dtick = niceStep((width * fontPx * 1.5) / Math.max(1, mapH));
  return { tickmode: "linear", tick0: 0, dtick, range: [width - 0.5, -0.5] };  // unit 0 on top, as the diagram reads
}

/** The pixels one token's label takes on the step axis, with a little room either side. */
export function tokenPx(token, fontPx) {
  return Math.min(8, Math.max(1, [...token].length)) * fontPx * 0.62 + 3;  // level (tickangle 0), so no more room is needed
}

/** The pixels a step needs for the run's tokens to be read on the axis, if they are short (characters); else 0. */
export function tokenStepPx(tokens, fontPx) {
  const shown = tokens.map(showToken);
  return shown.length && shown.every((s) => [...s].length <= 2) ? Math.max(...shown.map((s) => tokenPx(s, fontPx))) : 0;
}

/**
 * The step axis over the visible span [lo, hi]: the tokens themselves while they fit side by side (as drawn, not
 * as escaped), else step numbers about every 70 px.
 */
export function stepAxis(tokens, lo, hi, plotW, fontPx) {
  const a = Math.max(0, Math.ceil(lo)), b = Math.min(tokens.length - 1, Math.floor(hi));
  const shown = [];
  for (let t = a; t <= b; t++) shown.push(showToken(tokens[t]));
  const widest = Math.max(0, ...shown.map((s) => tokenPx(s, fontPx)));
  if (shown.length && shown.length * widest <= plotW) {
    return { tickmode: "array", tickvals: shown.map((_, i) => a + i), ticktext: shown.map(escapeHtml), tickangle: 0 };
  }
  return { tickmode: "linear", tick0: 0, dtick: niceStep((hi - lo) / Math.max(1, plotW / 70)), tickvals: null, ticktext: null,
    tickformat: "d", tickangle: 0 };
}

/**
 * Each map's symbol: along its axis while it fits the map's height, else (short maps: presenter mode, many
 * names) written level to the left of the unit ticks, with the margin made wide enough for the longest.
 */
function symbols(glossary, names, mapH, fontPx, unitDigits) {
  const text = names.map((n) => glossary[n].symbol), px = (s) => [...s].length * fontPx * 0.62;
  if (text.every((s) => px(s) + 4 <= mapH)) return { margin: null, title: (i) => ({ text: escapeHtml(text[i]), font: { size: fontPx }, standoff: 2 }) };
  const ticks = unitDigits * (fontPx - 1) * 0.62 + 8;
  return { margin: Math.ceil(Math.max(...text.map(px)) + ticks + 10), ticks, title: () => ({ text: "" }) };
}

/** The empty figure: one heatmap and one y axis per name, the step axis on top of the first. unitDigits: of the widest. */
export function figure(glossary, names, options, height, unitDigits = 2) {
  const sz = sizes(options.presenter), margin = { ...margins(options) };
  const gapPx = options.presenter ? 14 : 10, plotH = height - margin.t - margin.b;
  const gap = names.length > 1 ? gapPx / plotH : 0, share = (1 + gap) / names.length;
  const label = symbols(glossary, names, plotH * (share - gap), sz.small, unitDigits);
  if (label.margin) margin.l = Math.max(margin.l, label.margin);
  const data = [], annotations = [], layout = {
    height, margin, font: { family: FONT_FAMILY, size: sz.small }, showlegend: false, hovermode: "closest", dragmode: "zoom",
    xaxis: { side: "top", anchor: "y", fixedrange: false, autorange: false, showgrid: false, zeroline: false, ticks: "outside",
      ticklen: 3, tickfont: { size: sz.small }, ticklabeloverflow: "allow" },
    annotations, ...BACKGROUND,
  };
  names.forEach((name, i) => {
    const v = glossary[name];
    const top = 1 - i * share, bottom = Math.max(0, top - share + gap);
    const axis = i === 0 ? "yaxis" : `yaxis${i + 1}`;
    layout[axis] = { domain: [bottom, top], fixedrange: true, autorange: false, showgrid: false, zeroline: false, ticks: "outside",
      ticklen: 2, tickfont: { size: sz.small - 1 }, title: label.title(i), ticklabeloverflow: "allow" };
    if (label.margin) {
      annotations.push({ xref: "paper", yref: "paper", x: 0, xanchor: "right", xshift: -label.ticks, y: (top + bottom) / 2, yanchor: "middle",
        text: escapeHtml(v.symbol), showarrow: false, font: { size: sz.small } });
    }
    const { colorscale, cmin, cmax } = scaleFor(v.range, options.palette);
    data.push({ type: "heatmap", z: [[]], xaxis: "x", yaxis: i === 0 ? "y" : `y${i + 1}`, colorscale, zmin: cmin, zmax: cmax,
      showscale: false, name, meta: escapeHtml(local(v, "label")), hoverongaps: false });
  });
  return { data, layout };
}

/** Where map i of n sits, in the figure's paper coordinates. */
function domainOf(layout, i) {
  return layout[i === 0 ? "yaxis" : `yaxis${i + 1}`].domain;
}

/**
 * One colour bar per run of neighbouring maps on the same scale, beside them (plotH: the plot's height in px): gates 0…1, tanh-bounded -1…1,
 * an unbounded vector on ±its largest |value| (labelled with it). scales[i]: scaleFor's answer for map i.
 */
export function colorbars(scales, layout, options, plotH) {
  const sz = sizes(options.presenter), key = (s) => `${s.range === "unit"}|${s.cmin}|${s.cmax}`;
  const inset = (sz.small * 0.7) / Math.max(1, plotH);  // each end a little in: neighbouring bars' end labels stay apart
  const out = scales.map(() => ({ showscale: false, colorbar: {} }));
  for (let i = 0; i < scales.length;) {
    let j = i;
    while (j + 1 < scales.length && key(scales[j + 1]) === key(scales[i])) j++;
    const top = domainOf(layout, i)[1], bottom = domainOf(layout, j)[0];
    const { tickvals, ticktext } = scaleTicks(scales[i]);
    out[i] = { showscale: true, colorbar: { x: 1, xanchor: "left", xpad: 6, ypad: 0, y: (top + bottom) / 2, yanchor: "middle",
      len: Math.max(top - bottom - 2 * inset, (top - bottom) / 2), lenmode: "fraction", thickness: options.presenter ? 14 : 10, outlinewidth: 0, tickvals, ticktext,
      ticks: "", tickfont: { size: sz.small - 1 }, ticklabeloverflow: "allow" } };
    i = j + 1;
  }
  return out;
}

/** The hover text of a map: one cell, or a block's mean when a cell stands for several steps or units. */
export function hoverFor(kx, ky) {
  if (kx === 1 && ky === 1) return `<b>%{meta}</b><br>${tr("step %{x}, unit %{y}: %{z:.4f}")}<extra></extra>`;
  const steps = kx > 1 ? tr("{n} steps", { n: kx }) : tr("{n} step", { n: kx }), units = ky > 1 ? tr("{n} units", { n: ky }) : tr("{n} unit", { n: ky });
  return `<b>%{meta}</b><br>${tr("around step %{x:.0f}, unit %{y:.0f}: mean %{z:.4f}")}<extra>${tr("mean of {steps} × {units}", { steps, units })}</extra>`;
}

/**
 * Each map's scale for the trace so far: a name of unbounded range reaches its largest |value|. maxes (kept by the
 * caller for one run) holds each name's largest |value| and the steps it covers, so a run that grows by a typed step
 * reads that step only.
 */
export function scalesOf(trace, glossary, names, paletteName, maxes = {}) {
  return names.map((n) => ({ ...scaleFor(glossary[n].range, paletteName, trace.has(n) ? largest(trace, n, maxes) : 1), range: glossary[n].range }));
}

function largest(trace, name, maxes) {
  if (!trace.value) return trace.maxAbs(name);  // rows only (the probe)
  let seen = maxes[name];
  if (!seen || seen.header !== trace.header || seen.steps > trace.steps) seen = { header: trace.header, steps: 0, max: 0 };  // another run
  for (let t = seen.steps; t < trace.steps; t++) for (const v of trace.value(name, t)) seen.max = Math.max(seen.max, Math.abs(v));
  seen.steps = trace.steps;
  maxes[name] = seen;
  return seen.max;
}
