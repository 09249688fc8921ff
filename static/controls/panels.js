// The page's panels, read from what the views declare (static panel, views/view.js) rather than written out
// in the template: a View-menu checkbox for each, a plain section for each the template has no markup for,
// which are shown, and what of the whole run the shown ones need. Sections with markup of their own (the
// diagram's head, the player, the line controls) stay in templates/_partials.html.

/** A panel's plain section: hidden until panels.show() says otherwise, with its view's element in it. */
function section(panel) {
  const el = document.createElement("section");
  el.className = `panel ${panel.name}-panel`;
  el.dataset.panel = panel.name;
  el.setAttribute("aria-label", panel.label);
  el.hidden = true;
  const chart = document.createElement("div");
  chart.id = panel.id;
  chart.className = "chart";
  el.append(chart);
  return el;
}

/**
 * The diagram as large as the first screen allows, and no larger: on a wide screen the diagram, the phase text and
 * the player stay above the fold (in /embed the whole page fits its frame). Its height follows its width
 * (aspect-ratio); --diagram-max caps it. The diagram hears of a new size as a window resize, as on any other.
 */
function fit(layout) {
  const diagram = layout.querySelector("#diagram");
  if (!diagram || layout.querySelector(".diagram-panel")?.hidden) return;
  const embed = document.body.classList.contains("embed");
  if (!embed && matchMedia("(max-width: 900px)").matches) return diagram.style.removeProperty("--diagram-max");  // a phone scrolls
  const player = layout.querySelector(".tokens-panel:not([hidden]) .player") ?? layout.querySelector("#phase");
  // in /embed the views and the link under them (which the page's flex layout keeps at the frame's foot) fill the frame
  const last = embed ? layout : player, below = embed ? (document.querySelector(".embed-credit")?.offsetHeight ?? 0) + 10 : 10;
  const before = diagram.style.getPropertyValue("--diagram-max");
  for (let i = 0; i < 4; i++) {
    const h = diagram.getBoundingClientRect().height;
    const over = last.getBoundingClientRect().bottom + scrollY + below - innerHeight;
    if (Math.abs(over) < 2 || (over < 0 && h >= innerHeight * 0.72)) break;
    diagram.style.setProperty("--diagram-max", `${Math.round(Math.max(90, Math.min(innerHeight * 0.72, h - over)))}px`);
  }
  if (diagram.style.getPropertyValue("--diagram-max") !== before) window.dispatchEvent(new Event("resize"));
}

/** The panels of views (in their order) in layout; adds to it the sections the template lacks, in that order. */
export function createPanels(views, layout) {
  // /embed must fit its frame whatever grows after the first fit (a player that wraps once the step label is
  // longer, late fonts): the layout's own size changing fits it again (fit stops once nothing changes)
  if (document.body.classList.contains("embed")) new ResizeObserver(() => requestAnimationFrame(() => fit(layout))).observe(layout);
  const panels = views.filter((V) => V.panel).map((V) => ({ needs: null, when: () => true, ...V.panel, id: V.id }));
  for (const p of panels) {
    if (!layout.querySelector(`[data-panel="${CSS.escape(p.name)}"]`)) layout.append(section(p));
  }
  /** The state's panels that the run (its header, or null before it is described) has something for. */
  const shown = (state, header) => {
    const on = new Set(state.panels.split(","));
    return panels.filter((p) => on.has(p.name) && p.when(header));
  };

  return {
    /** The View menu's checkboxes, one per panel, into box; they say which panels are on (chrome.js). */
    toggles(box) {
      box.replaceChildren(...panels.map((p) => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "checkbox";
        input.dataset.panelToggle = p.name;
        label.append(input, ` ${p.label}`);
        return label;
      }));
    },
    /** Show the sections of the shown panels, hide the others (a section no view declares stays hidden). */
    show(state, header) {
      const on = new Set(shown(state, header).map((p) => p.name));
      layout.querySelectorAll("[data-panel]").forEach((el) => { el.hidden = !on.has(el.dataset.panel); });
    },
    /** Size the diagram to the screen (after a run is drawn, the panels or presenter mode change, a resize). */
    fit: () => fit(layout),
    /** Whether a shown panel needs what ("flow"): the page fetches it only then. */
    needed(what, state, header) {
      return shown(state, header).some((p) => p.needs === what);
    },
  };
}
