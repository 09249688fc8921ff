// The trace as it arrives: one growing Float32Array of steps x stride, read by name; with it, whether the
// run is complete and, once asked for, its gradient flow.

class Trace {
  #header = null;
  #fields = {};
  #data = new Float32Array(0);
  #steps = 0;
  #tokens = [];
  #complete = false;
  #flow = null;

  reset(h) {
    this.#header = h;
    this.#fields = Object.fromEntries(h.fields.map((f) => [f.name, f]));
    this.#data = new Float32Array(Math.max(16, h.steps) * h.stride);
    this.#tokens = h.tokens.slice();
    this.#steps = 0;
    this.#complete = false;
    this.#flow = null;
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

  /** name's vector at step t (a view, not a copy). */
  value(name, t) {
    const f = this.#fields[name];
    const start = t * this.#header.stride + f.offset;
    return this.#data.subarray(start, start + f.width);
  }

  /** One unit of name over all steps. */
  series(name, unit) {
    const f = this.#fields[name], stride = this.#header.stride, out = new Float32Array(this.#steps);
    for (let t = 0, i = f.offset + unit; t < this.#steps; t++, i += stride) out[t] = this.#data[i];
    return out;
  }

  /** name as rows of units x columns of steps, for a heatmap; at most maxUnits rows. */
  matrix(name, maxUnits = Infinity) {
    const rows = Math.min(this.#fields[name].width, maxUnits);
    return Array.from({ length: rows }, (_, u) => this.series(name, u));
  }

  /** The largest |value| of name over every step and unit (for scales of unbounded values). */
  maxAbs(name) {
    const f = this.#fields[name], stride = this.#header.stride, data = this.#data;
    let m = 0;
    for (let t = 0; t < this.#steps; t++) {
      const base = t * stride + f.offset;
      for (let u = 0; u < f.width; u++) m = Math.max(m, Math.abs(data[base + u]));
    }
    return m;
  }
}

export function createTrace() {
  return new Trace();
}
