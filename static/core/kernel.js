// The page's server, answered by the notebook's kernel: in the notebook widget (gatescope/widget.py) the import map
// puts this module where core/stream.js and core/api.js would be (app/standalone.py widget_shell). A request goes by
// postMessage to the widget's front end (static/widget.js), which sends it to the kernel as a custom message; the
// kernel answers as the WebSocket does (app/wire.py): the header, then the rows as binary float32 frames (here
// ArrayBuffers, handed over, never copied to JSON), then the summary. So every view runs unchanged, and a run of
// 20,000 steps is drawn as its first rows arrive.

import { tr } from "gatescope/core/i18n.js";

export { fetchJson, socketUrl } from "gatescope/core/offline.js";

// the codes the kernel refuses with (gatescope/widget.py), in words
const SAYS = {
  one_run: () => tr("this widget holds one run (every layer and direction of it); for another model, input or option, run gatescope.show again"),
};

const asked = new Map();  // request id -> {handlers} of a stream, or {resolve, reject} of a flow
let last = 0;

const post = (type, id, query) => parent.postMessage({ gatescope: { type, id, query } }, "*");

function ask(type, params, waiting) {
  const id = ++last;
  asked.set(id, waiting);
  post(type, id, params.toString());
  return id;
}

const failure = (msg) => ({ status: 0, code: msg.code, detail: SAYS[msg.code]?.() ?? msg.detail });

addEventListener("message", (e) => {
  const msg = e.data?.gatescope;
  if (e.source !== parent || parent === window || !msg?.answer) return;
  const waiting = asked.get(msg.id);
  if (!waiting) return;
  if (msg.type === "flow") {
    asked.delete(msg.id);
    if (msg.error) waiting.reject(new Error(failure(msg).detail));
    else waiting.resolve({ flow: msg.flow, model: msg.model });
    return;
  }
  const { handlers } = waiting;
  if (msg.type === "header") {
    handlers.header(msg.header);
  } else if (msg.type === "rows") {
    handlers.rows(msg.t0, new Float32Array(msg.rows), msg.count);
    post("more", msg.id);  // taken: the next chunk (the kernel sends one at a time, the shown step's first)
  } else if (msg.type === "summary") {
    asked.delete(msg.id);
    handlers.summary(msg.summary);
  } else if (msg.type === "error") {
    asked.delete(msg.id);
    handlers.error(failure(msg));
  }
});

/** core/stream.js's openStream, answered by the kernel; a run cannot be typed onto here (append: false). */
export function openStream(params, handlers) {
  const id = ask("stream", params, { handlers });
  return { append: () => false, close: () => { if (asked.delete(id)) post("close", id); } };
}

/** core/api.js's fetchFlow: the gradient flow of the run, computed by the kernel when the panel asks. */
export function fetchFlow(params) {
  return new Promise((resolve, reject) => { ask("flow", params, { resolve, reject }); });
}
