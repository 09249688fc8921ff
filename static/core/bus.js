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
 * promise of plotly.js (core/plotly.js loadPlotly), when the page loads it late.
 */
export function mount(bus, views, plotly = null) {
  const live = views.map((v) => (v.constructor.plotly && plotly && !globalThis.Plotly ? held(v, plotly) : v));
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
