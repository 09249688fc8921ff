// plotly.js, loaded when it is first needed rather than by the page's HTML: it takes about a second to parse
// and run, and the cell diagram (plain SVG) is drawn before it. The charts (heatmaps, lines, ...) declare that
// they need it (static plotly = true on the view); core/bus.js mount() holds their calls until it is here.

const SRC = "/vendor/plotly.min.js";  // served from the installed plotly Python package (app/main.py)
let loading = null;

/** A promise of the global Plotly, loading its script once (the compare page has it in its HTML already). */
export function loadPlotly() {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  loading ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src: SRC, async: true });
    script.addEventListener("load", () => resolve(globalThis.Plotly));
    script.addEventListener("error", () => { loading = null; reject(new Error("plotly.js did not load")); });
    document.head.append(script);
  });
  return loading;
}
