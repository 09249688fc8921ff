// The phase panel: the active phase in words and numbers: each of its equations, then the same equation with the
// current step's values for one unit ("f(t) = σ(f_pre) = σ(0.412) = 0.602").

import { num } from "../core/text.js";
import { View } from "./view.js";

const FN = { sigmoid: "σ", tanh: "tanh", relu: "relu", identity: "", one_minus: "1 −" };

/** The numeric line of one name at one unit, from its op and its inputs' values. Pure. */
export function numbers(name, glossary, value) {
  const v = glossary[name];
  const val = (n) => num(value(n));
  const out = val(name);
  switch (v.op) {
    case "sigmoid": case "tanh": case "relu":
      return `${FN[v.op]}(${val(v.operands[0])}) = ${out}`;
    case "identity":
      return `${val(v.operands[0])}`;
    case "one_minus":
      return `1 − ${val(v.operands[0])} = ${out}`;
    case "mul":
      return `${val(v.operands[0])} × ${val(v.operands[1])} = ${out}`;
    case "add":
      return `${val(v.operands[0])} + ${val(v.operands[1])} = ${out}`;
    case "clip":
      return `clip(${val(v.operands[0])} + ${val(v.operands[1])}) = ${out}`;
    default:
      return out;
  }
}

function renderPhase(el, { phase, info, trace, t, unit }) {
  const glossary = Object.fromEntries(info.glossary.names.map((n) => [n.name, n]));
  const phases = info.glossary.phases;
  const p = phases.find((x) => x.name === phase) ?? null;
  el.replaceChildren();
  const title = document.createElement("div");
  title.className = "phase-title";
  title.textContent = p ? `${phases.indexOf(p) + 1} / ${phases.length} · ${p.title}` : "All phases";
  const text = document.createElement("div");
  text.className = "phase-text";
  text.textContent = p ? p.text : "Every vector of this step, at once. Turn phases on to follow the article's order.";
  el.append(title, text);
  if (!trace.steps) return;
  const shown = info.glossary.names.filter((n) => (p ? n.phase === p.name : n.role === "state" || n.role === "output") && n.op !== "given" && n.op !== "shift");
  const list = document.createElement("dl");
  list.className = "equations";
  for (const n of shown) {
    if (!trace.has(n.name)) continue;
    const w = trace.width(n.name);
    const u = Math.min(unit, w - 1);
    const value = (name) => (trace.has(name) ? trace.value(name, t)[Math.min(u, trace.width(name) - 1)] : NaN);
    const dt = document.createElement("dt");
    dt.textContent = n.equation;
    const dd = document.createElement("dd");
    dd.textContent = `unit ${u}: ${numbers(n.name, glossary, value)}`;
    list.append(dt, dd);
  }
  el.append(list);
}

/** options.color_unit: the unit whose numbers are written out (0 when none is chosen). */
export class Phase extends View {
  static id = "phase";

  show(t, phase) {
    if (this.info && this.trace) renderPhase(this.el, { phase, info: this.info, trace: this.trace, t, unit: this.options.color_unit ?? 0 });
  }
}
