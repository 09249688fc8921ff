// Uploading a model file (the Model menu's "Upload a model…"): checked against the server's limit, sent as it is, and
// opened as the view's model. When the file cannot say which weights it holds, the server answers with what it
// found (code pick_group: its recurrent groups, each with the kinds it can be; pick_kind: the kinds its shapes fit)
// and the upload dialog (templates/_partials.html upload_dialog) asks for that, and only that, then sends it again.

import { local, tr } from "gatescope/core/i18n.js";
import { assumedText, errorText } from "gatescope/core/text.js";

/** POST the file with the chosen parameters: {ok, body}. */
async function send(file, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const r = await fetch(`/api/models${q.size ? `?${q}` : ""}`, { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
  return { ok: r.ok, body: await r.json() };
}

function options(select, items, label) {
  select.replaceChildren(...items.map((v) => Object.assign(document.createElement("option"), { value: v, textContent: label(v) })));
}

/** The dialog for one refusal: the groups (and each one's kinds), or the kinds and the layout; resolves with the choice. */
function ask(dialog, config, file, refusal, status) {
  const $ = (name) => dialog.querySelector(`[data-upload="${name}"]`);
  const title = (k) => { const info = config.kinds.find((x) => x.name === k); return info ? `${local(info, "title")} (${k})` : k; };
  const groups = refusal.code === "pick_group" ? refusal.data.groups : null;
  $("file").textContent = file.name;
  $("why").textContent = groups ? tr("It holds {n} groups of recurrent weights: pick the one to see.", { n: groups.length })
    : tr("Its weights' shapes fit more than one kind, or none by their names: say which.");
  $("group-row").hidden = !groups;
  $("layout-row").hidden = Boolean(groups);
  const kindsOf = () => (groups ? groups.find((g) => g.prefix === $("group").value)?.kinds : refusal.data.kinds) ?? [];
  if (groups) {
    options($("group"), groups.map((g) => g.prefix), (p) => {
      const kinds = groups.find((g) => g.prefix === p).kinds;
      return `${p} — ${kinds.length ? kinds[0] + (kinds.length > 1 ? ` (${tr("or {kinds}", { kinds: kinds.slice(1).join(", ") })})` : "") : tr("no kind fits")}`;
    });
  } else {
    options($("layout"), refusal.data.layouts, (l) => l);
  }
  const refill = () => { options($("kind"), kindsOf(), title); $("load").disabled = !kindsOf().length; };
  refill();
  $("group").onchange = refill;
  $("status").textContent = status;
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve) => {
    $("load").onclick = () => resolve({ prefix: groups ? $("group").value : null, kind: $("kind").value, layout: groups ? null : $("layout").value });
    dialog.addEventListener("close", () => resolve(null), { once: true });
  });
}

export function uploads(input, config, onChange, onMessage) {
  const dialog = document.getElementById("upload-dialog");
  input.addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > config.limits.max_upload_bytes) {
      onMessage(tr("{file} is {size} bytes; the server takes at most {limit}.", { file: file.name, size: file.size, limit: config.limits.max_upload_bytes }));
      return;
    }
    onMessage(tr("Uploading {file}…", { file: file.name }), "info");
    let params = {}, answer;
    try {
      for (;;) {
        answer = await send(file, params);
        const pick = !answer.ok && ["pick_group", "pick_kind"].includes(answer.body.code);
        if (!pick || !dialog) break;
        // a second refusal of the same kind (a group whose kinds were not enough) says why beside the new question
        const chosen = await ask(dialog, config, file, answer.body, dialog.open ? errorText(answer.body.detail) : "");
        if (!chosen) { onMessage(tr("Upload of {file} cancelled.", { file: file.name }), "info"); return; }
        params = { ...params, ...Object.fromEntries(Object.entries(chosen).filter(([, v]) => v)) };
      }
    } catch (err) {
      answer = { ok: false, body: { detail: err.message } };
    }
    if (dialog?.open) dialog.close();
    if (!answer.ok) { onMessage(tr("Upload failed: {why}", { why: errorText(answer.body.detail) })); return; }
    const body = answer.body;
    onMessage(tr("Loaded {file}: {kind}, hidden {hidden}.", { file: file.name, kind: body.kind, hidden: body.hidden_size }) + assumedText(body.assumed), "info");
    onChange({ model: body.id, input: null, input_type: null });
  });
}
