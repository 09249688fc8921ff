// The trace stream: a WebSocket with binary step frames, or Server-Sent Events where WebSockets are blocked.
// Frames: uint32 t0, uint32 count, then count x stride float32 (little-endian); see app/wire.py.

import { tr } from "gatescope/core/i18n.js";

/** The WebSocket URL of a path on this page's server (wss: under https:). */
export function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

/** A JSON message of either transport, to its handler. */
function dispatcher(handlers) {
  return (msg) => {
    if (msg.type === "header") handlers.header(msg);
    else if (msg.type === "steps") handlers.rows(msg.t0, new Float32Array(msg.values.flat()), msg.count);
    else if (msg.type === "tokens") handlers.tokens(msg.t0, msg.tokens);
    else if (msg.type === "summary") handlers.summary(msg);
    else if (msg.type === "error") handlers.error(msg);
  };
}

/** The Server-Sent Events twin; a refused request is asked again as plain JSON, for its message. */
function openSSE(query, dispatch, handlers, closed) {
  const es = new EventSource(`/api/trace/stream?${query}`);
  for (const type of ["header", "steps", "summary"]) {
    es.addEventListener(type, (e) => {
      dispatch(JSON.parse(e.data));
      if (type === "summary") es.close();
    });
  }
  es.onerror = (e) => {
    if (closed()) return;
    es.close();
    if (e.data) return dispatch(JSON.parse(e.data));  // the server's own "error" event: its message says why
    fetch(`/api/trace?${query}&names=h`).then((r) => r.json()).then((body) => {
      handlers.error({ status: 0, detail: body.detail ?? tr("the stream failed") });
    }).catch(() => handlers.error({ status: 0, detail: tr("the server cannot be reached") }));
  };
  return es;
}

export function openStream(params, handlers) {
  const query = params.toString(), dispatch = dispatcher(handlers);
  let ws = null, es = null, closed = false, opened = false;
  const fallBack = () => { es = openSSE(query, dispatch, handlers, () => closed); };
  try {
    ws = new WebSocket(socketUrl(`/ws/trace?${query}`));
    ws.binaryType = "arraybuffer";
  } catch {
    fallBack();
  }
  if (ws) {
    // an empty query means "the default view"; the server then reads the request from the first message
    ws.onopen = () => { opened = true; if (!query) ws.send("{}"); };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") return dispatch(JSON.parse(e.data));
      const head = new DataView(e.data, 0, 8);
      handlers.rows(head.getUint32(0, true), new Float32Array(e.data, 8), head.getUint32(4, true));
    };
    ws.onerror = () => { if (!opened && !closed) { ws = null; fallBack(); } };
    ws.onclose = () => { if (opened && !closed) handlers.closed?.(); };
  }

  return {
    /** Extend the run by more input (WebSocket only); false when this stream cannot. */
    append(text) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify({ type: "append", input: text }));
      return true;
    },
    close() {
      closed = true;
      ws?.close();
      es?.close();
    },
  };
}
