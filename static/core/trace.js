// The trace as it arrives: one growing Float32Array of steps x stride, read by name; with it, whether the
// run is complete and, once asked for, its gradient flow.
//
// A what-if run (clamp= with clamp_compare) carries each name twice a row: held, then as the model would have
// computed it (header.original_fields). The trace then shows one of three: the held run, the original, or their
// difference (held − original), and every view reads what it shows through the same value/series/matrix.

class Trace {
  #header = null;
  #fields = {};
  #data = new Float32Array(0);
  #steps = 0;
  #tokens = [];
  #complete = false;
  #flow = null;
  #original = {};
  #shown = "clamped";
  #maxes = new Map();  // "name|mode" -> {steps, max}: maxAbs over the steps read so far (the views ask every step)

  reset(h) {
    this.#header = h;
    this.#fields = Object.fromEntries(h.fields.map((f) => [f.name, f]));
    this.#original = Object.fromEntries((h.original_fields ?? []).map((f) => [f.name, f]));
    this.#data = new Float32Array(Math.max(16, h.steps) * h.stride);
    this.#tokens = h.tokens.slice();
    this.#steps = 0;
    this.#complete = false;
    this.#flow = null;
    this.#maxes.clear();
  }

  append(t0, rows, count) {
    const stride = this.#header.stride;
    const need = (t0 + count) * stride;
    if (need > this.#data.length) {
      const bigger = new Float32Array(Math.max(need, this.#data.length * 2));
      bigger.set(this.#data.subarray(0, this.#steps * stride));
      this.#data = bigger;
    }
    this.#data.set(rows.subarray(0, count * stride), t0 * stride);
    if (t0 < this.#steps) this.#maxes.clear();  // steps read before were written again
    this.#steps = Math.max(this.#steps, t0 + count);
  }

  addTokens(t0, more) { this.#tokens.splice(t0, more.length, ...more); }
  /** The run's summary came: every step of the request is here. */
  finish() { this.#complete = true; }
  /** The gradient flow of the run: [{label, flow: {h, c, x}}]. */
  setFlow(series) { this.#flow = series; }

  get header() { return this.#header; }
  get steps() { return this.#steps; }
  get tokens() { return this.#tokens; }
  get complete() { return this.#complete; }
  get flow() { return this.#flow; }
  has(name) { return name in this.#fields; }
  width(name) { return this.#fields[name]?.width ?? 0; }
  /** Whether the run carries the original beside the held one (a what-if run). */
  get compared() { return Object.keys(this.#original).length > 0; }
  get shown() { return this.compared ? this.#shown : "clamped"; }
  /** Show the held run ("clamped"), the one without the holds ("original") or their difference ("difference"). */
  show(mode) { this.#shown = mode; }

  /** Where name's numbers sit in a row: [offset, offset subtracted (the original's, for the difference) or -1]. */
  #at(name, mode = this.shown) {
    const f = this.#fields[name], o = this.#original[name];
    if (!o || mode === "clamped") return [f.offset, -1];
    return mode === "original" ? [o.offset, -1] : [f.offset, o.offset];
  }

  /** name's vector at step t (a view into the trace, not a copy; a new array for a difference); mode: which run
   *  ("clamped", "original", "difference"), the one shown unless asked. */
  value(name, t, mode = this.shown) {
    const [a, b] = this.#at(name, mode), w = this.#fields[name].width, row = t * this.#header.stride;
    if (b < 0) return this.#data.subarray(row + a, row + a + w);
    const out = new Float32Array(w);
    for (let u = 0; u < w; u++) out[u] = this.#data[row + a + u] - this.#data[row + b + u];
    return out;
  }

  /** One unit of name over all steps. */
  series(name, unit) {
    const [a, b] = this.#at(name), stride = this.#header.stride, out = new Float32Array(this.#steps), data = this.#data;
    for (let t = 0, i = unit; t < this.#steps; t++, i += stride) out[t] = b < 0 ? data[i + a] : data[i + a] - data[i + b];
    return out;
  }

  /** name as rows of units x columns of steps, for a heatmap; at most maxUnits rows. */
  matrix(name, maxUnits = Infinity) {
    const rows = Math.min(this.#fields[name].width, maxUnits);
    return Array.from({ length: rows }, (_, u) => this.series(name, u));
  }

  /** The largest |value| of name over every step and unit (for scales of unbounded values). Only steps added since
   *  the last call are read: typing a key adds one step to a 2,000-step run, and several views ask at every key. */
  maxAbs(name) {
    const [a, b] = this.#at(name), w = this.#fields[name].width, stride = this.#header.stride, data = this.#data;
    const key = `${name}|${this.shown}`, seen = this.#maxes.get(key) ?? { steps: 0, max: 0 };
    let m = seen.max;
    for (let t = seen.steps; t < this.#steps; t++) {
      const base = t * stride;
      for (let u = 0; u < w; u++) m = Math.max(m, Math.abs(b < 0 ? data[base + a + u] : data[base + a + u] - data[base + b + u]));
    }
    this.#maxes.set(key, { steps: this.#steps, max: m });
    return m;
  }
}

export function createTrace() {
  return new Trace();
}
