// One run: the stream of a view's steps into the trace, the kind's description it needs to be drawn, and
// the text typed on top of it. It tells the page through its handlers; it draws nothing.

import { tr } from "gatescope/core/i18n.js";
import { openStream } from "gatescope/core/stream.js";
import { errorText } from "gatescope/core/text.js";

/** What the stream of run number id says: into the trace, and to the page (an older run's answers are dropped). */
function streamHandlers(run, id, trace, handlers) {
  return {
    header(h) {
      if (id !== run.id) return;
      trace.reset(h);
      run.streamed = h.request.input;
      run.info = h.kind_info;  // the header carries the kind's description: nothing to ask for before drawing
      handlers.described(run.info, h);
    },
    rows(t0, rows, count) {
      if (id !== run.id) return;
      trace.append(t0, rows, count);
      handlers.rows();
    },
    tokens(t0, more) {
      trace.addTokens(t0, more);
      handlers.status(tr("{n} steps", { n: t0 + more.length }));
      if (run.pending !== null) run.streamed = run.pending;
      run.pending = null;
      handlers.accepted?.();  // last: it may send the next extension
    },
    summary(s) {
      if (id !== run.id) return;
      handlers.status(tr("{n} steps · {bytes} bytes per step", { n: s.steps, bytes: s.bytes_per_snapshot }));
      trace.finish();
      handlers.complete();
    },
    error(e) {
      run.pending = null;
      handlers.failed(errorText(e.detail), e.offer, e);  // the server's way out, a button: {label, patch}; e.code for the page
      handlers.status("");
    },
    closed: () => handlers.closed(),
  };
}

/** handlers: described(kindInfo, header), rows(), complete(), status(text), failed(text, offer, error), accepted() (typed text the
 *  server took), closed(). */
export function createRun(trace, handlers) {
  // the open run: its stream, its number (an answer for an older one is dropped), its kind's description,
  // the input the server has, a typed extension on its way, and the step it was asked to open at
  const run = { stream: null, id: 0, info: null, streamed: "", pending: null, step: null };

  function open(params, step) {
    run.stream?.close();
    const id = ++run.id;
    Object.assign(run, { info: null, streamed: "", pending: null, step });
    handlers.status(tr("computing…"));
    run.stream = openStream(params, streamHandlers(run, id, trace, handlers));
  }

  /** Whether text only grows the run's text input at the end (its steps can be sent on top of the run's). */
  function extends_(text) {
    const h = trace.header;
    return Boolean(h && h.request.input_type === "text" && !h.model.bidirectional && text.length > run.streamed.length
      && text.startsWith(run.streamed));
  }

  /** Text that only grows at the end of a text input is sent as more steps: true when it was. */
  function append(text) {
    if (!extends_(text) || run.pending !== null) return false;
    if (!run.stream.append(text.slice(run.streamed.length))) return false;
    run.pending = text;
    trace.setFlow(null);  // the flow was of the shorter input
    return true;
  }

  /** The step the run was opened at, once the trace has it (or has every step); null before and after. */
  function arrived() {
    if (run.step === null || !(run.step < trace.steps || trace.header.steps <= trace.steps)) return null;
    const t = Math.min(run.step, trace.steps - 1);
    run.step = null;
    return t;
  }

  return {
    open, append, arrived,
    /** text extends the run, but an extension is on its way: it can be sent when that one lands. */
    waiting: (text) => run.pending !== null && extends_(text) && text.startsWith(run.pending),
    get id() { return run.id; },
    get info() { return run.info; },
    get streamed() { return run.streamed; },
    /** The run's summary has come, its description is in, and no typed extension is on its way. */
    get ready() { return Boolean(run.info && trace.complete && trace.steps && run.pending === null); },
  };
}
