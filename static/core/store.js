// The trace as it arrives: one growing Float32Array of steps x stride, read by name.

export function createStore() {
  let header = null, fields = {}, data = new Float32Array(0), T = 0, tokens = [];

  function reset(h) {
    header = h;
    fields = Object.fromEntries(h.fields.map((f) => [f.name, f]));
    data = new Float32Array(Math.max(16, h.steps) * h.stride);
    tokens = h.tokens.slice();
    T = 0;
  }

  function append(t0, rows, count) {
    const stride = header.stride;
    const need = (t0 + count) * stride;
    if (need > data.length) {
      const bigger = new Float32Array(Math.max(need, data.length * 2));
      bigger.set(data.subarray(0, T * stride));
      data = bigger;
    }
    data.set(rows.subarray(0, count * stride), t0 * stride);
    T = Math.max(T, t0 + count);
  }

  return {
    reset,
    append,
    addTokens: (t0, more) => { tokens.splice(t0, more.length, ...more); },
    get header() { return header; },
    get steps() { return T; },
    get tokens() { return tokens; },
    has: (name) => name in fields,
    width: (name) => fields[name]?.width ?? 0,
    /** name's vector at step t (a view, not a copy). */
    value(name, t) {
      const f = fields[name];
      const start = t * header.stride + f.offset;
      return data.subarray(start, start + f.width);
    },
    /** name as rows of units x columns of steps, for a heatmap; at most maxUnits rows. */
    matrix(name, maxUnits = Infinity) {
      const f = fields[name], stride = header.stride;
      const rows = Math.min(f.width, maxUnits);
      const z = new Array(rows);
      for (let u = 0; u < rows; u++) {
        const row = new Float32Array(T);
        for (let t = 0, i = f.offset + u; t < T; t++, i += stride) row[t] = data[i];
        z[u] = row;
      }
      return z;
    },
    /** The largest |value| of name over every step and unit (for scales of unbounded values). */
    maxAbs(name) {
      const f = fields[name], stride = header.stride;
      let m = 0;
      for (let t = 0; t < T; t++) {
        const base = t * stride + f.offset;
        for (let u = 0; u < f.width; u++) m = Math.max(m, Math.abs(data[base + u]));
      }
      return m;
    },
    /** One unit of name over all steps. */
    series(name, unit) {
      const f = fields[name], stride = header.stride, out = new Float32Array(T);
      for (let t = 0, i = f.offset + unit; t < T; t++, i += stride) out[t] = data[i];
      return out;
    },
  };
}
