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

/** The side column's least width beside the diagram: the lesson's text, or the phase's words and numbers, must stay
 *  readable; the rest of the width is the diagram's. */
function sideWidth(body, width) {
  const presenter = body.classList.contains("presenter");
  if (body.classList.contains("embed")) return Math.max(150, 0.27 * width);
  if (body.classList.contains("lesson-page")) return presenter ? Math.max(215, 0.21 * width) : Math.max(270, 0.28 * width);
  return presenter ? Math.max(220, 0.22 * width) : Math.max(240, 0.25 * width);
}

const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]) || 0;

/**
 * The diagram as large as the first screen allows, at its own proportions (data-aspect, which views/diagram.js
 * writes), and no larger: the diagram, its side column and the player with the tokens stay above the fold (in /embed
 * the whole page fits its frame). On the lecture screen (body.stage, and any screen under 1301 x 821) the side column
 * takes what width the diagram leaves, at least sideWidth(); on the wide page the phase text is under the diagram; a
 * phone (up to 700 px) scrolls, the diagram as wide as the screen. Sets --diagram-w and --diagram-h on the panel.
 */
function fit(layout) {
  const panel = layout.querySelector(".diagram-panel"), diagram = layout.querySelector("#diagram");
  if (!diagram || !panel || panel.hidden) return;
  const body = document.body, aspect = Number(diagram.dataset.aspect) || 1.45;
  const inner = panel.clientWidth - px(panel, "paddingLeft") - px(panel, "paddingRight");
  const tokens = layout.querySelector(".tokens-panel:not([hidden])");
  const gap = px(layout, "rowGap");
  const before = [panel.style.getPropertyValue("--diagram-w"), panel.style.getPropertyValue("--diagram-h")];
  let w, h;
  if (matchMedia("(max-width: 700px)").matches && !body.classList.contains("embed")) {
    w = inner;
    h = w / aspect;
  } else {
    const wide = !body.classList.contains("stage") && matchMedia("(min-width: 1301px) and (min-height: 821px)").matches;
    const top = diagram.getBoundingClientRect().top + scrollY;
    const credit = body.classList.contains("embed") ? (document.querySelector(".embed-credit")?.offsetHeight ?? 0) : 0;
    const main = document.querySelector("main");
    // what must fit under the diagram: (on the wide page the phase), the panel's foot, the player and the tokens
    const phase = wide ? (layout.querySelector("#phase")?.offsetHeight ?? 0) + 4 : 0;
    const below = phase + px(panel, "paddingBottom") + px(panel, "borderBottomWidth") + (tokens ? tokens.offsetHeight + gap : 0)
      + (main ? px(main, "paddingBottom") : 0) + credit + 2;
    const room = Math.max(120, innerHeight - top - below);
    const across = wide ? inner : inner - sideWidth(body, innerWidth) - px(panel, "columnGap");
    [w, h] = across / room > aspect ? [room * aspect, room] : [across, across / aspect];
  }
  panel.style.setProperty("--diagram-w", `${Math.floor(w)}px`);
  panel.style.setProperty("--diagram-h", `${Math.floor(h)}px`);
  if (panel.style.getPropertyValue("--diagram-w") !== before[0] || panel.style.getPropertyValue("--diagram-h") !== before[1]) {
    window.dispatchEvent(new Event("resize"));
  }
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
