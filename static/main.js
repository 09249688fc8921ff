// The page: the view state (in the URL) -> a run's stream of steps -> the trace -> the views.
// Data flows one way; views never fetch. This module only wires: the views named in views/index.js follow
// the bus, in the panels they declare (controls/panels.js); a change of the view state either redraws
// (step, palette, panels, ...) or opens a new run.
// Typing at the end of the text extends the open run.

import { createChrome } from "./controls/chrome.js";
import { createPanels } from "./controls/panels.js";
import { createPlayer } from "./controls/player.js";
import { createTrainer } from "./controls/train.js";
import { fetchFlow } from "./core/api.js";
import { createBus, mount } from "./core/bus.js";
import { createRun } from "./core/run.js";
import { computeParams, createViewState, parse, serialize } from "./core/state.js";
import { createTrace } from "./core/trace.js";
import { debounce, throttle } from "./core/timers.js";
import { VIEWS } from "./views/index.js";

const byId = (id) => document.getElementById(id);
const config = JSON.parse(byId("gatescope-config").textContent);
const fields = config.fields;
const bus = createBus();
const view = createViewState(parse(new URLSearchParams(location.search), fields), fields, bus);
const trace = createTrace();
const panels = createPanels(VIEWS, document.querySelector(".layout"));  // first: it makes the sections some views draw in
mount(bus, VIEWS.map((View) => new View(byId(View.id), bus)));

const run = createRun(trace, {
  described(kindInfo, header) {
    build();
    panelsShown(view.current);
    chrome.sync(view.current, header);
    chrome.setKindOptions(header.request.kind ? kindInfo.options : [], view.current);
    redraw();
  },
  rows: () => refresh.soon(),
  complete() {
    refresh.now();
    fetchWholeRun();
    markReady();
  },
  status: (text) => { byId("status").textContent = text; },
  failed: (text) => message(text),
  closed() {  // after a refused request the error says why; otherwise say that the stream ended
    if (byId("message").hidden || byId("message").dataset.tone !== "error") byId("status").textContent = "connection closed";
  },
});
const player = createPlayer({
  el: document.querySelector(".player"),
  steps: () => trace.steps,
  phaseNames: () => (run.info ? run.info.glossary.phases.map((p) => p.name) : []),
  onShow: show,
});
const chrome = createChrome(document.querySelector("header.top"), {
  config, panels, getState: () => view.current, onChange: (patch) => view.update(patch), onTyping: typed, onMessage: message,
});

function message(text, tone = "error") {
  const box = byId("message");
  box.textContent = text;  // server messages may quote what was typed: text only
  box.classList.remove("refused");  // the page's refused link, rendered by the server, is replaced
  box.dataset.tone = tone;
  box.hidden = !text;
}

function panelsShown(state) {
  panels.show(state, trace.header);
  document.body.classList.toggle("presenter", state.presenter);
}

/** For tests and the page benchmark: the DOM says when the run is drawn and which step is shown. */
function markReady() {
  if (!run.info || !trace.steps) return setTimeout(markReady, 30);
  document.body.dataset.ready = "1";
}

function show(t, phase, source) {
  if (!run.info || !trace.steps) return;
  const playing = source === "play";
  document.body.dataset.step = String(t);
  document.body.dataset.phase = phase ?? "";
  view.update({ step: t, speed: player.speed, phases: player.phasesOn }, playing ? "play" : "step");
  bus.emit("step", { t, phase, playing });
}

const syncUrl = debounce(() => {
  const query = serialize(view.current, fields).toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
}, 120);

/** The views redrawn from the steps so far (at most ten times a second), then the step shown again. */
const refresh = throttle(() => {
  if (!run.info || !trace.steps) return;
  bus.emit("data", trace);
  const t = run.arrived();
  if (t !== null) player.set(t, null, "open");
  else player.set(player.t, player.phase, "refresh");
}, 100);

/** Every view drawn anew for the run and the view state (a new run, or a change of the picture)... */
function build() {
  bus.emit("build", { kindInfo: run.info, header: trace.header, options: view.current });
}

/** ...then filled with the steps so far, and the gradient flow once the run is complete. */
function redraw() {
  refresh.now();
  fetchWholeRun();
}

/** The gradient flow of a complete run, asked of the server when a shown panel needs it. */
async function fetchWholeRun() {
  const state = view.current;
  if (!run.info || !trace.complete || trace.flow || !panels.needed("flow", state, trace.header)) return;
  const id = run.id;
  try {
    const body = await fetchFlow(computeParams(state, fields));
    if (id !== run.id) return;
    trace.setFlow([{ label: body.model.card?.title ?? body.model.kind, flow: body.flow }]);
    bus.emit("data", trace);
  } catch (err) {
    message(`Gradient flow: ${err.message}`);
  }
}

function open(state) {
  delete document.body.dataset.ready;
  if (byId("message").dataset.tone !== "info") message("");  // keep a confirmation ("Loaded ...") past the reload
  run.open(computeParams(state, fields), state.step);
}

/** Typing: text that only grows is sent as more steps; anything else reruns. */
function typed(text, now = false) {
  if (!text) return;
  if (!now && run.append(text)) return view.update({ input: text, step: view.current.step }, "append");
  if (text !== run.streamed || now) view.update({ input: text });
}

bus.on("state", ({ state, before, reason }) => {
  if (reason === "edit") {
    panelsShown(state);
    chrome.sync(state, trace.header);
    if (computeParams(state, fields).toString() !== computeParams(before, fields).toString()) open(state);
    else if (run.info) { build(); redraw(); }
  }
  if (reason !== "play") syncUrl();
});
bus.on("change", (patch) => view.update(patch));
bus.on("seek", (t) => player.set(t));

const trainDialog = byId("train-dialog");
if (trainDialog) {
  const trainer = createTrainer(trainDialog, { config, getState: () => view.current, onOpenModel: (id) => view.update({ model: id, input: null, input_type: null }) });
  document.querySelector('[data-control="train-open"]').addEventListener("click", () => trainer.open());
}
panelsShown(view.current);
player.configure({ speed: view.current.speed, phases: view.current.phases });
chrome.sync(view.current, null);
if (!config.refused) open(view.current);  // a refused link: the server's message is on the page until the view is changed

// for the browser tests and the page benchmark
window.gatescope = { trace, player, get state() { return view.current; }, get ready() { return run.ready; } };
