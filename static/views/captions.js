// The words around the diagram: which model this is (its title and notes), and the current step's input.

import { local, tr } from "gatescope/core/i18n.js";
import { assumedText, minusSigns, showToken } from "gatescope/core/text.js";
import { writeText } from "gatescope/core/write.js";
import { View } from "gatescope/views/view.js";

export class ModelTitle extends View {
  static id = "model-title";

  constructor(el, bus) {
    super(el, bus);
    this.notes = document.getElementById("model-notes");
    this.notes.addEventListener("click", () => this.notes.classList.toggle("open"));
  }

  build(kindInfo, header, options) {
    if (header === this.header) return;  // a new picture of the same run: the notes stay as they were
    super.build(kindInfo, header, options);
    const model = header.model, title = model.title;  // what the model is, in the server's words (app/wire.py title)
    const stack = [model.num_layers > 1 ? tr("layer {i} of {n}", { i: header.layer + 1, n: model.num_layers }) : "",
      model.bidirectional ? (header.direction ? tr("reverse ←") : tr("forward →")) : ""].filter(Boolean);  // the caption says how it reads
    const sizes = title.sized ? [] : [tr("hidden {n}", { n: model.hidden_size })];
    this.el.textContent = [local(title, "text"), ...sizes, ...stack].join(" · ");
    this.notes.textContent = minusSigns((local(model.card, "notes") ?? local(kindInfo, "summary")) + assumedText(model.assumed));  // "r = −0.45"
    this.notes.classList.remove("open");
  }
}

export class StepCaption extends View {
  static id = "caption";

  /** The step as every caption of the page numbers it (t from 0, as in the equations), and the phase shown. */
  show(t, phase) {
    const p = this.info?.glossary.phases.find((x) => x.name === phase);
    const input = tr("input {token}", { token: JSON.stringify(showToken(this.trace?.tokens[t] ?? "")) });
    const read = this.header?.direction ? ` · ${tr("read from the end")}` : "";
    writeText(this.el, `t = ${t}  ·  ${input}${p ? `  ·  ${tr("phase: {title}", { title: local(p, "title") })}` : ""}${read}`);
  }
}
