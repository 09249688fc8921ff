// Hover-to-explain in the diagram: what a box, circle, wire or unit under the pointer is, in a sentence with its
// equation and this step's numbers, and which parts it comes from and feeds (lit up). The sentence is built from
// the glossary's op and operands, so every kind explains itself with no words of its own.

import { numbers } from "./equation.js";

const DOES = {
  sigmoid: (a) => `squashes ${a} into 0…1 with σ`,
  tanh: (a) => `squashes ${a} into −1…1 with tanh`,
  mul: (a, b) => `multiplies ${a} by ${b}, unit by unit`,
  add: (a, b) => `adds ${a} and ${b}, unit by unit`,
  one_minus: (a) => `is 1 minus ${a}`,
  affine: (...xs) => `is a learned weighted sum of ${xs.join(" and ")}, plus a bias`,
  given: () => "is what the model is given at this step",
  shift: (a) => `is ${a} from the step before`,
  identity: (a) => `is ${a} as it is`,
};
const ROLE = {
  gate: " A gate: 0 shuts, 1 lets through.",
  state: " The memory the cell carries to the next step.",
  state_in: " Carried over from the step before.",
};

/** The sentence for a glossary name: "forget gate f(t) squashes f_pre into 0…1 with σ. A gate: …" Pure. */
export function sentence(name, glossary) {
  const v = glossary[name];
  if (!v) return "";
  const of = (n) => glossary[n]?.symbol ?? n;
  const does = DOES[v.op]?.(...(v.operands ?? []).map(of)) ?? `is ${v.equation}`;
  return `${v.label} ${does}.${ROLE[v.role] ?? ""}`;
}

/**
 * The tooltip's lines for a selection {name, unit?} at step t: the label (and which units the strip draws),
 * the sentence, the equation, and the numbers of one unit. Pure: value(n) is name n's value at the unit.
 */
export function explanation(sel, glossary, value, unit, note = "") {
  const v = glossary[sel.name];
  return [
    { text: `${v.label}${note ? ` (${note})` : ""}`, bold: true },
    { text: sentence(sel.name, glossary) },
    { text: v.equation },
    { text: `unit ${unit}: ${numbers(sel.name, glossary, value)}` },
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
