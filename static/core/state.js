// The view state <-> the URL query. Pure functions: no window, no DOM; and the one holder of a page's
// state (createViewState), which changes it only by update() and says so on the page's bus.
// The table of fields comes from the server (app/schemas.py ViewState, via the page's config),
// so every name, type and default is declared once, in Python.

// Query values are read as the server reads them (Pydantic's lax mode), so the page and GET /api/trace
// agree on every URL: "True", "on" and "yes" are true; "5.0" is the integer 5; "0x10" is not a number.
const TRUE = ["1", "on", "t", "true", "y", "yes"], FALSE = ["0", "off", "f", "false", "n", "no"];
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Coerce one query-string value to the field's type; undefined when it cannot be read. */
function coerce(field, raw) {
  if (raw === null || raw === undefined) return undefined;
  const text = raw.trim();
  switch (field.type) {
    case "integer": {
      if (!/^[+-]?\d+(\.0*)?$/.test(text)) return undefined;
      const n = Number(text);
      return Number.isSafeInteger(n) && inBounds(field, n) ? n : undefined;
    }
    case "number": {
      const n = Number(text);
      return DECIMAL.test(text) && Number.isFinite(n) && inBounds(field, n) ? n : undefined;
    }
    case "boolean": {
      const low = text.toLowerCase();
      return TRUE.includes(low) ? true : FALSE.includes(low) ? false : undefined;
    }
    default:
      if (field.choices && !field.choices.includes(raw)) return undefined;
      return raw;
  }
}

function inBounds(field, n) {
  if (field.minimum !== undefined && n < field.minimum) return false;
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) return false;
  if (field.maximum !== undefined && n > field.maximum) return false;
  return true;
}

/** The full state: every field, its value from the query or its default. Unreadable values fall back to the default. */
export function parse(params, fields) {
  const state = {};
  for (const f of fields) {
    const v = coerce(f, params.get(f.name));
    state[f.name] = v === undefined ? f.default : v;
  }
  return state;
}

/** The query of a state: only the fields that differ from their defaults, in the table's order. */
export function serialize(state, fields) {
  const params = new URLSearchParams();
  for (const f of fields) {
    const v = state[f.name];
    if (v === undefined || v === null || v === f.default) continue;
    params.set(f.name, String(v));
  }
  return params;
}

/** The parameters the server needs to compute a view: the state minus what only changes the picture. */
export function computeParams(state, fields) {
  const params = serialize(state, fields);
  for (const f of fields) if (f.view_only) params.delete(f.name);
  return params;
}

/** A copy of state with changes; switching model source or kind drops what no longer applies. */
export function update(state, changes, fields) {
  const next = { ...state, ...changes };
  const sources = ["kind", "preset", "model"];
  const chosen = sources.filter((s) => changes[s]);
  if (chosen.length) {
    for (const s of sources) if (!chosen.includes(s)) next[s] = null;
    if (!next.kind) for (const f of fields) if (f.kind_option || ["hidden", "layers", "bidirectional"].includes(f.name)) next[f.name] = f.default;
  }
  if ("kind" in changes && changes.kind !== state.kind) {
    for (const f of fields) if (f.kind_option && !(f.name in changes)) next[f.name] = f.default;
  }
  // another model, or another stack: the layer and direction shown may not exist in it
  if (chosen.length || "layers" in changes || "bidirectional" in changes) {
    for (const name of ["layer", "direction"]) if (!(name in changes)) next[name] = fields.find((f) => f.name === name)?.default ?? next[name];
  }
  if (chosen.length || "input" in changes || "input_type" in changes) {
    next.step = changes.step ?? 0;
    next.phase = changes.phase ?? null;
    if (!("window" in changes) && !appended(state.input, changes.input)) next.window = null;  // another run opens on its own window
  }
  return next;
}

/** Whether text only grows another (typing at the end): the same run, longer, keeps its window. */
function appended(before, after) {
  return typeof before === "string" && typeof after === "string" && after.length > before.length && after.startsWith(before);
}

/**
 * The page's view state, changed one way only: update(patch) makes the next state (as update() above)
 * and says so on the bus ("state", with the state before and a reason). The state itself is frozen.
 * A patch of fields a view keeps itself (the table's view_kept: the time window a chart was zoomed to) has the
 * reason "view" unless told otherwise: the view has drawn it already, so the page only writes it in the URL.
 */
export function createViewState(initial, fields, bus) {
  let state = Object.freeze({ ...initial });
  const kept = new Set(fields.filter((f) => f.view_kept).map((f) => f.name));
  return {
    get current() { return state; },
    update(patch, reason = Object.keys(patch).length && Object.keys(patch).every((k) => kept.has(k)) ? "view" : "edit") {
      const before = state;
      state = Object.freeze(update(before, patch, fields));
      bus.emit("state", { state, before, reason });
    },
  };
}
