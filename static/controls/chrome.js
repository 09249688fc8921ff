// The page's controls around the views: which model, its options, the input, uploads, links and exports.
// Every control edits the view state through onChange(changes); nothing here draws data.

import { fetchJson } from "../core/api.js";
import { serialize } from "../core/state.js";
import { assumedText } from "../core/text.js";

const $ = (root, sel) => root.querySelector(sel);

export function createChrome(root, { config, getState, onChange, onTyping, onMessage }) {
  if (!root) return { sync() {}, setKindOptions() {} };
  const source = $(root, '[data-control="source"]');
  const randomBox = $(root, '[data-control="random"]');
  const optionsBox = $(root, '[data-control="kind-options"]');
  const input = $(root, '[data-control="input"]');
  const inputType = $(root, '[data-control="input-type"]');

  // -- which model -----------------------------------------------------------------
  const presets = document.createElement("optgroup");
  presets.label = "Trained presets";
  for (const p of config.presets) presets.append(new Option(p.card?.title ? `${p.card.title}` : p.name, `preset:${p.name}`));
  const kinds = document.createElement("optgroup");
  kinds.label = "Random weights";
  for (const k of config.kinds) kinds.append(new Option(k.title, `kind:${k.name}`));
  const uploaded = document.createElement("optgroup");
  uploaded.label = "Your models";
  if (config.presets.length) source.append(presets);
  source.append(kinds, uploaded);
  source.addEventListener("change", () => {
    const [what, value] = source.value.split(":");
    onChange({ [what]: value, input: null, input_type: null });
  });

  for (const name of ["hidden", "layers", "seed"]) {
    $(root, `[data-control="${name}"]`).addEventListener("change", (e) => {
      const v = Number(e.target.value);
      if (Number.isInteger(v) && v >= Number(e.target.min || 0)) onChange({ [name]: v });
    });
  }
  $(root, '[data-control="bidirectional"]').addEventListener("change", (e) => onChange({ bidirectional: e.target.checked }));

  // -- the input -------------------------------------------------------------------------
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
  inputType.addEventListener("change", () => onChange({ input_type: inputType.value, input: null }));

  // -- upload ------------------------------------------------------------------------------
  $(root, '[data-control="upload"]').addEventListener("change", async (e) => {
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

  // -- links and exports --------------------------------------------------------------------
  const link = () => `${location.origin}/?${serialize(getState(), config.fields)}`;
  const embedCode = () => `<iframe src="${location.origin}/embed?${serialize(getState(), config.fields)}" width="960" height="600" style="border:0" loading="lazy" title="gatescope"></iframe>`;
  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      onMessage(`${what} copied.`, "info");
    } catch {
      const box = $(root, '[data-control="copy-box"]');
      box.hidden = false;
      box.value = text;
      box.select();
      onMessage(`Select and copy the ${what.toLowerCase()} below.`, "info");
    }
  }
  $(root, '[data-control="copy-link"]').addEventListener("click", () => copy(link(), "Link"));
  $(root, '[data-control="copy-embed"]').addEventListener("click", () => copy(embedCode(), "Embed code"));
  for (const fmt of ["csv", "npz"]) {
    $(root, `[data-control="export-${fmt}"]`).addEventListener("click", () => {
      const params = serialize({ ...getState(), format: fmt }, config.fields);
      location.assign(`/api/trace?${params}`);
    });
  }
  $(root, '[data-control="export-png"]').addEventListener("click", () => {
    Plotly.downloadImage(document.getElementById("diagram"), { format: "png", filename: "gatescope-cell", scale: 2 });
  });
  $(root, '[data-control="presenter"]').addEventListener("change", (e) => onChange({ presenter: e.target.checked }));
  $(root, '[data-control="palette"]').addEventListener("change", (e) => onChange({ palette: e.target.value }));
  root.querySelectorAll('[data-panel-toggle]').forEach((box) => box.addEventListener("change", () => {
    const panels = [...root.querySelectorAll("[data-panel-toggle]")].filter((b) => b.checked).map((b) => b.dataset.panelToggle);
    onChange({ panels: panels.join(",") });
  }));

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
    randomBox.hidden = !(state.kind || (!state.preset && !state.model && !config.presets.some((p) => p.name === config.default_preset)));
    $(root, '[data-control="hidden"]').value = state.hidden;
    $(root, '[data-control="layers"]').value = state.layers;
    $(root, '[data-control="seed"]').value = state.seed;
    $(root, '[data-control="bidirectional"]').checked = state.bidirectional;
    if (header && document.activeElement !== input) input.value = header.request.input;
    if (header) inputType.value = header.request.input_type;
    $(root, '[data-control="presenter"]').checked = state.presenter;
    $(root, '[data-control="palette"]').value = state.palette;
    const shown = new Set(state.panels.split(","));
    root.querySelectorAll("[data-panel-toggle]").forEach((b) => { b.checked = shown.has(b.dataset.panelToggle); });
  }

  /** The chosen kind's own options (nonlinearity, reset_after, ...) as inputs. */
  function setKindOptions(options, state) {
    optionsBox.replaceChildren();
    for (const o of options) {
      const label = document.createElement("label");
      label.title = o.doc;
      label.append(`${o.name} `);
      let el;
      const current = state[o.name] ?? o.default;
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
      label.append(el);
      optionsBox.append(label);
    }
  }

  return { sync, setKindOptions };
}
