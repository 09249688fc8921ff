// The page: the view state (in the URL) -> a stream of steps -> the store -> the views.
// Data flows one way; views never fetch. A view-only change (step, palette, panels) redraws;
// anything else opens a new stream. Typing at the end of the text extends the open stream.

import { renderPhase } from "./views/equation.js";
import { assumedText, createChrome } from "./controls/chrome.js";
import { createDiagram } from "./views/diagram.js";
import { createGradients, fetchFlow } from "./views/gradients.js";
import { createHeatmaps, defaultNames } from "./views/heatmaps.js";
import { createPlayer } from "./controls/player.js";
import { createPredictions } from "./views/predictions.js";
import { createSaturation } from "./views/saturation.js";
import { computeParams, parse, serialize, update } from "./core/state.js";
import { createStore } from "./core/store.js";
import { openStream } from "./core/stream.js";
import { showToken } from "./core/text.js";
import { createTokens } from "./views/tokens.js";
import { createTrainer } from "./controls/train.js";
import { createLines } from "./views/lines.js";

const config = JSON.parse(document.getElementById("gatescope-config").textContent);
const fields = config.fields;
const byId = (id) => document.getElementById(id);
let state = parse(new URLSearchParams(location.search), fields);
const store = createStore();
const kindInfos = new Map();
let info = null, stream = null, streamedInput = "", pendingInput = null, pendingStep = state.step, opened = 0, complete = false;

const seek = (t) => player.set(t);
const diagram = createDiagram(byId("diagram"));
const heatmaps = createHeatmaps(byId("heatmaps"), { onSeek: seek });
const units = createLines(byId("lines"), { onSeek: seek });
const tokens = createTokens(byId("tokens"), { onSeek: seek });
const predictions = createPredictions(byId("predictions"));
const gradients = createGradients(byId("gradients"));
const saturation = createSaturation(byId("saturation"));
const shown = (panel) => state.panels.split(",").includes(panel);
const player = createPlayer({
  el: document.querySelector(".player"),
  steps: () => store.steps,
  phaseNames: () => (info ? info.vocabulary.phases.map((p) => p.name) : []),
  onShow: show,
});
const chrome = createChrome(document.querySelector("header.top"), {
  config, getState: () => state, onChange: change, onTyping: typed, onMessage: message,
});

function message(text, kind = "error") {
  const box = byId("message");
  box.textContent = text;  // server messages may quote what was typed: text only
  box.classList.remove("refused");  // the page's refused link, rendered by the server, is replaced
  box.dataset.kind = kind;
  box.hidden = !text;
}

// -- what is shown -----------------------------------------------------------------------
function panelsShown() {
  const on = new Set(state.panels.split(","));
  document.querySelectorAll("[data-panel]").forEach((p) => {
    const empty = p.dataset.panel === "predictions" && !store.header?.prediction;  // a model without an output head
    p.hidden = !on.has(p.dataset.panel) || empty;
  });
  document.body.classList.toggle("presenter", state.presenter);
}

function focusName() {
  if (store.has(state.focus)) return state.focus;
  return ["c", "h"].find((n) => store.has(n));
}

/** For tests and the page benchmark: the DOM says when the run is drawn and which step is shown. */
function markReady() {
  if (!info || !store.steps) return setTimeout(markReady, 30);
  document.body.dataset.ready = "1";
}

function show(t, phase, source) {
  if (!info || !store.steps) return;
  const playing = source === "play";
  document.body.dataset.step = String(t);
  document.body.dataset.phase = phase ?? "";
  state.step = t;
  state.speed = player.speed;
  state.phases = player.phasesOn;
  diagram.show(store, t, phase, playing);
  heatmaps.cursor(t);
  units.cursor(t);
  const color = state.color_unit !== null && focusName()
    ? { name: focusName(), unit: Math.min(state.color_unit, store.width(focusName()) - 1), range: rangeOf(focusName()), palette: state.palette } : null;
  tokens.render(store, t, color);
  predictions.show(store, t, state, playing);
  if (shown("gradients")) gradients.cursor(t);
  renderPhase(byId("phase"), { phase, info, store, t, unit: state.color_unit ?? 0 });
  const tok = store.tokens[t] ?? "";
  byId("caption").textContent = `t = ${t}  ·  input ${JSON.stringify(showToken(tok))}`;
  if (source !== "play") syncUrl();
}

function rangeOf(name) {
  return info.vocabulary.names.find((n) => n.name === name)?.range ?? "signed";
}

let urlTimer = 0;
function syncUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const query = serialize(state, fields).toString();
    history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
  }, 120);
}

/** Redraw what depends on the whole sequence (after steps arrive); at most ten times a second. */
let refreshTimer = 0, refreshDue = false;
function refresh(now = false) {
  if (!now) {
    refreshDue = true;
    if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = 0; if (refreshDue) refresh(true); }, 100);
    return;
  }
  refreshDue = false;
  if (!info || !store.steps) return;
  diagram.setRanges(store);
  heatmaps.update(store);
  const name = focusName();
  if (name) units.update(store, name, info.vocabulary.names.find((n) => n.name === name).label, state.units, state);
  predictions.refresh(store, state);
  syncLineControls();
  if (pendingStep !== null && (pendingStep < store.steps || store.header.steps <= store.steps)) {
    player.set(Math.min(pendingStep, store.steps - 1), null, "open");
    pendingStep = null;
  } else {
    player.set(player.t, player.phase, "refresh");
  }
}

/** The views that need the complete run: gradient flow (asked of the server) and saturation. */
async function drawWholeRun() {
  if (!info) return;  // the header handler calls again once the kind's description is in
  if (shown("saturation")) saturation.draw(store, info.vocabulary, state);
  if (!shown("gradients")) return;
  const id = opened;
  try {
    const body = await fetchFlow(computeParams(state, fields));
    if (id !== opened) return;
    gradients.draw([{ label: body.model.card?.title ?? body.model.kind, flow: body.flow }], state);
    gradients.cursor(player.t);
  } catch (err) {
    message(`Gradient flow: ${err.message}`);
  }
}

async function kindInfo(model) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(model.options)) if (v !== null) params.set(k, String(v));
  const key = `${model.kind}?${params}`;
  if (!kindInfos.has(key)) kindInfos.set(key, fetch(`/api/kinds/${model.kind}?${params}`).then((r) => r.json()));
  return kindInfos.get(key);
}

// -- the stream ----------------------------------------------------------------------------
function connect() {
  stream?.close();
  complete = false;
  delete document.body.dataset.ready;
  const id = ++opened;
  info = null;
  if (byId("message").dataset.kind !== "info") message("");  // keep a confirmation ("Loaded ...") past the reload
  byId("status").textContent = "computing…";
  streamedInput = "";
  stream = openStream(computeParams(state, fields), {
    async header(h) {
      store.reset(h);
      streamedInput = h.request.input;
      const ki = await kindInfo(h.model);
      if (id !== opened) return;
      info = ki;
      const options = { palette: state.palette, presenter: state.presenter };
      diagram.build(ki, h.model, options);
      heatmaps.build(ki.vocabulary, options, defaultNames(ki.vocabulary));
      predictions.setHeader(h);
      panelsShown();
      chrome.sync(state, h);
      chrome.setKindOptions(h.request.kind ? ki.options : [], state);
      const title = h.model.card?.title ?? (h.request.model ? `${ki.title}, uploaded model ${h.request.model.slice(0, 8)}`
        : `${ki.title}, random weights (seed ${h.request.seed})`);
      byId("model-title").textContent = `${title} · hidden ${h.model.hidden_size}${h.model.num_layers > 1 ? ` · layer ${h.layer + 1} of ${h.model.num_layers}` : ""}`;
      const notes = byId("model-notes");
      notes.textContent = (h.model.card?.notes ?? ki.summary) + assumedText(h.model.assumed);
      notes.classList.remove("open");
      refresh(true);
      if (complete) drawWholeRun();  // the run finished before the kind's description came
    },
    rows(t0, rows, count) {
      if (id !== opened) return;
      store.append(t0, rows, count);
      refresh();
    },
    tokens(t0, more) {
      store.addTokens(t0, more);
      byId("status").textContent = `${t0 + more.length} steps`;
      if (pendingInput !== null) streamedInput = pendingInput;
      pendingInput = null;
    },
    summary(s) {
      if (id !== opened) return;
      byId("status").textContent = `${s.steps} steps · ${s.bytes_per_snapshot} bytes per step`;
      complete = true;
      refresh(true);
      drawWholeRun();
      markReady();
    },
    error(e) {
      pendingInput = null;
      message(typeof e.detail === "string" ? e.detail : (e.detail ?? []).map((d) => `${(d.loc ?? []).join(".")}: ${d.msg}`).join("; "));
      byId("status").textContent = "";
    },
    closed() {  // after a refused request the error says why; otherwise say that the stream ended
      if (byId("message").hidden || byId("message").dataset.kind !== "error") byId("status").textContent = "connection closed";
    },
  });
}

/** Typing: text that only grows is sent as more steps; anything else reruns. */
function typed(text, now = false) {
  if (!text) return;
  const type = store.header?.request.input_type;
  const extendable = store.header && type === "text" && !store.header.model.bidirectional && pendingInput === null;
  if (extendable && text.length > streamedInput.length && text.startsWith(streamedInput) && !now) {
    if (stream.append(text.slice(streamedInput.length))) {
      pendingInput = text;
      state.input = text;
      syncUrl();
      return;
    }
  }
  if (text !== streamedInput || now) change({ input: text });
}

function change(changes) {
  const before = computeParams(state, fields).toString();
  state = update(state, changes, fields);
  panelsShown();
  chrome.sync(state, store.header);
  if (computeParams(state, fields).toString() !== before) {
    pendingStep = state.step;
    connect();
  } else if (info) {
    const options = { palette: state.palette, presenter: state.presenter };
    diagram.build(info, store.header.model, options);
    heatmaps.build(info.vocabulary, options, defaultNames(info.vocabulary));
    refresh(true);
    drawWholeRun();
  }
  syncUrl();
}

// the lines panel's controls: which vector to follow, which units, and the token colors
const focusSelect = document.querySelector('[data-control="focus"]');
const unitsInput = document.querySelector('[data-control="units"]');
const colorInput = document.querySelector('[data-control="color-unit"]');
function syncLineControls() {
  if (!info) return;
  focusSelect.replaceChildren(...info.vocabulary.names.filter((n) => store.has(n.name) && n.role !== "input")
    .map((n) => new Option(n.label, n.name)));
  focusSelect.value = focusName() ?? "";
  unitsInput.value = state.units;
  colorInput.value = state.color_unit ?? "";
}
focusSelect.addEventListener("change", () => change({ focus: focusSelect.value }));
unitsInput.addEventListener("change", () => change({ units: unitsInput.value.replace(/[^0-9,]/g, "") }));
colorInput.addEventListener("change", () => {
  const v = colorInput.value === "" ? null : Number(colorInput.value);
  change({ color_unit: Number.isInteger(v) && v >= 0 ? v : null });
});

const trainDialog = byId("train-dialog");
if (trainDialog) {
  const trainer = createTrainer(trainDialog, { config, getState: () => state, onOpenModel: (id) => change({ model: id, input: null, input_type: null }) });
  document.querySelector('[data-control="train-open"]').addEventListener("click", () => trainer.open());
}
window.addEventListener("resize", () => diagram.resize());
byId("model-notes").addEventListener("click", (e) => e.currentTarget.classList.toggle("open"));
panelsShown();
player.configure({ speed: state.speed, phases: state.phases });
chrome.sync(state, null);
if (!config.refused) connect();  // a refused link: the server's message is on the page until the view is changed

// for the browser tests and the page benchmark
// ready: the run's summary has come, its views are drawn, and no typed extension is on its way
window.gatescope = { store, player, get state() { return state; }, get ready() { return Boolean(info && complete && store.steps && pendingInput === null); } };
