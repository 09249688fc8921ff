// The page's one event bus. Every view follows it; nothing else passes a view its data.
//   "build" {kindInfo, header, options}   a run's description came, or an option of the picture changed
//   "data"  trace                          steps arrived, the run completed, or its gradient flow came
//   "step"  {t, phase, playing}            the current step and phase
//   "move"  {t, phase, progress}           a frame of the flow animation within that phase (progress 0…1)
//   "point" {name, unit?} | null           what a view's pointer is over (a name, or one of its units)
//   "pin"   {name, unit?}                  a click: pin that (or unpin it), pin= in the URL
//   "hover" {name, unit?, pinned?} | null  the selection every view lights up: what is pointed at, else the pin
//   "state" {state, before, reason}        the view state changed (core/state.js createViewState)
//   "seek"  t, "change" patch              what a view asks of the page: go to a step, change the state (a patch
//                                          of only fields the views keep, {window}, is written to the URL with
//                                          reason "view" and redraws nothing)

export function createBus() {
  const handlers = new Map();
  return {
    /** Call fn(payload) on every emit of event; returns a function that stops it. */
    on(event, fn) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(fn);
      return () => handlers.get(event).delete(fn);
    },
    emit(event, payload) {
      for (const fn of handlers.get(event) ?? []) fn(payload);
    },
  };
}

/**
 * The one contract of a view (views/view.js is its base): a class built as new View(el, bus), with
 *   build(kindInfo, header, options)  draw the empty figure for a run (options: the view state)
 *   update(trace)                     redraw what depends on the steps so far
 *   show(t, phase, playing)           show the current step
 *   move(t, phase, progress)          (if it animates) a frame of the flow within the phase shown
 *   highlight(sel)                    (if it links) light up a selection {name, unit?}, or none (null)
 * a static id naming the element it draws in, and, if it is a panel, a static panel declaring it (views/view.js).
 * mount() makes every view follow the bus; views/index.js names the page's views, one line each. plotly: the
 * promise of plotly.js (core/plotly.js loadPlotly), when the page loads it late. A plotly.js view catches up with
 * the steps typed once the typing pauses (afterTyping).
 */
export function mount(bus, views, plotly = null) {
  const typing = typingPauses(bus);
  const live = views.map((v) => (!v.constructor.plotly ? v : afterTyping(plotly && !globalThis.Plotly ? held(v, plotly) : v, typing)));
  bus.on("build", ({ kindInfo, header, options }) => { for (const v of live) v.build(kindInfo, header, options); });
  bus.on("data", (trace) => { for (const v of live) v.update(trace); });
  bus.on("step", ({ t, phase, playing }) => { for (const v of live) v.show(t, phase, playing); });
  bus.on("move", ({ t, phase, progress }) => { for (const v of live) v.move?.(t, phase, progress); });
  bus.on("hover", (sel) => { for (const v of live) v.highlight?.(sel); });
  return views;
}

/**
 * A view that draws with plotly.js (static plotly = true), while plotly (a promise, core/plotly.js) loads: its
 * latest build, update, show and highlight are kept, and made in that order once plotly.js is here. Only the latest of
 * each matters: a build draws the empty figure, an update fills it from the whole trace, a show picks a step.
 */
function held(view, plotly) {
  const last = {};
  let ready = false;
  plotly.then(() => {
    ready = true;
    for (const call of ["build", "update", "show", "highlight"]) if (last[call]) view[call](...last[call]);
  }, () => {});  // a failed load leaves the charts empty; the page says so (main.js)
  const call = (name) => (...args) => (ready ? view[name](...args) : (last[name] = args));
  return { build: call("build"), update: call("update"), show: call("show"), move: call("move"), highlight: call("highlight") };
}

const TYPING_PAUSE_MS = 300;  // no key for this long: the typist has paused (keys come every 100 to 200 ms)

/**
 * Whether the user is typing: a "state" with reason "append" (the text grew at its end, and the run with it) came less
 * than TYPING_PAUSE_MS ago. later(fn): fn once the typing pauses (each fn once, however often it is asked for).
 */
function typingPauses(bus) {
  const due = new Set();
  let timer = 0;
  const gate = { on: false, later: (fn) => due.add(fn) };
  bus.on("state", ({ reason }) => {
    if (reason !== "append") return;
    gate.on = true;
    clearTimeout(timer);
    timer = setTimeout(() => {
      gate.on = false;
      const fns = [...due];
      due.clear();
      for (const fn of fns) fn();
    }, TYPING_PAUSE_MS);
  });
  return gate;
}

/**
 * A plotly.js view while the user types: each key adds a step, and the view would redraw its whole figure for it (the
 * heatmaps and the lines of a 2,000-step run: tasks of 100 to 300 ms that the next key waits for). Its update and show
 * are held, the latest of each, and made in that order once the typing pauses, so the figure ends as if every key had
 * been drawn. The cheap views (the diagram, the tokens, the captions) follow every key at once.
 */
function afterTyping(view, typing) {
  const last = {};
  const catchUp = () => {
    for (const name of ["update", "show"]) {
      const args = last[name];
      delete last[name];
      if (args) view[name](...args);
    }
  };
  const call = (name) => (...args) => {
    if (!typing.on) return view[name](...args);
    last[name] = args;
    typing.later(catchUp);
  };
  return { build: (...args) => view.build(...args), update: call("update"), show: call("show"), move: (...args) => view.move(...args),
    highlight: (...args) => view.highlight(...args) };
}
