// The page's controls around the views: which model, its options, the input, uploads, links and exports.
// Every control edits the view state through onChange(changes); nothing here draws data.

import { serialize } from "gatescope/core/state.js";
import { savePng, saveSvg } from "gatescope/controls/diagram-export.js";
import { uploads } from "gatescope/controls/upload.js";
import { local, tr } from "gatescope/core/i18n.js";

const $ = (root, sel) => root.querySelector(sel);
const control = (root, name) => $(root, `[data-control="${name}"]`);

function group(label, options) {
  const g = document.createElement("optgroup");
  g.label = label;
  g.append(...options);
  return g;
}

/** The model picker: trained presets, random weights of each kind, and the models uploaded here. */
function modelPicker(root, config, onChange) {
  const source = control(root, "source");
  const presets = group(tr("Trained presets"), config.presets.map((p) => new Option(p.card?.title ? local(p.card, "title") : p.name, `preset:${p.name}`)));
  const kinds = group(tr("Random weights"), config.kinds.map((k) => new Option(local(k, "title"), `kind:${k.name}`)));
  const uploaded = group(tr("Your models"), []);
  if (config.presets.length) source.append(presets);
  source.append(kinds, uploaded);
  source.addEventListener("change", () => {
    const [what, value] = source.value.split(":");
    onChange({ [what]: value, input: null, input_type: null });
  });
  for (const name of ["hidden", "layers", "seed"]) {
    control(root, name).addEventListener("change", (e) => {
      const v = Number(e.target.value);
      if (Number.isInteger(v) && v >= Number(e.target.min || 0)) onChange({ [name]: v });
    });
  }
  control(root, "bidirectional").addEventListener("change", (e) => onChange({ bidirectional: e.target.checked }));
  return { source, presets, uploaded };
}

/** A vocabulary in a few words: runs such as a-z named as ranges, the rest listed as shown on the token strip. */
function vocabText(tokens) {
  const set = new Set(tokens), parts = [];
  for (const [from, to] of [["a", "z"], ["A", "Z"], ["0", "9"]]) {
    const run = Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i));
    if (run.every((c) => set.has(c))) { parts.push(`${from}–${to}`); run.forEach((c) => set.delete(c)); }
  }
  const rest = [...set].filter((c) => c !== "" && !(c.length > 2 && /^[<[].*[>\]]$/.test(c)));
  return [...parts, ...rest.map((c) => (c === " " ? tr("space") : c === "\n" ? tr("newline") : c))].join(" ");
}

/** What the box takes, for the run's model: the hint under it and an example for its placeholder. */
export function inputHint(header) {
  const type = header.request.input_type, model = header.model, card = model.card ?? {};
  if (type === "signal") {
    return { hint: tr("A signal: a name, a length and settings, e.g. sine 64 period=16 · step 32 at=8 · impulse 20 · noise 50 scale=0.5"),
      example: "sine 64 period=16" };
  }
  if (type === "numbers") {
    const w = model.input_size, steps = (card.example ?? "").split(";").slice(0, 3).map((x) => x.trim()).filter(Boolean);
    const example = steps.length > 1 ? `${steps.join("; ")}; …` : card.example ? `${card.example.split(",").slice(0, 4).join(",")}, …` : w === 1 ? "0.5, -1, 2" : "1 0; 0 1";
    const per = w === 1 ? tr("one number a step, separated by commas") : tr("{w} numbers a step, steps separated by \";\"", { w });
    return { hint: tr("Numbers: {per}.", { per }), example };
  }
  const known = header.vocab ? tr("This model knows {n} characters: {chars}.", { n: header.vocab.filter(Boolean).length, chars: vocabText(header.vocab) })
    : tr("Any character.");
  return { hint: tr("Text: each character is one step. {known}", { known }), example: card.example ? `${card.example.slice(0, 40)}…` : "hello world" };
}

/** The input: every key goes to the page at once (which extends the run, or reruns after a pause), Enter runs it now;
 *  its type reruns at once. */
function inputBox(root, onChange, onTyping) {
  const input = control(root, "input");
  input.addEventListener("input", () => onTyping(input.value));
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") onTyping(input.value, true); });
  const inputType = control(root, "input-type");
  inputType.addEventListener("change", () => onChange({ input_type: inputType.value, input: null }));
  control(root, "unknown").addEventListener("change", (e) => onChange({ unknown: e.target.value }));
  return { input, inputType };
}

/** The hint, the placeholder and the unknown-character choice for the run's model. */
function describeInput(root, header, state) {
  const { hint, example } = inputHint(header);
  control(root, "input").placeholder = tr("e.g. {example}", { example });
  control(root, "input").title = hint;  // the one-line header shows no hint under the box (the wide page does)
  control(root, "input-hint").textContent = hint;
  const vocab = header.request.input_type === "text" && header.model.has_embedding;
  control(root, "unknown-box").hidden = !vocab;
  control(root, "unknown-box").classList.toggle("quiet", state.unknown === "error");
  const unknown = control(root, "unknown");
  unknown.querySelector('option[value="map"]').hidden = !header.unknown_token;
  unknown.querySelector('option[value="map"]').textContent = header.unknown_token ? tr("read as {token}", { token: header.unknown_token }) : tr("read as unknown");
  unknown.value = state.unknown;
}

/** A stacked or bidirectional model's layer and direction, chosen above the diagram (it is there in /embed too). */
export function stackPicker(doc, onChange) {
  const box = doc.querySelector('[data-control="stack"]');
  if (!box) return { sync() {} };
  const layer = box.querySelector('[data-control="layer"]'), direction = box.querySelector('[data-control="direction"]');
  layer.addEventListener("change", () => onChange({ layer: Number(layer.value) }));
  direction.addEventListener("change", () => onChange({ direction: Number(direction.value) }));
  return {
    sync(header) {
      const m = header.model;
      box.hidden = m.num_layers < 2 && !m.bidirectional;
      layer.closest("label").hidden = m.num_layers < 2;
      direction.closest("label").hidden = !m.bidirectional;
      layer.replaceChildren(...Array.from({ length: m.num_layers }, (_, k) =>
        new Option(k === 0 ? tr("{k} of {n} (reads the input)", { k: k + 1, n: m.num_layers }) : k === m.num_layers - 1
          ? tr("{k} of {n} (top)", { k: k + 1, n: m.num_layers }) : tr("{k} of {n}", { k: k + 1, n: m.num_layers }), String(k))));
      layer.value = String(header.layer);
      direction.value = String(header.direction);
    },
  };
}

/** Menus (details.menu) close on an action in them (a button, a file to upload), a click outside, their summary and
 *  Escape; one is open at a time, on screen. A field is not an action: its menu stays open for the next (two panels,
 *  two ticks, one trip; a random model's size and depth). */
function menus(root) {
  const all = [...root.querySelectorAll("details.menu")];
  const close = (m) => { m.open = false; };
  for (const m of all) {
    const body = m.querySelector(".menu-body");
    // opened here rather than by the browser, so that it is placed before it is first painted (toggle comes later)
    m.querySelector("summary").addEventListener("click", (e) => {
      e.preventDefault();
      m.open = !m.open;
      if (!m.open) return;
      all.filter((o) => o !== m).forEach(close);
      body.style.transform = "";
      const r = body.getBoundingClientRect(), room = document.documentElement.clientWidth - 8;
      const dx = r.left < 8 ? 8 - r.left : r.right > room ? room - r.right : 0;  // a phone: keep it on screen
      if (dx) body.style.transform = `translateX(${dx}px)`;
    });
    body.addEventListener("click", (e) => { if (e.target.closest("button")) close(m); });
    // a field in a menu (a panel's box, the palette, a random model's size) is not a choice that closes it: several
    // can be set in one trip; a file chosen to upload is an action, as a button is
    body.addEventListener("change", (e) => { if (e.target.type === "file") close(m); });
  }
  document.addEventListener("click", (e) => all.forEach((m) => { if (m.open && !m.contains(e.target)) close(m); }));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    for (const m of all.filter((x) => x.open)) { close(m); m.querySelector("summary").focus(); }
  });
}

/** A file name that says what was exported: the preset or kind, the input's start, the step (and phase). Pure. */
export function exportName(state, header, ext) {
  const slug = (s, n) => String(s ?? "").toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^[-.]+/, "").slice(0, n).replace(/[-.]+$/, "");
  const model = state.preset ?? (state.model ? `model-${state.model.slice(0, 8)}` : header?.model.kind ?? state.kind ?? "model");
  const stack = [header?.model.num_layers > 1 ? `layer${header.layer + 1}` : "", header?.direction ? "reverse" : ""];
  const parts = ["gatescope", slug(model, 40), ...stack, slug(header?.request.input ?? state.input, 16), `step${state.step}`, slug(state.phase, 20)];
  return `${parts.filter(Boolean).join("-")}.${ext}`;
}

/** The diagram's caption in a file: the model, the step and its input, the phase (as the page's caption says). */
function captionLines(getState, getHeader) {
  const state = getState(), header = getHeader();
  const input = header ? header.request.input : state.input ?? "";
  return [document.getElementById("model-title")?.textContent ?? "gatescope", document.getElementById("caption")?.textContent ?? "",
    tr("input: {input}", { input: input.length > 90 ? `${input.slice(0, 90)}…` : input })];
}

/** The diagram as a PNG or an SVG file, with its caption above it. */
async function diagramFile(format, getState, getHeader) {
  const svg = document.querySelector("#diagram svg");
  if (!svg) throw new Error(tr("the diagram is not drawn yet"));
  const lines = captionLines(getState, getHeader), name = exportName(getState(), getHeader(), format);
  await (format === "png" ? savePng(svg, lines, name) : saveSvg(svg, lines, name));
}

/** A trace download, saved under a name that says what it is (the server's would be trace.csv). */
async function traceFile(url, name, onMessage) {
  try {
    const r = await fetch(url);
    if (!r.ok) throw new Error((await r.json()).detail ?? r.statusText);
    const href = URL.createObjectURL(await r.blob());
    Object.assign(document.createElement("a"), { href, download: name }).click();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  } catch (err) {
    onMessage(tr("Export failed: {why}", { why: err.message }));
  }
}

/** Links, embed code and exports of the current view. */
function links(root, config, getState, getHeader, onMessage) {
  const query = (extra) => serialize({ ...getState(), ...extra }, config.fields);
  const embedCode = () => `<iframe src="${location.origin}/embed?${query()}" width="960" height="600" style="border:0" loading="lazy" title="gatescope"></iframe>`;
  async function copy(text, copied, select) {
    try {
      await navigator.clipboard.writeText(text);
      onMessage(copied, "info");
    } catch {
      const box = control(root, "copy-box");
      box.hidden = false;
      box.value = text;
      box.select();
      onMessage(select, "info");
    }
  }
  control(root, "copy-link").addEventListener("click", () => copy(`${location.origin}/?${query()}`, tr("Link copied."), tr("Select and copy the link below.")));
  control(root, "copy-embed").addEventListener("click", () => copy(embedCode(), tr("Embed code copied."), tr("Select and copy the embed code below.")));
  for (const fmt of ["csv", "npz"]) {
    control(root, `export-${fmt}`).addEventListener("click", () =>
      traceFile(`/api/trace?${query({ format: fmt })}`, exportName(getState(), getHeader(), fmt), onMessage));
  }
  control(root, "export-html").addEventListener("click", async () => {  // the standalone page (app/standalone.py)
    const name = exportName(getState(), getHeader(), "html");
    let failed = false;
    onMessage(tr("Writing the standalone page (about 2 MB: plotly.js travels inside)…"), "info");
    await traceFile(`/api/export/html?${query()}`, name, (text) => { failed = true; onMessage(text); });
    if (!failed) onMessage(tr("Saved {name}: one file that plays in any browser, offline, with no server.", { name }), "info");
  });
  for (const fmt of ["png", "svg"]) {
    control(root, `export-${fmt}`).addEventListener("click", () => diagramFile(fmt, getState, getHeader)
      .catch((err) => onMessage(tr("Export failed: {why}", { why: err.message }))));
  }
}

/** The View menu: presenter mode, palette, and which panels are shown (a checkbox for each the views declare). */
function viewMenu(root, panels, onChange) {
  panels.toggles(control(root, "panels"));
  control(root, "presenter").addEventListener("change", (e) => onChange({ presenter: e.target.checked }));
  control(root, "palette").addEventListener("change", (e) => onChange({ palette: e.target.value }));
  // the page's words are the server's (templates) and the views': another language is the same URL, read again
  control(root, "lang")?.addEventListener("change", (e) => onChange({ lang: e.target.value }, "reload"));
  root.querySelectorAll("[data-panel-toggle]").forEach((box) => box.addEventListener("change", () => {
    const panels = [...root.querySelectorAll("[data-panel-toggle]")].filter((b) => b.checked).map((b) => b.dataset.panelToggle);
    onChange({ panels: panels.join(",") });
  }));
}

/** One of the chosen kind's own options (nonlinearity, reset_after, ...) as an input. */
function optionInput(o, current, onChange) {
  let el;
  if (o.type === "bool") {
    el = document.createElement("input");
    el.type = "checkbox";
    el.checked = Boolean(current);
    el.addEventListener("change", () => onChange({ [o.name]: el.checked }));
  } else if (o.choices) {
    el = document.createElement("select");
    for (const c of o.choices) el.append(new Option(c, c));
    el.value = current;
    el.addEventListener("change", () => onChange({ [o.name]: el.value }));
  } else {
    el = document.createElement("input");
    el.type = "number";
    el.step = o.type === "int" ? "1" : "any";
    if (o.minimum !== null) el.min = String(o.minimum);
    el.value = current ?? "";
    el.placeholder = o.nullable ? tr("none") : "";
    el.addEventListener("change", () => {
      if (el.value === "" && o.nullable) return onChange({ [o.name]: null });
      const v = Number(el.value);
      if (Number.isFinite(v)) onChange({ [o.name]: v });
    });
  }
  el.dataset.option = o.name;
  return el;
}

export function createChrome(root, { config, panels, getState, getHeader, onChange, onTyping, onMessage }) {
  if (!root) return { sync() {}, setKindOptions() {}, showUnknown() {} };
  const { source, presets, uploaded } = modelPicker(root, config, onChange);
  const { input, inputType } = inputBox(root, onChange, onTyping);
  uploads(control(root, "upload"), config, onChange, onMessage);
  links(root, config, getState, getHeader, onMessage);
  viewMenu(root, panels, onChange);
  menus(root);

  /** Show the state in the controls (after a change, or when the page opens). */
  function sync(state, header) {
    const value = state.model ? `model:${state.model}` : state.preset ? `preset:${state.preset}` : state.kind ? `kind:${state.kind}` : `preset:${config.default_preset}`;
    if (state.model && !uploaded.querySelector(`option[value="model:${state.model}"]`)) {
      uploaded.append(new Option(`uploaded ${state.model.slice(0, 8)}`, `model:${state.model}`));
    }
    if (state.preset && !source.querySelector(`option[value="preset:${CSS.escape(state.preset)}"]`)) {
      presets.append(new Option(tr("{preset} (not found)", { preset: state.preset }), `preset:${state.preset}`));  // say what the link asked for
    }
    source.value = value;
    if (source.value !== value && header) source.value = `kind:${header.model.kind}`;
    control(root, "random").hidden = !(state.kind || (!state.preset && !state.model && !config.presets.some((p) => p.name === config.default_preset)));
    for (const name of ["hidden", "layers", "seed"]) control(root, name).value = state[name];
    control(root, "bidirectional").checked = state.bidirectional;
    if (header && document.activeElement !== input) input.value = header.request.input;
    if (header) {
      inputType.value = header.request.input_type;
      describeInput(root, header, state);
    }
    control(root, "presenter").checked = state.presenter;
    control(root, "palette").value = state.palette;
    if (control(root, "lang")) control(root, "lang").value = state.lang;
    const shown = new Set(state.panels.split(","));
    root.querySelectorAll("[data-panel-toggle]").forEach((b) => { b.checked = shown.has(b.dataset.panelToggle); });
  }

  /** The chosen kind's own options as inputs. */
  function setKindOptions(options, state) {
    const box = control(root, "kind-options");
    box.replaceChildren(...options.map((o) => {
      const label = document.createElement("label");
      label.title = local(o, "doc");
      label.append(`${o.name} `, optionInput(o, state[o.name] ?? o.default, onChange));
      return label;
    }));
  }

  return { sync, setKindOptions, showUnknown() { Object.assign(control(root, "unknown-box"), { hidden: false }).classList.remove("quiet"); } };
}
