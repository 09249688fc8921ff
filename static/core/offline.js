// The page's server, answered from the file itself: a standalone page (app/standalone.py) or the notebook widget
// holds one run (its stream's header and rows, its gradient flow) in <script id="gatescope-trace">, and its import
// map puts this module where core/stream.js and core/api.js would be. The page's own modules run unchanged: the run
// gets exactly what the WebSocket would have sent (header, rows, summary), and anything else that needs a server says
// so. plotly.js comes from the file too, through core/plotly.js (its gzipped block, <script id="gatescope-plotly">).

import { tr } from "gatescope/core/i18n.js";

const NEEDS_SERVER = tr("this file holds one run (every layer and direction of it); to see another model, input or option, open it in gatescope (gatescope serve)");

let held = null;
/** The file's run: {state, flow, runs}; each of runs (the shown layer and direction first, then the model's others)
 *  is what the stream would send for it: {header, rows, summary}, its rows decoded when first asked for. */
function payload() {
  if (held) return held;
  const body = JSON.parse(document.getElementById("gatescope-trace").textContent);
  const runs = [body, ...(body.others ?? [])].map(({ header, rows, summary }) => ({ header, rows, summary }));
  held = { state: body.state, flow: body.flow, flowError: body.flow_error, runs };
  return held;
}

function decoded(run) {
  if (typeof run.rows === "string") {
    const bytes = Uint8Array.from(atob(run.rows), (c) => c.charCodeAt(0));  // float32, little-endian (app/wire.py)
    run.rows = new Float32Array(bytes.buffer);
  }
  return run;
}

/** The run a stream's query asks for: the file's own, or one of its other layers or directions (the layer and
 *  direction pickers); null for anything else. A field the query leaves out is the file's (its state's defaults). */
const STACK = ["layer", "direction"];
let first = null;
function runFor(params) {
  const rest = new URLSearchParams(params);
  for (const name of STACK) rest.delete(name);
  first ??= rest.toString();
  if (rest.toString() !== first) return null;
  const { state, runs } = payload(), layers = runs[0].header.model.num_layers;
  const asked = (name) => Number(params.get(name) ?? state[name] ?? 0);
  const layer = asked("layer") < 0 ? layers + asked("layer") : asked("layer");
  return runs.find((r) => r.header.layer === layer && r.header.direction === asked("direction")) ?? null;
}

/** core/stream.js's openStream: the run the query asks for, if the file holds it; anything else is refused the way
 *  the server refuses a request, so the page shows why. */
export function openStream(params, handlers) {
  const timer = setTimeout(() => {
    const run = runFor(params);
    if (!run) return handlers.error({ status: 0, detail: NEEDS_SERVER });
    const { header, rows, summary } = decoded(run);
    handlers.header(header);
    handlers.rows(0, rows, header.steps);
    handlers.summary(summary);
  }, 0);
  return { append: () => false, close: () => clearTimeout(timer) };
}

export function socketUrl() {
  throw new Error(NEEDS_SERVER);
}

/** core/api.js: the gradient flow is in the file (unless the server would have refused it too); nothing else is. */
export async function fetchFlow() {
  const { flow, flowError, runs } = payload(), header = runs[0].header;
  if (!flow) throw new Error(tr("this file holds no gradient flow: {why}", { why: flowError ?? tr("it was written without it") }));
  return { flow, model: header.model };
}

export async function fetchJson() {
  throw new Error(NEEDS_SERVER);
}
