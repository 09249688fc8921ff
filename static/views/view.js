// The contract every view keeps (core/bus.js mount() calls it): a class built as new View(el, bus) that
// names its element (static id) and answers build, update and show. This base does the least of each:
// it keeps what it is given and draws nothing, so a view writes only what it draws. A view that is a panel
// of the page also declares it (static panel); with its module's name in views/index.js that is all the
// page needs to know of it.

export class View {
  static id = "";

  /**
   * The panel it is, or null (a caption, the phase text): data that controls/panels.js reads.
   *   name          its word in the view state's panels, and its section's data-panel: lowercase letters only,
   *                 as the server's panels parameter takes them
   *   label         its text in the View menu (and its section's aria-label)
   *   needs         what of the complete run it needs when shown and the trace lacks ("flow": the gradient
   *                 flow, fetched for it); null for nothing more
   *   when(header)  whether a run has anything for it to show; a panel it says false of stays hidden
   * Without markup of its own in templates/_partials.html the panel gets a plain section with a chart in it.
   */
  static panel = null;

  /** Whether it draws with plotly.js: the page loads that after the diagram, and holds this view's calls till then. */
  static plotly = false;

  constructor(el, bus) {
    this.el = el;
    this.bus = bus;
    this.info = null;
    this.header = null;
    this.options = {};
    this.trace = null;
  }

  /** A run's description came (or an option of the picture changed): draw the empty figure. */
  build(kindInfo, header, options) {
    this.info = kindInfo;
    this.header = header;
    this.options = options;
  }

  /** Steps arrived, the run completed, or its gradient flow came: redraw what depends on them. */
  update(trace) {
    this.trace = trace;
  }

  /** Show step t (phase: the active animation phase, or null; playing: a frame of playback). */
  show(t, phase, playing) {}  // eslint-disable-line no-unused-vars

  /** A frame of the flow animation within the phase shown (progress from 0 to 1); only a view that animates has it. */
  move(t, phase, progress) {}  // eslint-disable-line no-unused-vars

  /** Light up a selection {name, unit?} (the pointer's in any view, or the pinned one), or none (null). */
  highlight(sel) {}  // eslint-disable-line no-unused-vars
}
