// The page's server, answered from the file itself: a standalone page (app/standalone.py) or the notebook widget
// holds one run (its stream's header and rows, its gradient flow) in <script id="gatescope-trace">, and its import
// map puts this module where core/stream.js, core/api.js and core/plotly.js would be. The page's own modules run
// unchanged: the run gets exactly what the WebSocket would have sent (header, rows, summary), plotly.js comes from
// the file (<script type="text/plain" id="gatescope-plotly">), and anything else that needs a server says so.

const NEEDS_SERVER = "this file holds one run; to see another model or input, open it in gatescope (gatescope serve)";

let held = null;
/** The run in the file: {header, rows: Float32Array, summary, flow}. */
function payload() {
  if (held) return held;
  const body = JSON.parse(document.getElementById("gatescope-trace").textContent);
  const bytes = Uint8Array.from(atob(body.rows), (c) => c.charCodeAt(0));  // float32, little-endian (app/wire.py)
  held = { ...body, rows: new Float32Array(bytes.buffer) };
  return held;
}

/** core/stream.js's openStream: the first run opened is the file's; a run that asks for anything else is refused
 *  the way the server refuses a request, so the page shows why. */
let first = null;
export function openStream(params, handlers) {
  const query = params.toString();
  first ??= query;
  const timer = setTimeout(() => {
    if (query !== first) return handlers.error({ status: 0, detail: NEEDS_SERVER });
    const { header, rows, summary } = payload();
    handlers.header(header);
    handlers.rows(0, rows, header.steps);
    handlers.summary(summary);
  }, 0);
  return { append: () => false, close: () => clearTimeout(timer) };
}

export function socketUrl() {
  throw new Error(NEEDS_SERVER);
}

/** core/api.js: the gradient flow is in the file (when the run was small enough to have it); nothing else is. */
export async function fetchFlow() {
  const { flow, header } = payload();
  if (!flow) throw new Error("this file was written without the gradient flow (the run was over the server's gradient limit)");
  return { flow, model: header.model };
}

export async function fetchJson() {
  throw new Error(NEEDS_SERVER);
}

/** The whole file is read: the page starts before the parser reaches plotly.js's copy at its end. */
const parsed = () => new Promise((resolve) => {
  if (document.readyState !== "loading") resolve();
  else document.addEventListener("DOMContentLoaded", resolve, { once: true });
});

/** core/plotly.js: plotly.js from the file's inert copy, run once, from a blob: URL (the file's CSP allows no other). */
let loading = null;
export function loadPlotly() {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  loading ??= parsed().then(() => new Promise((resolve, reject) => {
    const text = document.getElementById("gatescope-plotly").textContent;
    const src = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
    const script = Object.assign(document.createElement("script"), { src, async: true });
    script.addEventListener("load", () => { URL.revokeObjectURL(src); resolve(globalThis.Plotly); });
    script.addEventListener("error", () => { loading = null; reject(new Error("plotly.js did not load")); });
    document.head.append(script);
  }));
  return loading;
}
