// The phase panel: the active phase in words and numbers: its description, each of its equations, typeset, then
// the same equation with the current step's values for one unit ("h(t) = o(t) ⊙ tanh(c(t))", "0.602 × tanh(1.210) = 0.501").
//
// The equations, and the math inside the description (the glossary's phase.latex), are LaTeX set by KaTeX (vendored in static/vendor/katex, loaded only here): HTML
// for the eye and MathML for a screen reader. They change only with the phase, so they are set once per phase
// and a step rewrites only the numbers. The panel itself is not a live region: while playing it changes up to
// eight times a second, and a screen reader would read without pause. A hidden status line, the page's one
// live region for the step, says the step, its input, the phase and each equation with its numbers once the
// view has rested ANNOUNCE_MS after the last step shown, and never during playback.

import "gatescope/vendor/katex/katex.min.js";  // a UMD bundle: as a module it defines globalThis.katex
import { num } from "gatescope/core/text.js";
import { writeText } from "gatescope/core/write.js";
import { chosenUnits } from "gatescope/views/diagram.js";
import { drawnUnits } from "gatescope/views/diagram-figure.js";
import { View } from "gatescope/views/view.js";
import { local, tr } from "gatescope/core/i18n.js";

export const ANNOUNCE_MS = 600;
// The functions of one operand, as the equations write them (cells/spec.py OPS).
const FN = { sigmoid: "σ", tanh: "tanh", relu: "relu", g: "g", exp: "exp", softplus: "softplus", log_sigmoid: "log σ", silu: "SiLU", sqrt: "√" };
const INFIX = { mul: "×", div: "/", add: "+", sub: "−" };
const OWN = new Set(["one_minus", "sqrt_one_minus_square"]);  // ops of one operand written as an expression of their own
// a symbol that is one name (f(t), h(t−1), f_pre, ā(t), Δu(t)), not an expression
const ATOM = /^\p{L}[\p{L}\p{N}_\u0303\u0304\u2032]*(\(t(−\d+)?\))?$/u;

const href = import.meta.resolve("gatescope/vendor/katex/katex.min.css");  // by the import map: /static/ or the file's data: URL
const sheet = document.querySelector(`link[href="${href}"]`)
  ?? document.head.appendChild(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
// Until KaTeX's stylesheet applies, its output would read twice (its HTML and its MathML side by side): plain text till then.
let styled = Boolean(sheet.sheet);
const whenStyled = new Promise((resolve) => {
  if (styled) resolve();
  else sheet.addEventListener("load", () => { styled = true; resolve(); }, { once: true });
});

/** How an operand reads inside another name's numbers: its value, or, when the equation writes it as an
 *  expression (1 − z(t), tanh(c(t))), that expression with its values, parenthesised as the equation is. */
function operand(name, glossary, value) {
  const v = glossary[name];
  if (!v || v.symbol === undefined || ATOM.test(v.symbol) || !(v.op in FN || v.op in INFIX || OWN.has(v.op))) return num(value(name));
  const inner = expression(name, glossary, value);
  return v.op in FN || v.op === "sqrt_one_minus_square" ? inner : `(${inner})`;
}

/** One name's own operation written with its operands' values, without its result. */
function expression(name, glossary, value) {
  const v = glossary[name];
  const [a, b] = v.operands.map((n) => operand(n, glossary, value));
  switch (v.op) {
    case "identity": return a;
    case "one_minus": return `1 − ${a}`;
    case "sqrt_one_minus_square": return `√(1 − ${a}²)`;
    case "max": return `max(${a}, ${b})`;
    case "abs": return `|${a}|`;
    case "neg": return `−${a}`;
    case "clip": return `clip(${a} + ${b}${clipLimit(v.equation)})`;
    default:
      if (v.op in FN) return `${FN[v.op]}(${a})`;
      return v.op in INFIX ? `${a} ${INFIX[v.op]} ${b}` : null;  // affine, outer, contract: no one-unit line
  }
}

/** The limit a clip's equation states (", ±0.5" of "clip(kept(t) + written(t), ±0.5)"), "" when it states none. */
function clipLimit(equation) {
  const m = /, (±[^)]+)\)$/.exec(equation ?? "");
  return m ? `, ${m[1]}` : "";
}

/** The numeric line of one name at one unit, from its op and its inputs' values. Pure. */
export function numbers(name, glossary, value) {
  const out = num(value(name));
  const shown = expression(name, glossary, value);
  // a pre-activation (W x + U h + b has no one-unit line) and a name equal to a named one show just the value
  return shown === null || shown === out ? out : `${shown} = ${out}`;
}

const typeset = new Map();  // latex -> KaTeX's HTML: a phase's equations are set once per page, not per step

/** KaTeX's HTML and MathML of one piece of the engine's LaTeX, set once. */
function katexHtml(latex) {
  // KaTeX may break a long line after any binary operator; after ⊙ it would part a product (p_f ⊙ | c(t−1)), so only sums break
  const unbroken = latex.replaceAll(String.raw`\odot`, String.raw`\odot\nobreak`);
  if (!typeset.has(latex)) typeset.set(latex, globalThis.katex.renderToString(unbroken, { throwOnError: false, output: "htmlAndMathml" }));
  return typeset.get(latex);
}

const canTypeset = () => Boolean(globalThis.katex && styled);

/** Set one equation into el: KaTeX's HTML and MathML, or the plain text if KaTeX or its stylesheet has not loaded. */
export function setEquation(el, { latex, equation }) {
  if (!canTypeset() || !latex) el.textContent = equation;
  else el.innerHTML = katexHtml(latex);  // KaTeX escapes what it sets; the LaTeX is the engine's, not a user's
}

/** Set a phase's prose into el with its math typeset: latex is the prose with its math as $…$ (the glossary's
 *  phase.latex), text the same prose plain, shown until KaTeX can set it. */
export function setProse(el, { text, latex }) {
  if (!canTypeset() || !latex) {
    el.textContent = text;
    return;
  }
  el.replaceChildren(...latex.split("$").flatMap((part, i) => {
    if (i % 2 === 0) return part ? [document.createTextNode(part)] : [];  // prose, as text
    const span = element("span", "prose-math");
    span.innerHTML = katexHtml(part);
    span.style.whiteSpace = "nowrap";  // a line of prose breaks between its words, never inside "(1 − z(t)) ⊙ n(t)"
    return [span];
  }));
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The unit whose numbers are written out: the one pointed at or pinned, else options.color_unit, else the first
 *  unit the diagram draws (units=, else the model card's units, else unit 0). */
export class Phase extends View {
  static id = "phase";

  constructor(el, bus) {
    super(el, bus);
    el.setAttribute("aria-live", "off");  // the visible panel is not announced; the status line below is
    this.body = element("div", "phase-body");
    this.live = element("div", "phase-status sr-only");
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-atomic", "true");
    // visually hidden, still read: the usual clip pattern (set through the CSSOM, which the page's CSP allows)
    Object.assign(this.live.style, { position: "absolute", width: "1px", height: "1px", overflow: "hidden",
      clipPath: "inset(50%)", whiteSpace: "nowrap" });
    el.append(this.body, this.live);
    this.key = null;
    this.rows = [];
    this.timer = null;
    this.last = null;
    this.firstDrawn = 0;
    whenStyled.then(() => { this.key = null; if (this.last) this.show(...this.last); });
  }

  build(kindInfo, header, options) {
    super.build(kindInfo, header, options);
    this.key = null;
    this.firstDrawn = drawnUnits(header?.model?.hidden_size ?? 0, chosenUnits(options, header)).units[0] ?? 0;
  }

  show(t, phase, playing) {
    if (!this.info || !this.trace) return;
    this.last = [t, phase, playing];
    const names = this.shownNames(phase);
    const key = `${phase}|${names.map((n) => n.name).join(",")}`;
    if (key !== this.key) this.setPhase(phase, names);
    this.key = key;
    const unit = this.unit ?? this.options.color_unit ?? this.firstDrawn;  // pointed at or pinned, the tokens' unit, the diagram's first
    for (const row of this.rows) writeText(row.dd, this.line(row.name, t, unit));  // no change of the tree (core/write.js)
    clearTimeout(this.timer);
    if (!playing) this.timer = setTimeout(() => this.announce(t), ANNOUNCE_MS);
  }

  /** A frame of the flow animation: the view is playing, so nothing is announced until it rests. */
  move() {
    clearTimeout(this.timer);
  }

  /** A unit pointed at or pinned in any view: the numbers are written out for it. */
  highlight(sel) {
    const unit = sel?.unit;
    if (unit === this.unit) return;
    this.unit = unit;
    if (this.last) this.show(...this.last);
  }

  /** The names a phase shows (every state and output when phases are off) that this trace has. */
  shownNames(phase) {
    const p = this.info.glossary.phases.find((x) => x.name === phase);
    if (!this.trace.steps) return [];
    return this.info.glossary.names.filter((n) => (p ? n.phase === p.name : n.role === "state" || n.role === "output")
      && n.op !== "given" && n.op !== "shift" && this.trace.has(n.name));
  }

  setPhase(phase, names) {
    const phases = this.info.glossary.phases;
    const p = phases.find((x) => x.name === phase) ?? null;
    const title = p ? local(p, "title") : "";
    this.title = p ? `${phases.indexOf(p) + 1} / ${phases.length} · ${title}` : tr("All phases");
    this.spoken = p ? tr("phase {i} of {n}, {title}", { i: phases.indexOf(p) + 1, n: phases.length, title }) : tr("all phases");
    const prose = p ? { text: local(p, "text"), latex: local(p, "latex") } : { text: this.options.phases
      ? tr("Every vector of this step, at once: press ↓ (or play) to go through its phases in the article's order.")
      : tr("Every vector of this step, at once. Tick “phases” to follow the article's order.") };
    const list = element("dl", "equations");
    this.rows = names.map((n) => {
      const dt = element("dt"), dd = element("dd");
      setEquation(dt, { latex: local(n, "latex"), equation: local(n, "equation") });
      list.append(dt, dd);
      return { name: n.name, equation: local(n, "equation"), dd };
    });
    const text = element("div", "phase-text");
    setProse(text, prose);
    this.body.replaceChildren(element("div", "phase-title", this.title), text, ...(names.length ? [list] : []));
  }

  /** "unit 0: 0.602 × tanh(1.210) = 0.501": the unit clamped to the name's width (h may be a narrower projection).
   *  A difference of two runs is no value the equation computes (tanh of a difference is not a difference of tanhs):
   *  it is written as what it is, "unit 0: Δ = −0.123 (held 0.456 − original 0.579)". */
  line(name, t, unit) {
    const glossary = this.glossary();
    const trace = this.trace;
    if (trace.shown === "difference") {
      const u = Math.min(unit, trace.width(name) - 1), run = (mode) => trace.value(name, t, mode)[u];
      return tr("unit {unit}: Δ = {d} (held {held} − original {original})",
        { unit: u, d: num(run("difference")), held: num(run("clamped")), original: num(run("original")) });
    }
    const value = (n) => (trace.has(n) ? trace.value(n, t)[Math.min(Math.min(unit, trace.width(name) - 1), trace.width(n) - 1)] : NaN);
    return tr("unit {unit}: {numbers}", { unit: Math.min(unit, trace.width(name) - 1), numbers: numbers(name, glossary, value) });
  }

  glossary() {
    if (this.byName?.info !== this.info) this.byName = { info: this.info, names: Object.fromEntries(this.info.glossary.names.map((n) => [n.name, n])) };
    return this.byName.names;
  }

  /** What the status line says once the step holds still: the step, its input, the phase, each equation with its numbers. */
  announce(t) {
    const step = `t = ${t}, ${tr("input {token}", { token: JSON.stringify(this.trace.tokens?.[t] ?? "") })}, ${this.spoken}`;
    this.live.textContent = [step, ...this.rows.map((r) => `${r.equation}: ${r.dd.textContent}`)].join(". ");
  }
}
