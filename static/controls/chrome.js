// The page's controls around the views: which model, its options, the input, uploads, links and exports.
// Every control edits the view state through onChange(changes); nothing here draws data.

import { fetchJson } from "../core/api.js";
import { serialize } from "../core/state.js";
import { assumedText } from "../core/text.js";

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
  const presets = group("Trained presets", config.presets.map((p) => new Option(p.card?.title ? `${p.card.title}` : p.name, `preset:${p.name}`)));
  const kinds = group("Random weights", config.kinds.map((k) => new Option(k.title, `kind:${k.name}`)));
  const uploaded = group("Your models", []);
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

/** The input: typing is sent after a pause (or at Enter); its type reruns at once. */
function inputBox(root, onChange, onTyping) {
  const input = control(root, "input");
  let typingTimer = 0;
  input.addEventListener("input", () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => onTyping(input.value), 220);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      clearTimeout(typingTimer);
      onTyping(input.value, true);
    }
  });
  const inputType = control(root, "input-type");
  inputType.addEventListener("change", () => onChange({ input_type: inputType.value, input: null }));
  return { input, inputType };
}

/** Upload a model file: checked against the server's limit first, then opened as the view's model. */
function uploads(root, config, onChange, onMessage) {
  control(root, "upload").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > config.limits.max_upload_bytes) {
      onMessage(`${file.name} is ${file.size} bytes; the server takes at most ${config.limits.max_upload_bytes}.`);
      return;
    }
    onMessage(`Uploading ${file.name}…`, "info");
    try {
      const body = await fetchJson("/api/models", { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      onMessage(`Loaded ${file.name}: ${body.kind}, hidden ${body.hidden_size}.${assumedText(body.assumed)}`, "info");
      onChange({ model: body.id, input: null, input_type: null });
    } catch (err) {
      onMessage(`Upload failed: ${err.message}`);
    }
  });
}

/** Links, embed code and exports of the current view. */
function links(root, config, getState, onMessage) {
  const query = (extra) => serialize({ ...getState(), ...extra }, config.fields);
  const embedCode = () => `<iframe src="${location.origin}/embed?${query()}" width="960" height="600" style="border:0" loading="lazy" title="gatescope"></iframe>`;
  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      onMessage(`${what} copied.`, "info");
    } catch {
      const box = control(root, "copy-box");
      box.hidden = false;
      box.value = text;
      box.select();
      onMessage(`Select and copy the ${what.toLowerCase()} below.`, "info");
    }
  }
  control(root, "copy-link").addEventListener("click", () => copy(`${location.origin}/?${query()}`, "Link"));
  control(root, "copy-embed").addEventListener("click", () => copy(embedCode(), "Embed code"));
  for (const fmt of ["csv", "npz"]) {
    control(root, `export-${fmt}`).addEventListener("click", () => location.assign(`/api/trace?${query({ format: fmt })}`));
  }
  control(root, "export-png").addEventListener("click", () => {
    Plotly.downloadImage(document.getElementById("diagram"), { format: "png", filename: "gatescope-cell", scale: 2 });
  });
}

/** The View menu: presenter mode, palette, and which panels are shown (a checkbox for each the views declare). */
function viewMenu(root, panels, onChange) {
  panels.toggles(control(root, "panels"));
  control(root, "presenter").addEventListener("change", (e) => onChange({ presenter: e.target.checked }));
  control(root, "palette").addEventListener("change", (e) => onChange({ palette: e.target.value }));
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
    el.placeholder = o.nullable ? "none" : "";
    el.addEventListener("change", () => {
      if (el.value === "" && o.nullable) return onChange({ [o.name]: null });
      const v = Number(el.value);
      if (Number.isFinite(v)) onChange({ [o.name]: v });
    });
  }
  el.dataset.option = o.name;
  return el;
}

export function createChrome(root, { config, panels, getState, onChange, onTyping, onMessage }) {
  if (!root) return { sync() {}, setKindOptions() {} };
  const { source, presets, uploaded } = modelPicker(root, config, onChange);
  const { input, inputType } = inputBox(root, onChange, onTyping);
  uploads(root, config, onChange, onMessage);
  links(root, config, getState, onMessage);
  viewMenu(root, panels, onChange);

  /** Show the state in the controls (after a change, or when the page opens). */
  function sync(state, header) {
    const value = state.model ? `model:${state.model}` : state.preset ? `preset:${state.preset}` : state.kind ? `kind:${state.kind}` : `preset:${config.default_preset}`;
    if (state.model && !uploaded.querySelector(`option[value="model:${state.model}"]`)) {
      uploaded.append(new Option(`uploaded ${state.model.slice(0, 8)}`, `model:${state.model}`));
    }
    if (state.preset && !source.querySelector(`option[value="preset:${CSS.escape(state.preset)}"]`)) {
      presets.append(new Option(`${state.preset} (not found)`, `preset:${state.preset}`));  // say what the link asked for
    }
    source.value = value;
    if (source.value !== value && header) source.value = `kind:${header.model.kind}`;
    control(root, "random").hidden = !(state.kind || (!state.preset && !state.model && !config.presets.some((p) => p.name === config.default_preset)));
    for (const name of ["hidden", "layers", "seed"]) control(root, name).value = state[name];
    control(root, "bidirectional").checked = state.bidirectional;
    if (header && document.activeElement !== input) input.value = header.request.input;
    if (header) inputType.value = header.request.input_type;
    control(root, "presenter").checked = state.presenter;
    control(root, "palette").value = state.palette;
    const shown = new Set(state.panels.split(","));
    root.querySelectorAll("[data-panel-toggle]").forEach((b) => { b.checked = shown.has(b.dataset.panelToggle); });
  }

  /** The chosen kind's own options as inputs. */
  function setKindOptions(options, state) {
    const box = control(root, "kind-options");
    box.replaceChildren(...options.map((o) => {
      const label = document.createElement("label");
      label.title = o.doc;
      label.append(`${o.name} `, optionInput(o, state[o.name] ?? o.default, onChange));
      return label;
    }));
  }

  return { sync, setKindOptions };
}
