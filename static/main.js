// The page: the view state (in the URL) -> a run's stream of steps -> the trace -> the views.
// Data flows one way; views never fetch. This module only wires: the views named in views/index.js follow
// the bus, in the panels they declare (controls/panels.js); a change of the view state either redraws
// (step, palette, panels, ...) or opens a new run.
// Typing at the end of the text extends the open run.

import { createAnimationExport } from "gatescope/controls/animation-dialog.js";
import { createChrome, exportName, stackPicker } from "gatescope/controls/chrome.js";
import { createPanels } from "gatescope/controls/panels.js";
import { createLesson } from "gatescope/controls/lesson.js";  // lesson
import { createPlayer } from "gatescope/controls/player.js";
import { createTrainer } from "gatescope/controls/train.js";
import { createWhatIf } from "gatescope/controls/what-if.js";
import { fetchFlow } from "gatescope/core/api.js";
import { createBus, mount } from "gatescope/core/bus.js";
import { loadPlotly } from "gatescope/core/plotly.js";
import { createRun } from "gatescope/core/run.js";
import { computeParams, createViewState, parse, serialize } from "gatescope/core/state.js";
import { createTrace } from "gatescope/core/trace.js";
import { debounce, throttle } from "gatescope/core/timers.js";
import { writeText } from "gatescope/core/write.js";
import { VIEWS } from "gatescope/views/index.js";
import { local, tr } from "gatescope/core/i18n.js";

const byId = (id) => document.getElementById(id);
const config = JSON.parse(byId("gatescope-config").textContent);
const fields = config.fields;
const bus = createBus();
// lesson: /lesson/<name> opens its stop's view state, changed by what the URL adds (controls/lesson.js)
const lesson = config.lesson ? createLesson(byId("lesson"), { lesson: config.lesson, stop: config.stop, fields, go: (s) => goStop(s),
  step: (d) => { player.pause(); player.set(player.t + d); } }) : null;
const view = createViewState(lesson ? lesson.initial(location.search) : parse(new URLSearchParams(location.search), fields), fields, bus);  // lesson
const trace = createTrace();
const LAST = 10_000_000;  // a step past any input: a run opened at it shows its last step (typing shows what was typed)
let openAtLast = false;  // the run now opened goes to its last step (change() below); the view state never holds LAST
// the page follows typed text to its newest step until the user moves; the phase a permalink opens at
const follow = { on: false, phase: view.current.phase };
const panels = createPanels(VIEWS, document.querySelector(".layout"));  // first: it makes the sections some views draw in
// plotly.js is asked for once the first step is shown (the diagram needs none of it), a frame later so that the
// diagram is painted first; the charts' calls wait for it
let plotlyWanted = null;
const plotly = new Promise((resolve, reject) => { plotlyWanted = () => loadPlotly().then(resolve, reject); });
plotly.catch((err) => message(tr("The charts could not be drawn: {why}", { why: err.message })));
mount(bus, VIEWS.map((View) => new View(byId(View.id), bus)), plotly);

const run = createRun(trace, {
  described(kindInfo, header) {
    build();
    panelsShown(view.current);
    chrome.sync(view.current, header);
    stack.sync(header);
    whatIf.sync(view.current, kindInfo, trace);
    creditLink();
    chrome.setKindOptions(header.request.kind ? kindInfo.options : [], view.current);
    redraw();
    panels.fit();  // after the controls took their height for this model (its hint, its unknown-character choice)
  },
  rows: () => (follow.on ? refresh.now() : refresh.soon()),  // a typed character is drawn at once, a long run ten times a second
  complete() {
    refresh.now();
    fetchWholeRun();
    markReady();
  },
  status: (text) => writeText(byId("status"), text),  // every typed key: no change of the tree (core/write.js)
  failed: (text, offer, error) => message(text, "error", [...(offer ? [offer] : []), ...offers(error)], true),  // the server's way out first
  accepted: () => extended(),
  closed() {  // after a refused request the error says why; otherwise say that the stream ended
    if (byId("message").hidden || byId("message").dataset.tone !== "error") byId("status").textContent = "connection closed";
  },
});
const player = createPlayer({
  el: document.querySelector(".player"),
  steps: () => trace.steps,
  phaseNames: () => (run.info ? run.info.glossary.phases.map((p) => p.name) : []),
  onShow: show,
  onMove: (t, phase, progress) => bus.emit("move", { t, phase, progress }),
});
const chrome = createChrome(document.querySelector("header.top"), {
  config, panels, getState: () => view.current, getHeader: () => trace.header,
  onChange: (patch, then) => { view.update(patch); if (then === "reload") reload(); },
  onTyping: typed, onMessage: message,
});
const stack = stackPicker(document, (patch) => view.update(patch));
const whatIf = createWhatIf(document, { onChange: (patch) => view.update(patch) });
const animation = createAnimationExport(byId("animation-dialog"), { config, getState: () => view.current, getHeader: () => trace.header,
  getKind: () => run.info, trace, exportName, onMessage: message });
for (const format of ["gif", "video"]) document.querySelector(`[data-control="export-${format}"]`)?.addEventListener("click", () => animation.open(format));

/** A message above the views; actions: buttons [{label, patch}] that change the view state. While a run's error
 *  stands (ofRun), the views still show the last input that ran, and say so (dimmed, with that input named); a failed
 *  upload or export leaves them current. */
function message(text, tone = "error", actions = [], ofRun = false) {
  const box = byId("message");
  box.textContent = text;  // server messages may quote what was typed: text only
  box.classList.remove("refused");  // the page's refused link, rendered by the server, is replaced
  box.dataset.tone = tone;
  box.hidden = !text;
  const stale = Boolean(text) && ofRun && trace.steps > 0;
  document.querySelector(".layout").classList.toggle("stale", stale);
  if (stale) {
    const note = document.createElement("p");
    note.className = "stale-note";
    const shown = run.streamed || trace.header.request.input;  // with what typing added to it
    note.textContent = tr("Below: the last valid input, “{input}”, not what is in the box.", { input: shown.length > 60 ? `${shown.slice(0, 60)}…` : shown });
    box.append(note);
  }
  if (actions.length) box.append(...actions.map(({ label, patch }) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.patch = JSON.stringify(patch);  // as the server writes its offer on a refused page (templates/_partials.html)
    return b;
  }));
}
byId("message").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-patch]");
  if (b) change(JSON.parse(b.dataset.patch));
});

/** Change the view state. A patch with step LAST opens its new run at the run's last step: the state holds step 0
 *  until the run shows that step, so no link, URL or export ever carries the sentinel. */
function change(patch) {
  if (patch.step !== LAST) return view.update(patch);
  openAtLast = true;
  try { view.update({ ...patch, step: 0 }); } finally { openAtLast = false; }
}

/** What the page offers for characters a vocabulary lacks (the server's error code unknown_characters, its data the
 *  characters and the unknown token): to skip them, to lowercase the text (when that is all it takes) or to read them
 *  as the unknown token. (A text model for text at a numbers model is the server's offer.) The message is for people;
 *  the page reads the code. */
function offers(error) {
  const h = trace.header, typed = view.current.input ?? "";
  if (!h || error?.code !== "unknown_characters") return [];
  chrome.showUnknown();  // the choice is in the box's row too, even when the model named never ran
  // read off the error, not the trace's header: a refused model never sent one
  const out = [{ label: tr("Skip the unknown characters"), patch: { unknown: "skip", step: LAST } }];
  const named = (error.data?.missing ?? []).filter((c) => [...c].length === 1);
  if (named.length && named.every((c) => c.toLowerCase() !== c)) out.push({ label: tr("Make it lowercase"), patch: { input: typed.toLowerCase(), step: LAST } });
  if (error.data?.unknown_token != null && view.current.unknown !== "map") out.push({ label: tr("Read them as the unknown token"), patch: { unknown: "map", step: LAST } });
  return out;
}

/** /embed's link opens this very view in the full page. */
function creditLink() {
  const a = document.querySelector(".embed-credit a");
  if (a) a.href = `/?${serialize(view.current, fields)}`;
}

// lesson: a stop opens its view state; in the same run its step is shown at once (a new run opens at it by itself).
// A stop that differs from the view only in what a step change draws (the step, the phase, the pace) is drawn as a
// step change: no view is built anew.
const LESSON_STEP_ONLY = new Set(["step", "phase", "speed", "pace"]);
function goStop(state) {
  const same = computeParams(state, fields).toString() === computeParams(view.current, fields).toString();
  const changed = Object.keys(state).filter((k) => state[k] !== view.current[k]);
  player.configure({ speed: state.speed, phases: state.phases, pace: state.pace });
  view.update(state, same && run.info && changed.every((k) => LESSON_STEP_ONLY.has(k)) ? "lesson" : "edit");
  if (same && run.info) player.set(state.step, state.phase, "lesson");
}
lesson?.wire(() => view.current);

// The lecture screen (static/gatescope.css): a lesson and /embed are always on it (the server says so in the body's
// class), and so is presenter mode; an ordinary page is on it unless the screen is wide and tall (a media query).
function arrange(state) {
  document.body.classList.toggle("presenter", state.presenter);
  document.body.classList.toggle("stage", state.presenter || Boolean(lesson) || document.body.classList.contains("embed"));
}

function panelsShown(state) {
  panels.show(state, trace.header);
  arrange(state);
  panels.fit();
}
// a resize the page itself announced (fit) is answered too: fit stops once nothing changes
window.addEventListener("resize", debounce(() => panels.fit(), 150));

/** For tests and the page benchmark: the DOM says when the run is drawn and which step is shown. */
function markReady() {
  if (!run.info || !trace.steps) return setTimeout(markReady, 30);
  const id = run.id;
  plotly.then(() => requestAnimationFrame(() => { if (id === run.id) document.body.dataset.ready = "1"; }), () => {});
}

function show(t, phase, source) {
  if (!run.info || !trace.steps) return;
  const playing = source === "play";
  if (source === "user" || playing) follow.on = false;  // the user moved: typing no longer drags the view along
  document.body.dataset.step = String(t);
  document.body.dataset.phase = phase ?? "";
  // the phases box is part of the picture (the phase text says whether phases are on): a change of it redraws the views
  const reason = playing ? "play" : player.phasesOn !== view.current.phases ? "edit" : "step";
  view.update({ step: t, phase: phase ?? null, speed: player.speed, pace: player.pace, phases: player.phasesOn }, reason);
  bus.emit("step", { t, phase, playing });
  const want = plotlyWanted;
  plotlyWanted = null;
  if (want) requestAnimationFrame(() => setTimeout(want, 0));
}

/** The URL of the view state now (a lesson's: ?stop=N and what changed from the stop). */
function here() {
  const query = lesson ? lesson.query(view.current) : serialize(view.current, fields).toString();
  return `${location.pathname}${query ? `?${query}` : ""}`;
}
const syncUrl = debounce(() => history.replaceState(null, "", here()), 120);
/** The same view read again from the server: another language (the page's own words are the server's templates'). */
const reload = () => location.assign(here());

/** The views redrawn from the steps so far (at most ten times a second), then the step shown again. */
const refresh = throttle(() => {
  if (!run.info || !trace.steps) return;
  bus.emit("data", trace);
  const t = run.arrived();
  const known = (p) => (player.phases().includes(p) ? p : null);
  if (t !== null) player.set(t, known(follow.phase), "open");
  else if (follow.on) player.set(trace.steps - 1, null, "follow");
  else player.set(player.t, player.phase, "refresh");
}, 100);

/** Every view drawn anew for the run and the view state (a new run, or a change of the picture)... */
function build() {
  trace.show(view.current.clamp_view ?? "clamped");
  bus.emit("build", { kindInfo: shownKind(), header: trace.header, options: view.current });
  select();
}

/** The kind's description as the views draw it: a difference of two runs (held − original) is signed and
 *  unbounded whatever the name, so every name is coloured on a ±max scale then. */
function shownKind() {
  if (trace.shown !== "difference") return run.info;
  const names = run.info.glossary.names.map((n) => ({ ...n, range: "real" }));
  return { ...run.info, glossary: { ...run.info.glossary, names } };
}

/** ...then filled with the steps so far, and the gradient flow once the run is complete. */
function redraw() {
  refresh.now();
  fetchWholeRun();
}

/** The gradient flow of a complete run, asked of the server when a shown panel needs it. */
async function fetchWholeRun() {
  const state = view.current;
  // a held run has no backward pass (the server says so): its gradient panel stays empty
  if (!run.info || !trace.complete || trace.flow || state.clamp || !panels.needed("flow", state, trace.header)) return;
  const id = run.id;
  try {
    const body = await fetchFlow(computeParams(state, fields));
    if (id !== run.id) return;
    trace.setFlow([{ label: body.model.card?.title ?? body.model.kind, flow: body.flow }]);
    bus.emit("data", trace);
  } catch (err) {
    message(tr("Gradient flow: {why}", { why: err.message }));
  }
}

function open(state) {
  delete document.body.dataset.ready;
  follow.phase = state.phase;
  follow.on = false;  // a new run opens at its own step (the last one, when typing asked for it)
  if (byId("message").dataset.tone !== "info") message("");  // keep a confirmation ("Loaded ...") past the reload
  const params = computeParams(state, fields);
  if (state.clamp) params.set("clamp_compare", "true");  // the run without the holds too: the views can show either, or the difference
  run.open(params, openAtLast ? LAST : state.step);
}

/** Typing: text that only grows is sent as more steps at once (or as soon as the extension on its way has landed);
 *  anything else reruns, after a pause in the typing or at Enter. Either way the view goes to the newest step, and
 *  follows the text as it grows. */
const typing = { rerun: 0, queued: null };
function typed(text, now = false) {
  clearTimeout(typing.rerun);
  typing.queued = null;
  if (!text) return;
  if (!now && run.append(text)) {
    follow.on = true;
    return view.update({ input: text, step: view.current.step, phase: view.current.phase }, "append");
  }
  if (!now && run.waiting(text)) { typing.queued = text; return; }
  if (text === run.streamed && !now && byId("message").dataset.tone !== "error") return;
  const rerun = () => change({ input: text, step: LAST });
  if (now) rerun();
  else typing.rerun = setTimeout(rerun, 220);
}

/** The run took a typed extension: no error stands, and text typed meanwhile goes next. */
function extended() {
  if (byId("message").dataset.tone === "error") message("");
  if (typing.queued !== null) typed(typing.queued);
}

bus.on("state", ({ state, before, reason }) => {
  if (reason === "edit") {
    panelsShown(state);
    chrome.sync(state, trace.header);
    if (computeParams(state, fields).toString() !== computeParams(before, fields).toString()) open(state);
    else if (run.info) { build(); redraw(); }
  }
  if (reason !== "play") { syncUrl(); creditLink(); whatIf.sync(state, run.info, trace); }
});
bus.on("change", (patch) => view.update(patch));
bus.on("seek", (t) => player.set(t));

// The selection every view lights up: what a view's pointer is over, else the part pinned by a click (pin=NAME or
// pin=NAME[UNIT] in the URL). A click on the pinned part again unpins it.
const PIN = /^([a-z_]+)(?:\[(\d+)\])?$/;
let pointing = null;
function pinned() {
  const m = PIN.exec(view.current.pin ?? "");
  return m ? { name: m[1], pinned: true, ...(m[2] === undefined ? {} : { unit: Number(m[2]) }) } : null;
}
const select = () => bus.emit("hover", pointing ?? pinned());
bus.on("point", (p) => { pointing = p; select(); });
bus.on("pin", (sel) => {
  const text = `${sel.name}${sel.unit === undefined ? "" : `[${sel.unit}]`}`;
  view.update({ pin: view.current.pin === text ? null : text }, "select");
  select();
});

const trainDialog = byId("train-dialog");
if (trainDialog) {
  const trainer = createTrainer(trainDialog, { config, getState: () => view.current, onOpenModel: (id) => view.update({ model: id, input: null, input_type: null }) });
  document.querySelector('[data-control="train-open"]').addEventListener("click", () => trainer.open());
}
panelsShown(view.current);
player.configure({ speed: view.current.speed, phases: view.current.phases, pace: view.current.pace });
chrome.sync(view.current, null);
if (!config.refused) open(view.current);  // a refused link: the server's message is on the page until the view is changed

// for the browser tests and the page benchmark
// frame(): any frame of the flow animation, exactly (an export renders with it, a test asks for one)
const frame = (t, phase, progress) => { player.set(t, phase, "frame"); bus.emit("move", { t, phase, progress }); };
window.gatescope = { trace, player, frame, get state() { return view.current; }, get ready() { return run.ready; } };
