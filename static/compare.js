// The compare page: the same input through two to five models, side by side, one cursor for all.
// Each model has its own stream and trace; the player steps them together. The ablation ladder is the longest chain of
// kinds each simplifying the one before (Kind.simplifies: LSTM → GRU → minGRU → ...); a column whose kind simplifies
// the previous column's says in one line which arrow it removed.

import { fetchFlow } from "gatescope/core/api.js";
import { createBus } from "gatescope/core/bus.js";
import { local, tr } from "gatescope/core/i18n.js";
import { Gradients } from "gatescope/views/gradients.js";
import { Heatmaps } from "gatescope/views/heatmaps.js";
import { createPlayer } from "gatescope/controls/player.js";
import { computeParams, createViewState, parse, serialize } from "gatescope/core/state.js";
import { createTrace } from "gatescope/core/trace.js";
import { openStream } from "gatescope/core/stream.js";
import { errorText, showToken } from "gatescope/core/text.js";
import { Tokens } from "gatescope/views/tokens.js";

const config = JSON.parse(document.getElementById("gatescope-config").textContent);
const fields = config.fields;
const byId = (id) => document.getElementById(id);
const bus = createBus();
const view = createViewState(parse(new URLSearchParams(location.search), fields), fields, bus);
let columns = [], opened = 0;
const MAX_COLUMNS = 5;

const tokens = new Tokens(byId("tokens"), bus);
const gradients = new Gradients(byId("gradients"), bus);
const player = createPlayer({
  el: document.querySelector(".player"),
  steps: () => Math.min(...columns.map((c) => c.trace.steps)),
  phaseNames: () => [],
  onShow: show,
});

function message(text) {
  const box = byId("message");
  box.textContent = text;
  box.classList.remove("refused");  // the page's refused link, rendered by the server, is replaced
  box.hidden = !text;
}

/** The ablation ladder: the longest chain of registered kinds, each simplifying the one before (the first in the
 *  registry's order where two are as long), as compare= sources. */
export function ladder(kinds) {
  const parent = Object.fromEntries(kinds.map((k) => [k.name, k.simplifies]));
  const chain = (name) => (parent[name] && parent[name] in parent ? [...chain(parent[name]), name] : [name]);
  const chains = kinds.map((k) => chain(k.name));
  const longest = chains.reduce((best, c) => (c.length > best.length ? c : best), []);
  return longest.slice(-MAX_COLUMNS).map((name) => `kind:${name}`);
}

/** Each column's caption: what its kind removed, where it simplifies the kind of the column before it. */
function captions() {
  columns.forEach((col, i) => {
    const info = col.header?.kind_info, before = columns[i - 1]?.header?.kind_info;
    const removed = info?.simplifies && before && info.simplifies.kind === before.name ? local(info, "removed") ?? info.simplifies.removed : "";
    col.removed.textContent = removed ? `− ${removed}` : "";
    col.removed.hidden = !removed;
  });
}

/** "preset:remember-lstm" -> the query of that model on the shared input. */
function paramsFor(source) {
  const [what, value] = source.split(":");
  const base = { ...view.current, kind: null, preset: null, model: null, [what]: value, step: 0 };
  return computeParams(base, fields);
}

/** Which names a compact column shows: the learned gate that keeps (else writes) the memory, or else the gate that
 *  keeps it however it is made (minLSTM's f′ = f / (f + i)), the memory, and h. */
function compactNames(info) {
  const by = Object.fromEntries(info.glossary.names.map((n) => [n.name, n]));
  const { keep, write, mem } = info.memory;
  const gates = [keep, write].filter((n) => by[n]?.role === "gate");
  const gate = gates.find((n) => by[n].op === "sigmoid") ?? gates[0];
  return [...new Set([gate, mem, "h"])].filter((n) => by[n]);
}

function show(t) {
  document.body.dataset.step = String(t);
  for (const c of columns) {
    c.heatmaps.show(t);
    if (c.trace.has("prediction") && c.header?.prediction?.head === "softmax") {
      const p = c.trace.value("prediction", t);
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
      c.verdict.textContent = tr("predicts {token} ({p}%)", { token: JSON.stringify(showToken(c.header.prediction.labels[best])), p: (p[best] * 100).toFixed(0) });
    }
  }
  if (columns[0]?.trace.steps) tokens.show(t);
  gradients.show(t);
  syncUrl();
}

function syncUrl() {
  history.replaceState(null, "", `/compare?${serialize(view.current, fields)}`);
}

function open() {
  const id = ++opened, state = view.current;
  message("");  // a new set of columns: what was refused before no longer applies
  for (const c of columns) c.stream.close();
  delete document.body.dataset.ready;
  byId("columns").replaceChildren();
  const sources = state.compare.split(",");
  let finished = 0;
  columns = sources.map((source) => {
    const el = document.createElement("section");
    el.className = "panel column";
    el.innerHTML = '<h2></h2><p class="removed" hidden></p><div class="verdict"></div><div class="heat"></div>';
    byId("columns").append(el);
    const col = { source, el, trace: createTrace(), header: null, verdict: el.querySelector(".verdict"), removed: el.querySelector(".removed"),
      heatmaps: new Heatmaps(el.querySelector(".heat"), bus) };
    col.stream = openStream(paramsFor(source), {
      header(h) {
        col.header = h;
        col.trace.reset(h);
        el.querySelector("h2").textContent = local(h.model.title, "text");  // app/wire.py title: the page's words for it
        if (id !== opened) return;
        captions();
        const info = h.kind_info;
        col.heatmaps.build(info, h, { palette: state.palette, presenter: state.presenter, names: compactNames(info) });
        col.built = true;
        if (col.done) col.heatmaps.update(col.trace);  // the steps came before the drawing was ready
      },
      rows(t0, rows, count) { col.trace.append(t0, rows, count); },
      tokens() {},
      async summary() {
        col.done = true;
        if (col.built) col.heatmaps.update(col.trace);
        if (++finished < columns.length || id !== opened) return;
        const first = columns[0];
        const input = document.querySelector('[data-control="input"]');
        if (document.activeElement !== input) input.value = first.header.request.input;
        tokens.build(null, first.header, { color_unit: null });
        tokens.update(first.trace);
        tokens.show(0);
        player.set(state.step);
        document.body.dataset.ready = "1";
        try {
          const flows = await Promise.all(columns.map((c) => fetchFlow(paramsFor(c.source))));
          gradients.build(null, null, { palette: state.palette, presenter: state.presenter, flowKeys: ["h"] });
          gradients.update({ flow: flows.map((f, i) => ({ label: local(columns[i].header.model.title, "text"), flow: f.flow })) });
        } catch (err) {
          message(tr("Gradient flow: {why}", { why: err.message }));
        }
      },
      error(e) { message(`${source}: ${errorText(e.detail)}`); },
    });
    return col;
  });
}

// -- the model pickers and the shared input --------------------------------------------------
function pickers() {
  const box = document.querySelector('[data-control="models"]'), state = view.current;
  box.replaceChildren();
  const sources = state.compare.split(",");
  sources.forEach((source, i) => {
    const select = document.createElement("select");
    select.setAttribute("aria-label", tr("model {i}", { i: i + 1 }));
    for (const p of config.presets) select.append(new Option(local(p.card, "title") ?? p.name, `preset:${p.name}`));
    for (const k of config.kinds) select.append(new Option(tr("{kind} (random)", { kind: local(k, "title") }), `kind:${k.name}`));
    if (source.startsWith("model:")) select.append(new Option(tr("uploaded {id}", { id: source.slice(6, 14) }), source));
    select.value = source;
    select.addEventListener("change", () => { sources[i] = select.value; change({ compare: sources.join(",") }); });
    box.append(select);
    if (sources.length > 2) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", tr("remove model {i}", { i: i + 1 }));
      remove.addEventListener("click", () => change({ compare: sources.filter((_, k) => k !== i).join(",") }));
      box.append(remove);
    }
  });
  if (sources.length < MAX_COLUMNS) {
    const add = document.createElement("button");
    add.type = "button";
    add.textContent = `+ ${tr("model")}`;
    add.addEventListener("click", () => change({ compare: [...sources, sources[sources.length - 1]].join(",") }));
    box.append(add);
  }
  const rungs = ladder(config.kinds);
  if (rungs.length > 2) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.control = "ladder";
    button.textContent = tr("Ablation ladder");
    button.title = tr("One kind per column, each with one arrow less than the one before: {kinds}",
      { kinds: rungs.map((r) => r.slice(5)).join(" → ") });
    button.addEventListener("click", () => change({ compare: rungs.join(",") }));
    box.append(button);
  }
}

function change(changes) {
  view.update(changes);
}
bus.on("state", () => {
  pickers();
  open();
});

const input = document.querySelector('[data-control="input"]');
input.addEventListener("change", () => change({ input: input.value || null, step: view.current.step }));
document.querySelector('[data-control="copy-link"]').addEventListener("click", async () => {
  const link = `${location.origin}/compare?${serialize(view.current, fields)}`;
  try {
    await navigator.clipboard.writeText(link);
  } catch {
    const box = document.querySelector('[data-control="copy-box"]');
    box.hidden = false;
    box.value = link;
    box.select();
  }
});
bus.on("seek", (t) => player.set(t));
player.configure({ speed: view.current.speed, phases: false });
pickers();
if (!config.refused) open();  // a refused link: the server's message is on the page until a model is picked
window.gatescope = { player, get columns() { return columns; }, get state() { return view.current; } };
