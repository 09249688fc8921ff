// plotly.js, loaded when it is first needed rather than by the page's HTML: it takes a moment to parse and run,
// and the cell diagram (plain SVG) is drawn before it. The charts (heatmaps, lines, ...) declare that they need it
// (static plotly = true on the view); core/bus.js mount() holds their calls until it is here. It is plotly.js's
// partial "cartesian" bundle (static/vendor/plotly/), which holds the heatmap, scatter and bar traces the views draw.
// The server serves it; a standalone file or the notebook widget (app/standalone.py) carries it gzipped, as base64,
// in <script type="text/plain" id="gatescope-plotly"> at its end, run from a blob: URL (the file's CSP allows no other).

import { tr } from "gatescope/core/i18n.js";

const SRC = "/vendor/plotly.min.js";  // static/vendor/plotly/ (app/main.py)
let loading = null;

/** The whole document is read: a standalone file's copy of plotly.js is at its end, after the page has started. */
const parsed = () => new Promise((resolve) => {
  if (document.readyState !== "loading") resolve();
  else document.addEventListener("DOMContentLoaded", resolve, { once: true });
});

/** Where plotly.js is: the server's URL, or a blob: URL of the file's own copy, unzipped. */
async function source() {
  await parsed();
  const copy = document.getElementById("gatescope-plotly");
  if (!copy) return SRC;
  const gzipped = Uint8Array.from(atob(copy.textContent), (c) => c.charCodeAt(0));
  const text = new Blob([gzipped]).stream().pipeThrough(new DecompressionStream("gzip"));
  return URL.createObjectURL(new Blob([await new Response(text).arrayBuffer()], { type: "text/javascript" }));
}

function run(src) {
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src, async: true });
    script.addEventListener("load", () => resolve(globalThis.Plotly));
    script.addEventListener("error", () => reject(new Error(`${src === SRC ? SRC : "the file's copy"} did not run`)));
    document.head.append(script);
  }).finally(() => { if (src !== SRC) URL.revokeObjectURL(src); });
}

/** A promise of the global Plotly, loading it once (the compare page has it in its HTML already). */
export function loadPlotly() {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  loading ??= source().then(run).catch((cause) => {
    loading = null;
    throw new Error(tr("plotly.js did not load"), { cause });
  });
  return loading;
}
