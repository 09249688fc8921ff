// Training in the page: start a job over WS /ws/train, draw its loss and accuracy as they come, show the gates of
// the task's example input at every snapshot (paced, when watching: train-replay.js), replay the snapshots once it
// is done, and open the result as a model. Opened on a model trained here, the dialog replays that model's training.

import { fetchJson } from "gatescope/core/api.js";
import { local, tr } from "gatescope/core/i18n.js";
import { loadPlotly } from "gatescope/core/plotly.js";
import { socketUrl } from "gatescope/core/stream.js";
import { errorText } from "gatescope/core/text.js";
import { Replay } from "gatescope/controls/train-replay.js";

const MODEL_ID = /^[0-9a-f]{16,64}$/;

/** Why a job stopped short (cells/training/trainer.py's codes), in words. */
const STOPPED = { cancelled: tr("cancelled"), "time budget": tr("time budget"), diverged: tr("diverged") };

/** How a job ended, as a sentence. */
function outcome(msg) {
  const acc = msg.evaluation?.accuracy, done = { steps: msg.steps, seconds: msg.seconds };
  return (msg.stopped === "done" ? tr("done after {steps} steps in {seconds} s", done)
    : tr("stopped ({why}) after {steps} steps in {seconds} s", { ...done, why: STOPPED[msg.stopped] ?? msg.stopped })) +
    (acc !== undefined ? ` · ${tr("accuracy on fresh data {acc}%", { acc: (acc * 100).toFixed(1) })}` : "");
}

class Trainer {
  constructor(dialog, { config, getState, onOpenModel }) {
    this.$ = (name) => dialog.querySelector(`[data-train="${name}"]`);
    Object.assign(this, { dialog, config, getState, ws: null, tasks: [], result: null, state: null, kinds: {}, replayed: null });
    this.replay = new Replay(this.$);
    const $ = this.$;
    $("task").addEventListener("change", () => this.describe());
    $("start").addEventListener("click", () => this.start());
    $("stop").addEventListener("click", () => this.ws?.send(JSON.stringify({ type: "stop" })));
    $("open").addEventListener("click", () => { dialog.close(); if (this.result) onOpenModel(this.result.id); });
    dialog.addEventListener("close", () => {
      this.replay.pause();
      if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.result) this.ws.close();
    });
  }

  async open() {
    this.dialog.showModal();
    await this.loadTasks();
    if (!this.config.limits.training) this.fail(tr("training is turned off on this server"));
    else await this.replayOpenModel();
  }

  /** The page shows a model trained here and the dialog has no run of its own: replay that model's training. */
  async replayOpenModel() {
    const id = this.getState().model;
    if (!MODEL_ID.test(id ?? "") || this.ws || id === this.replayed) return;
    let record;
    try {
      record = await fetchJson(`/api/models/${id}/training`);
      await loadPlotly();
    } catch {
      return;  // uploaded, not trained here (a 404 that says so), or evicted: nothing to replay
    }
    this.replayed = id;
    this.state = this.getState();
    if (this.tasks.some((t) => t.name === record.task)) this.$("task").value = record.task;  // "Train" again trains the same
    this.$("kind").value = record.kind;
    this.describe();
    const kindInfo = await this.kind(record.kind);
    this.replay.load(record, kindInfo, this.state);
    const task = this.tasks.find((t) => t.name === record.task);
    this.status(tr("the training of the open model: {kind} on “{task}”, {n} snapshots",
      { kind: local(kindInfo, "title"), task: task ? local(task, "title") : record.task_title, n: record.snapshots.length }));
  }

  /** A kind's description (its glossary labels the maps with its symbols), fetched once. */
  async kind(name) {
    this.kinds[name] ??= await fetchJson(`/api/kinds/${encodeURIComponent(name)}`);
    return this.kinds[name];
  }

  async loadTasks() {
    if (this.tasks.length) return;
    this.tasks = await fetchJson("/api/tasks");
    for (const t of this.tasks) this.$("task").append(new Option(local(t, "title"), t.name));
    this.describe();
  }

  task() { return this.tasks.find((x) => x.name === this.$("task").value); }
  describe() { this.$("task-text").textContent = local(this.task(), "description") ?? ""; }
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
    let kindInfo;
    try {
      kindInfo = await this.kind(request.kind);
    } catch (err) {
      $("start").disabled = false;
      return this.fail(err.message);
    }
    Object.assign(this, { state: this.getState(), result: null, replayed: null });
    $("open").hidden = true;
    $("stop").disabled = false;
    this.replay.begin(kindInfo, this.task()?.input_type === "text" ? [...this.task().example] : [], request.steps, this.state, true);
    this.status(tr("starting…"));
    const ws = this.ws = new WebSocket(socketUrl("/ws/train"));
    let told = false;  // the server said how it ended (done or an error): a close or a socket error after that keeps its words
    ws.onopen = () => ws.send(JSON.stringify(request));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "done" || msg.type === "error") told = true;
      this.receive(msg);
    };
    ws.onclose = () => { $("start").disabled = false; $("stop").disabled = true; };
    ws.onerror = () => { if (!told) this.fail(tr("the connection to the server failed")); };
  }

  receive(msg) {
    if (msg.type === "started") {
      this.replay.run.tokens = msg.tokens ?? this.replay.run.tokens;
      this.status(tr("training {kind} on “{task}”…", { kind: msg.request.kind, task: local(msg.task, "title") }));
    } else if (msg.type === "progress") {
      this.replay.point(msg.step, msg.loss, msg.accuracy);
      this.status(tr("step {step} · loss {loss} · accuracy {acc}%", { step: msg.step, loss: msg.loss.toFixed(4), acc: (msg.accuracy * 100).toFixed(1) }));
    } else if (msg.type === "probe") this.replay.add({ step: msg.step, loss: null, accuracy: null, values: msg.values });
    else if (msg.type === "stopping") this.status(msg.again ? tr("already stopping…") : tr("stopping…"));
    else if (msg.type === "done") this.finish(msg);
    else if (msg.type === "error") this.fail(errorText(msg.detail));
  }

  async finish(msg) {
    this.result = msg;
    this.status(outcome(msg));
    this.$("open").hidden = false;
    let record = null;
    try {
      record = await fetchJson(`/api/models/${msg.id}/training`);  // what is stored: each snapshot with its loss
    } catch (err) {
      this.status(`${outcome(msg)} · ${tr("its snapshots could not be read back ({why})", { why: err.message })}`);
    }
    this.replay.finish(record);
  }

  fail(text) {
    this.status(tr("error: {text}", { text }));
    this.$("start").disabled = false;
    this.$("stop").disabled = true;
  }
}

export function createTrainer(dialog, options) {
  return new Trainer(dialog, options);
}
