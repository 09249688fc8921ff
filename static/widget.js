// The notebook widget's front end (gatescope/widget.py, an anywidget): the standalone page (app/standalone.py) in
// an iframe, so the page's own modules draw it exactly as they draw the page and a file, keys and all, and the
// notebook's own page and styles are left alone. The model carries the file without its run (_shell, the same
// for every widget), the page's config for the run's view state (_config) and the run (payload: its view state,
// stream header and rows); they are put into the shell's two slots here, as app/standalone.py fill() does.

const CONFIG_OPEN = '<script type="application/json" id="gatescope-config">';
const TRACE_SLOT = "/*gatescope-trace*/";  // app/standalone.py TRACE_SLOT

/** JSON that stays inside its <script> element whatever its strings hold ("</script>", "<!--"): every < escaped. */
const inert = (value) => JSON.stringify(value).replaceAll("<", "\\u003c");

/** The standalone page of the model's run. */
export function pageOf(model) {
  const shell = model.get("_shell"), start = shell.indexOf(CONFIG_OPEN) + CONFIG_OPEN.length;
  if (start < CONFIG_OPEN.length) throw new Error("the widget's page has no config slot");
  const end = shell.indexOf("</script>", start);
  const page = shell.slice(0, start) + inert(model.get("_config")) + shell.slice(end).replace(TRACE_SLOT, () => inert(model.get("payload")));
  return page.replace('<p class="standalone-note"', '<p class="standalone-note" hidden');  // the file's note: noise in a notebook
}

function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.className = "gatescope-widget";
  frame.title = "gatescope";
  frame.style.cssText = "width: 100%; border: 0; display: block;";
  const size = () => { frame.style.height = `${model.get("height")}px`; };
  // the page as a blob: URL rather than srcdoc: Chromium parses a navigated document as it streams in, and a 6 MB
  // srcdoc attribute on the main thread at once (2.3 s to the drawn diagram, against 0.5 s)
  // srcdoc stays the way where a notebook's own policy refuses blob: frames (a violation names the blob)
  let url = null, srcdoc = false;
  const draw = () => {
    if (url) URL.revokeObjectURL(url);
    url = null;
    if (srcdoc) { frame.srcdoc = pageOf(model); return; }
    url = URL.createObjectURL(new Blob([pageOf(model)], { type: "text/html" }));
    frame.src = url;
  };
  const refused = (e) => { if (!srcdoc && String(e.blockedURI).startsWith("blob")) { srcdoc = true; draw(); } };
  document.addEventListener("securitypolicyviolation", refused);
  size();
  draw();
  el.replaceChildren(frame);
  model.on("change:payload", draw);
  model.on("change:_config", draw);
  model.on("change:height", size);
  return () => {
    model.off?.("change:payload", draw);
    model.off?.("change:_config", draw);
    model.off?.("change:height", size);
    if (url) URL.revokeObjectURL(url);
    document.removeEventListener("securitypolicyviolation", refused);
  };
}

export default { render };
