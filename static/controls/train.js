// Training in the page: start a job over WS /ws/train, draw its loss and accuracy as they come,
// redraw the gates of the task's example input at every snapshot, and open the result as a model.

import { fetchJson } from "../core/api.js";
import { BACKGROUND, FONT_FAMILY, palette, sizes } from "../core/config.js";
import { Heatmaps } from "../views/heatmaps.js";
import { socketUrl } from "../core/stream.js";
import { errorText, escapeHtml } from "../core/text.js";

/** A read-only store over one probe snapshot, so heatmaps.js can draw it. */
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

export function createTrainer(dialog, { config, getState, onOpenModel }) {
  const $ = (name) => dialog.querySelector(`[data-train="${name}"]`);
  const curves = $("curves");
  const probe = new Heatmaps($("probe"), null, { cursor: false });  // a snapshot of the whole probe: no current step
  let ws = null, tasks = [], result = null, probeBuilt = false;

  async function loadTasks() {
    if (tasks.length) return;
    tasks = await fetchJson("/api/tasks");
    for (const t of tasks) $("task").append(new Option(t.title, t.name));
    describe();
  }
  function describe() {
    const t = tasks.find((x) => x.name === $("task").value);
    $("task-text").textContent = t ? t.description : "";
  }
  $("task").addEventListener("change", describe);

  function status(text) { $("status").textContent = text; }

  function drawCurves(options) {
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

  function start() {
    const state = getState();
    const request = { type: "start", task: $("task").value, kind: $("kind").value };
    for (const k of ["hidden", "steps", "seed"]) request[k] = Number($(k).value);
    request.learning_rate = Number($("learning_rate").value);
    result = null;
    probeBuilt = false;
    $("open").hidden = true;
    $("start").disabled = true;
    $("stop").disabled = false;
    drawCurves(state);
    status("starting…");
    ws = new WebSocket(socketUrl("/ws/train"));
    ws.onopen = () => ws.send(JSON.stringify(request));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "started") status(`training ${msg.request.kind} on “${msg.task.title}”…`);
      else if (msg.type === "progress") {
        Plotly.extendTraces(curves, { x: [[msg.step], [msg.step]], y: [[msg.loss], [msg.accuracy]] }, [0, 1]);
        status(`step ${msg.step} · loss ${msg.loss.toFixed(4)} · accuracy ${(msg.accuracy * 100).toFixed(1)}%`);
      } else if (msg.type === "probe") showProbe(msg, state);
      else if (msg.type === "stopping") status(msg.again ? "already stopping…" : "stopping…");
      else if (msg.type === "done") finish(msg);
      else if (msg.type === "error") fail(errorText(msg.detail));
    };
    ws.onclose = () => { $("start").disabled = false; $("stop").disabled = true; };
    ws.onerror = () => fail("the connection to the server failed");
  }

  function showProbe(msg, state) {
    const t = tasks.find((x) => x.name === $("task").value);
    const tokens = t?.input_type === "text" ? [...t.example] : [];
    const store = probeStore(msg.values, tokens);
    const vocabulary = { names: Object.keys(msg.values).map((n) => ({ name: n, label: `${n} on “${escapeHtml(t?.example ?? "")}”, step ${msg.step}`, symbol: n, range: n === "c" ? "real" : ["h"].includes(n) ? "signed" : "unit", role: "gate" })) };
    if (!probeBuilt) probe.build({ vocabulary }, null, { palette: state.palette, presenter: state.presenter, names: Object.keys(msg.values) });
    probeBuilt = true;
    probe.update(store);
  }

  function finish(msg) {
    result = msg;
    const acc = msg.evaluation?.accuracy;
    status(`${msg.stopped === "done" ? "done" : `stopped (${msg.stopped})`} after ${msg.steps} steps in ${msg.seconds} s` +
      (acc !== undefined ? ` · accuracy on fresh data ${(acc * 100).toFixed(1)}%` : ""));
    $("open").hidden = false;
  }

  function fail(text) {
    status(`error: ${text}`);
    $("start").disabled = false;
    $("stop").disabled = true;
  }

  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", () => ws?.send(JSON.stringify({ type: "stop" })));
  $("open").addEventListener("click", () => { dialog.close(); if (result) onOpenModel(result.id); });
  dialog.addEventListener("close", () => { if (ws && ws.readyState === WebSocket.OPEN && !result) ws.close(); });

  return {
    async open() {
      dialog.showModal();
      await loadTasks();
      if (!config.limits.training) fail("training is turned off on this server");
    },
  };
}
