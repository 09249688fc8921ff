// Training in the page: start a job over WS /ws/train, draw its loss and accuracy as they come,
// redraw the gates of the task's example input at every snapshot, and open the result as a model.

import { fetchJson } from "../core/api.js";
import { BACKGROUND, FONT_FAMILY, palette, sizes } from "../core/config.js";
import { Heatmaps } from "../views/heatmaps.js";
import { loadPlotly } from "../core/plotly.js";
import { socketUrl } from "../core/stream.js";
import { errorText, escapeHtml } from "../core/text.js";

/** A read-only trace over one probe snapshot, so heatmaps.js can draw it. */
function probeStore(values, tokens) {
  const names = Object.keys(values);
  const T = values[names[0]]?.length ?? 0;
  return {
    steps: T, tokens,
    has: (n) => n in values,
    width: (n) => values[n][0].length,
    matrix: (n) => values[n][0].map((_, u) => values[n].map((row) => row[u])),
    maxAbs: (n) => Math.max(...values[n].flat().map(Math.abs)),
  };
}

/** The loss and accuracy curves, empty: progress messages extend them. */
function drawCurves(curves, options) {
  const pal = palette(options.palette), sz = sizes(options.presenter);
  Plotly.newPlot(curves, [
    { type: "scatter", mode: "lines", x: [], y: [], name: "loss", line: { color: pal.series[1], width: sz.line * 1.2 } },
    { type: "scatter", mode: "lines", x: [], y: [], name: "accuracy", yaxis: "y2", line: { color: pal.series[0], width: sz.line * 1.2 } },
  ], {
    margin: { l: 50, r: 50, t: 28, b: 40 }, font: { family: FONT_FAMILY, size: sz.small }, dragmode: false,
    title: { text: "Training loss and accuracy", font: { size: sz.font }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "step" } }, yaxis: { title: { text: "loss" }, type: "log" },
    yaxis2: { title: { text: "accuracy" }, overlaying: "y", side: "right", range: [0, 1.02] },
    legend: { orientation: "h", y: -0.22 }, ...BACKGROUND,
  }, { displayModeBar: false, responsive: true });
}

/** A glossary for the probe's names, each labelled with the task's example and the step. */
function probeVocabulary(values, task, step) {
  return { names: Object.keys(values).map((n) => ({ name: n, label: `${n} on “${escapeHtml(task?.example ?? "")}”, step ${step}`, symbol: n,
    range: n === "c" ? "real" : ["h"].includes(n) ? "signed" : "unit", role: "gate" })) };
}

/** How a job ended, as a sentence. */
function outcome(msg) {
  const acc = msg.evaluation?.accuracy;
  return `${msg.stopped === "done" ? "done" : `stopped (${msg.stopped})`} after ${msg.steps} steps in ${msg.seconds} s` +
    (acc !== undefined ? ` · accuracy on fresh data ${(acc * 100).toFixed(1)}%` : "");
}

class Trainer {
  constructor(dialog, { config, getState, onOpenModel }) {
    this.$ = (name) => dialog.querySelector(`[data-train="${name}"]`);
    Object.assign(this, { dialog, config, getState, ws: null, tasks: [], result: null, probeBuilt: false, state: null });
    this.probe = new Heatmaps(this.$("probe"), null, { cursor: false });  // a snapshot of the whole probe: no current step
    const $ = this.$;
    $("task").addEventListener("change", () => this.describe());
    $("start").addEventListener("click", () => this.start());
    $("stop").addEventListener("click", () => this.ws?.send(JSON.stringify({ type: "stop" })));
    $("open").addEventListener("click", () => { dialog.close(); if (this.result) onOpenModel(this.result.id); });
    dialog.addEventListener("close", () => { if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.result) this.ws.close(); });
  }

  async open() {
    this.dialog.showModal();
    await this.loadTasks();
    if (!this.config.limits.training) this.fail("training is turned off on this server");
  }

  async loadTasks() {
    if (this.tasks.length) return;
    this.tasks = await fetchJson("/api/tasks");
    for (const t of this.tasks) this.$("task").append(new Option(t.title, t.name));
    this.describe();
  }

  task() { return this.tasks.find((x) => x.name === this.$("task").value); }
  describe() { this.$("task-text").textContent = this.task()?.description ?? ""; }
  status(text) { this.$("status").textContent = text; }

  async start() {
    const $ = this.$;
    $("start").disabled = true;
    try {
      await loadPlotly();  // its curves and probe heatmaps are charts: usually here long since
    } catch (err) {
      $("start").disabled = false;
      return this.fail(err.message);
    }
    const request = { type: "start", task: $("task").value, kind: $("kind").value };
    for (const k of ["hidden", "steps", "seed"]) request[k] = Number($(k).value);
    request.learning_rate = Number($("learning_rate").value);
    Object.assign(this, { state: this.getState(), result: null, probeBuilt: false });
    $("open").hidden = true;
    $("start").disabled = true;
    $("stop").disabled = false;
    drawCurves($("curves"), this.state);
    this.status("starting…");
    const ws = this.ws = new WebSocket(socketUrl("/ws/train"));
    let told = false;  // the server said how it ended (done or an error): a close or a socket error after that keeps its words
    ws.onopen = () => ws.send(JSON.stringify(request));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "done" || msg.type === "error") told = true;
      this.receive(msg);
    };
    ws.onclose = () => { $("start").disabled = false; $("stop").disabled = true; };
    ws.onerror = () => { if (!told) this.fail("the connection to the server failed"); };
  }

  receive(msg) {
    if (msg.type === "started") this.status(`training ${msg.request.kind} on “${msg.task.title}”…`);
    else if (msg.type === "progress") {
      Plotly.extendTraces(this.$("curves"), { x: [[msg.step], [msg.step]], y: [[msg.loss], [msg.accuracy]] }, [0, 1]);
      this.status(`step ${msg.step} · loss ${msg.loss.toFixed(4)} · accuracy ${(msg.accuracy * 100).toFixed(1)}%`);
    } else if (msg.type === "probe") this.showProbe(msg);
    else if (msg.type === "stopping") this.status(msg.again ? "already stopping…" : "stopping…");
    else if (msg.type === "done") this.finish(msg);
    else if (msg.type === "error") this.fail(errorText(msg.detail));
  }

  showProbe(msg) {
    const t = this.task(), state = this.state;
    const trace = probeStore(msg.values, t?.input_type === "text" ? [...t.example] : []);
    if (!this.probeBuilt) {
      this.probe.build({ glossary: probeVocabulary(msg.values, t, msg.step) }, null,
        { palette: state.palette, presenter: state.presenter, names: Object.keys(msg.values) });
    }
    this.probeBuilt = true;
    this.probe.update(trace);
  }

  finish(msg) {
    this.result = msg;
    this.status(outcome(msg));
    this.$("open").hidden = false;
  }

  fail(text) {
    this.status(`error: ${text}`);
    this.$("start").disabled = false;
    this.$("stop").disabled = true;
  }
}

export function createTrainer(dialog, options) {
  return new Trainer(dialog, options);
}
