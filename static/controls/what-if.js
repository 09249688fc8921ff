// The What-if menu: hold gates or states at values (the view state's clamp, cells/clamp.py's syntax) and show the
// held run, the run without the holds, or their difference (clamp_view; the trace carries both, core/trace.js).
// Its examples are the kind's own gates, read off its glossary: no gate is named here.

import { local, tr } from "gatescope/core/i18n.js";

const control = (root, name) => root.querySelector(`[data-control="${name}"]`);

export function createWhatIf(root, { onChange }) {
  const box = control(root, "clamp");
  if (!box) return { sync() {} };
  const view = control(root, "clamp-view"), badge = control(root, "clamp-badge"), examples = control(root, "clamp-examples");
  const submit = () => onChange({ clamp: box.value.trim() || null });
  box.addEventListener("change", submit);
  box.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submit(); } });
  view.addEventListener("change", () => onChange({ clamp_view: view.value }));
  control(root, "clamp-clear").addEventListener("click", () => onChange({ clamp: null, clamp_view: "clamped" }));
  let kindShown = null;

  /** Show the state: the holds typed, what the server applied (its canonical words), the gates to try. */
  function sync(state, kindInfo, trace) {
    if (document.activeElement !== box) box.value = state.clamp ?? "";
    view.value = state.clamp_view ?? "clamped";
    view.disabled = !trace?.compared;
    const applied = trace?.header?.request?.clamp ?? null;
    badge.hidden = !applied;
    badge.textContent = applied ? `: ${applied}` : "";
    if (!kindInfo || kindInfo.name === kindShown) return;
    kindShown = kindInfo.name;
    const gates = kindInfo.glossary.names.filter((n) => n.role === "gate");
    examples.replaceChildren(...gates.flatMap((g) => [1, 0].map((v) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = tr("{gate} at {v}", { gate: local(g, "label"), v });
      b.title = tr("hold every unit of {symbol} at {v}, every step", { symbol: g.symbol, v });
      b.addEventListener("click", () => onChange({ clamp: `${g.name}:${v}`, clamp_view: "clamped" }));
      return b;
    })));
  }
  return { sync };
}
