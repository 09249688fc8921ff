// The notebook widget's front end (gatescope/widget.py, an anywidget). It shows the run's still at once (_still: the
// diagram at the shown step and its numbers, static HTML, app/fallback.py), then the page itself in an iframe, which
// takes the still's place once its diagram is drawn: the page's own modules draw it exactly as they draw the page
// and a standalone file, keys and all, and the notebook's page and styles are left alone.
//
// What the saved notebook keeps of a widget is its synced state, so the state holds the still and little else. The
// page's shell (its modules and plotly.js, app/standalone.py widget_shell) is asked for by a custom message, which is
// not state, and kept here by its id for every other widget of this notebook page; the run goes the same way: the
// page's stream (static/core/kernel.js) posts its requests here, they go on to the kernel, and the kernel's answers
// come back with the rows as binary buffers. With no kernel to answer (a notebook opened from a file, nbviewer),
// the still stays.

const CONFIG_OPEN = '<script type="application/json" id="gatescope-config">';
const DRAWN = "#diagram .cell[data-value]";
const shells = (globalThis.gatescopeShells ??= new Map());  // shell id -> the page without its config

/** JSON that stays inside its <script> element whatever its strings hold ("</script>", "<!--"): every < escaped. */
const inert = (value) => JSON.stringify(value).replaceAll("<", "\\u003c");

/** The widget's page: the shell with the run's config in its slot (as app/standalone.py fill() puts it there). */
export function pageOf(shell, config) {
  const start = shell.indexOf(CONFIG_OPEN) + CONFIG_OPEN.length;
  if (start < CONFIG_OPEN.length) throw new Error("the widget's page has no config slot");
  const page = shell.slice(0, start) + inert(config) + shell.slice(shell.indexOf("</script>", start));
  return page.replace('<p class="standalone-note"', '<p class="standalone-note" hidden');  // the file's note: noise in a notebook
}

/** A buffer of a custom message as an ArrayBuffer of its own (handed to the frame, not copied, when it is one). */
function own(buffer) {
  const view = ArrayBuffer.isView(buffer) ? buffer : new DataView(buffer);
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return whole ? view.buffer : view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

function element(tag, className, css) {
  return Object.assign(document.createElement(tag), { className, style: css });
}

/** The batch's sequence picker (gatescope.show of a batch): a small select, or nothing for one sequence. */
function picker(model, chosen) {
  const names = model.get("sequences") ?? [];
  if (names.length < 2) return null;
  const select = element("select", "gatescope-sequence", "margin: 0 0 4px; font: inherit; font-size: 12px;");
  select.setAttribute("aria-label", "sequence");
  names.forEach((name, i) => select.append(new Option(name, String(i))));
  select.value = String(model.get("sequence"));
  select.addEventListener("change", () => chosen(Number(select.value)));
  return select;
}

/** The iframe and how it is filled: a blob: URL (parsed as it streams in), srcdoc where the notebook's policy refuses
 *  blob: frames (a violation names the blob). */
function pageFrame() {
  const frame = element("iframe", "gatescope-widget", "position: absolute; inset: 0; width: 100%; height: 100%; border: 0; visibility: hidden;");
  frame.title = "gatescope";
  let url = null, srcdoc = false, html = "";
  const load = (page) => {
    html = page;
    if (url) URL.revokeObjectURL(url);
    url = null;
    if (srcdoc) { frame.srcdoc = html; return; }
    url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    frame.src = url;
  };
  const refused = (e) => { if (!srcdoc && String(e.blockedURI).startsWith("blob")) { srcdoc = true; load(html); } };
  document.addEventListener("securitypolicyviolation", refused);
  const close = () => { if (url) URL.revokeObjectURL(url); document.removeEventListener("securitypolicyviolation", refused); };
  return { frame, load, close };
}

function render({ model, el }) {
  const view = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;  // this output's own answers
  const stage = element("div", "gatescope-stage", "position: relative; width: 100%;");
  const still = element("div", "gatescope-still-box", "height: 100%; overflow: auto;");
  const page = pageFrame();
  let watching = null;
  const size = () => { stage.style.height = `${model.get("height")}px`; };
  const restill = () => { still.innerHTML = model.get("_still"); };
  const reveal = (shown) => {
    page.frame.style.visibility = shown ? "visible" : "hidden";
    still.style.display = shown ? "none" : "block";
  };
  const watch = (since = Date.now()) => {  // the frame replaces the still once its diagram holds numbers
    clearTimeout(watching);
    let drawn = false;
    try { drawn = Boolean(page.frame.contentDocument?.querySelector(DRAWN)); } catch { drawn = true; }
    if (drawn) reveal(true);
    else watching = setTimeout(() => watch(since), Date.now() - since < 30_000 ? 50 : 1000);  // no kernel: seldom
  };
  const ask = () => { reveal(false); model.send({ type: "page", view, have: [...shells.keys()] }); };
  const fromKernel = (msg, buffers) => {
    if (msg?.view !== view) return;
    if (msg.type === "page") {
      if (buffers?.length) shells.set(msg.shell, new TextDecoder().decode(own(buffers[0])));
      page.load(pageOf(shells.get(msg.shell), msg.config));
      watch();
      return;
    }
    const rows = buffers?.length ? own(buffers[0]) : null;
    page.frame.contentWindow?.postMessage({ gatescope: { ...msg, rows, answer: true } }, "*", rows ? [rows] : []);
  };
  const fromFrame = (e) => {
    const msg = e.data?.gatescope;
    if (e.source !== page.frame.contentWindow || !msg || msg.answer) return;
    model.send({ type: msg.type, id: msg.id, query: msg.query, view });
  };
  const choose = (i) => { model.set("sequence", i); model.save_changes(); ask(); };
  const select = picker(model, choose);
  size();
  restill();
  stage.append(still, page.frame);
  el.replaceChildren(...(select ? [select] : []), stage);
  addEventListener("message", fromFrame);
  model.on("msg:custom", fromKernel);
  model.on("change:_still", restill);
  model.on("change:height", size);
  ask();
  return () => {
    clearTimeout(watching);
    removeEventListener("message", fromFrame);
    model.off?.("msg:custom", fromKernel);
    model.off?.("change:_still", restill);
    model.off?.("change:height", size);
    page.close();
  };
}

export default { render };
