// Hover-to-explain in the diagram: what a box, circle, wire or unit under the pointer is, in a sentence with its
// equation and this step's numbers, and which parts it comes from and feeds (lit up). The sentence is built from
// the glossary's op and operands, so every kind explains itself with no words of its own.

import { local, tr } from "gatescope/core/i18n.js";
import { numbers } from "gatescope/views/equation.js";

const DOES = {
  sigmoid: (a) => tr("squashes {a} into 0…1 with σ", { a }),
  tanh: (a) => tr("squashes {a} into −1…1 with tanh", { a }),
  mul: (a, b) => tr("multiplies {a} by {b}, unit by unit", { a, b }),
  add: (a, b) => tr("adds {a} and {b}, unit by unit", { a, b }),
  one_minus: (a) => tr("is 1 minus {a}", { a }),
  div: (a, b) => tr("divides {a} by {b}, unit by unit", { a, b }),
  sub: (a, b) => tr("subtracts {b} from {a}, unit by unit", { a, b }),
  max: (a, b) => tr("is the larger of {a} and {b}, unit by unit", { a, b }),
  g: (a) => tr("passes {a} through g: a + 0.5 above 0, σ(a) below, so it stays positive", { a }),
  exp: (a) => tr("is e to the power {a}", { a }),
  softplus: (a) => tr("is softplus of {a}, log(1 + e^a): always positive", { a }),
  log_sigmoid: (a) => tr("is log σ({a}): a forget gate in logarithms, never above 0", { a }),
  silu: (a) => tr("is {a} times σ({a}) (SiLU)", { a }),
  sqrt: (a) => tr("is the square root of {a}", { a }),
  sqrt_one_minus_square: (a) => tr("is the square root of 1 minus {a} squared", { a }),
  abs: (a) => tr("is the size of {a}, its sign dropped", { a }),
  neg: (a) => tr("is minus {a}", { a }),
  relu: (a) => tr("keeps {a} where it is positive, 0 elsewhere (relu)", { a }),
  affine: (...xs) => tr("is a learned weighted sum of {xs}, plus a bias", { xs: xs.join(tr(" and ")) }),
  given: () => tr("is what the model is given at this step"),
  shift: (a) => tr("is {a} from the step before", { a }),
  identity: (a) => tr("is {a} as it is", { a }),
};
const ROLE = {
  gate: () => tr("A gate: 0 shuts, 1 lets through."),
  state: () => tr("The memory the cell carries to the next step."),
  state_in: () => tr("Carried over from the step before."),
};

/** The sentence for a glossary name: "forget gate f(t) squashes f_pre into 0…1 with σ. A gate: …" Pure. */
export function sentence(name, glossary) {
  const v = glossary[name];
  if (!v) return "";
  const of = (n) => glossary[n]?.symbol ?? n;
  const does = DOES[v.op]?.(...(v.operands ?? []).map(of)) ?? tr("is {a}", { a: v.equation });
  return tr("{label} {does}. {role}", { label: local(v, "label"), does, role: ROLE[v.role]?.() ?? "" }).trim();
}

/**
 * The tooltip's lines for a selection {name, unit?} at step t: the label (and which units the strip draws),
 * the sentence, the equation, and the numbers of one unit. Pure: value(n) is name n's value at the unit.
 */
export function explanation(sel, glossary, value, unit, note = "") {
  const v = glossary[sel.name];
  return [
    { text: `${local(v, "label")}${note ? ` (${note})` : ""}`, bold: true },
    { text: sentence(sel.name, glossary) },
    { text: local(v, "equation") },
    { text: tr("unit {unit}: {numbers}", { unit, numbers: numbers(sel.name, glossary, value) }) },
  ];
}

/** The wires a name is made from (into it) and feeds (out of it), by index in the description. */
export function neighbours(wires, name) {
  const into = [], out = [];
  wires.forEach((w, i) => {
    if (w.target === name) into.push(i);
    if (w.source === name) out.push(i);
  });
  return { into, out };
}
