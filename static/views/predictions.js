// What the model's output head says: the top next tokens at the current step (softmax), or its outputs
// over the whole sequence with the current step marked (linear). While playing, the bars are redrawn at
// most ten times a second and the line chart not at all: only its cursor and caption move.

import { BACKGROUND, FONT_FAMILY, palette, sizes, stepTicks } from "gatescope/core/config.js";
import { local, tr } from "gatescope/core/i18n.js";
import { escapeHtml, num, showToken } from "gatescope/core/text.js";
import { createCursor } from "gatescope/views/cursor.js";
import { View } from "gatescope/views/view.js";

const PLAYING_REDRAW_MS = 100;

/** What the head predicts, in words: its own vocabulary's next token, or the classes or outputs of its task. Pure. */
export function headTitle(header) {
  const head = header?.prediction, model = header?.model;
  if (!head) return "";
  const task = local(model?.card, "task_title");
  // a trained task's title says what its outputs are ("The adding problem"); a model without a card names its outputs
  if (head.head === "linear") return task ?? tr("{task}: {labels}", { task: tr("the model's output"), labels: head.labels.join(", ") });
  // a head over the very tokens the model reads predicts the next of them; any other head has classes of its own
  if (model?.has_embedding && model.vocab_size === head.labels.length) {
    return head.labels.every((l) => [...l].length === 1) ? tr("next character, as the model predicts it") : tr("next word, as the model predicts it");
  }
  const classes = head.labels.length > 6 ? `${head.labels[0]} … ${head.labels.at(-1)}` : head.labels.join(", ");
  return tr("{task} ({classes})", { task: task ?? tr("output class"), classes });
}

const base = (sz) => ({ margin: { l: 60, r: 16, t: 8, b: 30 }, font: { family: FONT_FAMILY, size: sz.small }, showlegend: false,
  dragmode: false, ...BACKGROUND });

export class Predictions extends View {
  static id = "predictions";
  static plotly = true;
  static panel = { name: "predictions", label: tr("predictions"), when: (header) => Boolean(header?.prediction) };  // a model without an output head predicts nothing

  constructor(el, bus) {
    super(el, bus);
    this.built = false;
    this.lastDraw = 0;
    this.caption = document.createElement("div");
    this.caption.className = "chart-caption";
    el.before(this.caption);
    this.line = createCursor(el);
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.built = false;
  }

  plot(data, layout) {
    if (this.built) Plotly.react(this.el, data, layout);
    else Plotly.newPlot(this.el, data, layout, { displayModeBar: false, responsive: true });
    this.built = true;
  }

  /** After steps arrive: a linear head's outputs over the whole sequence. */
  update(trace) {
    super.update(trace);
    const head = this.header?.prediction;
    if (!head || head.head !== "linear" || !trace.has("prediction") || !trace.steps) return;
    const pal = palette(this.options.palette), sz = sizes(this.options.presenter);
    const T = trace.steps, x = Array.from({ length: T }, (_, i) => i);
    this.plot(head.labels.map((label, k) => ({ type: "scatter", mode: "lines", x, y: Array.from(trace.series("prediction", k)),
      name: escapeHtml(label), line: { color: pal.series[k % pal.series.length], width: sz.line * 1.2 } })),
    { ...base(sz), xaxis: { fixedrange: true, title: { text: "t" }, ...stepTicks(T) }, yaxis: { fixedrange: true } });
    this.line.color = pal.highlight;
    this.line.place();
  }

  show(t, phase, playing = false) {
    const trace = this.trace, head = this.header?.prediction;
    if (!head || !trace?.has("prediction") || !trace.steps) return;
    const v = trace.value("prediction", t);
    if (head.head === "linear") {
      this.caption.textContent = tr("{title} at t = {t}: {values}", { title: headTitle(this.header), t, values: Array.from(v, (x) => num(x, 3)).join(", ") });
      this.line.move(t);
      return;
    }
    const now = performance.now();
    if (playing && now - this.lastDraw < PLAYING_REDRAW_MS) return;
    this.lastDraw = now;
    const pal = palette(this.options.palette), sz = sizes(this.options.presenter);
    const top = Array.from(v, (p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).reverse();
    this.caption.textContent = tr("{title}, after reading t = {t}", { title: headTitle(this.header), t });
    this.plot([{ type: "bar", orientation: "h", x: top.map((p) => p[0]), y: top.map((p) => `${escapeHtml(showToken(head.labels[p[1]]))} `),
      marker: { color: pal.series[0] }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>", text: top.map((p) => p[0].toFixed(2)), textposition: "outside" }],
    { ...base(sz), xaxis: { range: [0, 1.15], fixedrange: true, showgrid: false }, yaxis: { type: "category", fixedrange: true, automargin: true } });
  }
}
