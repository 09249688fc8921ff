// The contract every view keeps (core/bus.js mount() calls it): a class built as new View(el, bus) that
// names its element (static id) and answers build, update and show. This base does the least of each:
// it keeps what it is given and draws nothing, so a view writes only what it draws.

export class View {
  static id = "";

  constructor(el, bus) {
    this.el = el;
    this.bus = bus;
    this.info = null;
    this.header = null;
    this.options = {};
    this.store = null;
  }

  /** A run's description came (or an option of the picture changed): draw the empty figure. */
  build(kindInfo, header, options) {
    this.info = kindInfo;
    this.header = header;
    this.options = options;
  }

  /** Steps arrived, the run completed, or its gradient flow came: redraw what depends on them. */
  update(store) {
    this.store = store;
  }

  /** Show step t (phase: the active animation phase, or null; playing: a frame of playback). */
  show(t, phase, playing) {}  // eslint-disable-line no-unused-vars
}
