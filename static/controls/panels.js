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

/** The least height of the side column as a band under a hero chain: the lesson's stop, or the step and its phase. */
function bandHeight(body) {
  return body.classList.contains("embed") ? 110 : body.classList.contains("presenter") ? 170 : 160;
}

/** Set a custom property of el; true when its value changed. */
function setVar(el, name, value) {
  if (el.style.getPropertyValue(name) === value) return false;
  el.style.setProperty(name, value);
  return true;
}

/**
 * The hero as large as the first screen allows, and no larger: the hero, its side column and the player with the
 * tokens stay above the fold (in /embed the whole page fits its frame). The hero is the diagram, at its own
 * proportions (data-aspect, which views/diagram.js writes), under the chain when that is shown too; else the chain
 * (views/chain.js draws it to fill data-room), the side column a band under it. On the lecture screen (body.stage,
 * and any screen under 1301 x 821) the side column takes what width the diagram leaves, at least sideWidth(); on the
 * wide page the phase text is under the diagram; a phone (up to 700 px) scrolls, the diagram as wide as the screen.
 * Sets --diagram-w and --diagram-h on the stage (--side-h under a hero chain).
 */
function fit(layout) {
  const stage = layout.querySelector(".stage-panel"), diagram = layout.querySelector("#diagram"), chain = layout.querySelector("#chain");
  if (!stage || !diagram) return;
  const body = document.body, shown = (el) => el && !el.parentElement.hidden;
  const phone = matchMedia("(max-width: 700px)").matches && !body.classList.contains("embed");
  const wide = !phone && !body.classList.contains("stage") && matchMedia("(min-width: 1301px) and (min-height: 821px)").matches;
  const inner = stage.clientWidth - px(stage, "paddingLeft") - px(stage, "paddingRight");
  const tokens = layout.querySelector(".tokens-panel:not([hidden])");
  const credit = body.classList.contains("embed") ? (document.querySelector(".embed-credit")?.offsetHeight ?? 0) : 0;
  const main = document.querySelector("main");
  // what must fit under the stage: its foot, the player and the tokens
  const foot = px(stage, "paddingBottom") + px(stage, "borderBottomWidth") + (tokens ? tokens.offsetHeight + px(layout, "rowGap") : 0)
    + (main ? px(main, "paddingBottom") : 0) + credit + 2;
  let changed = false;
  if (!shown(diagram)) {  // the chain is the hero, or nothing is
    const hero = shown(chain) && !phone && !wide;
    const top = chain ? chain.getBoundingClientRect().top + scrollY : 0;
    const room = hero ? String(Math.floor(Math.max(120, innerHeight - top - foot - bandHeight(body) - px(stage, "rowGap")))) : undefined;
    if (chain && chain.dataset.room !== room) {
      if (room === undefined) delete chain.dataset.room;
      else chain.dataset.room = room;
      changed = true;
    }
    const drawn = hero ? chain.getBoundingClientRect().bottom + scrollY : 0;
    changed = setVar(stage, "--side-h", hero ? `${Math.floor(Math.max(bandHeight(body), innerHeight - drawn - foot - px(stage, "rowGap")))}px` : "auto") || changed;
    if (changed) window.dispatchEvent(new Event("resize"));
    return;
  }
  const aspect = Number(diagram.dataset.aspect) || 1.45;
  let w, h;
  if (phone) {
    w = inner;
    h = w / aspect;
  } else {
    const top = diagram.getBoundingClientRect().top + scrollY;
    const phase = wide ? (layout.querySelector("#phase")?.offsetHeight ?? 0) + 4 : 0;  // on the wide page, under the diagram
    const room = Math.max(120, innerHeight - top - foot - phase);
    const across = wide ? inner : inner - sideWidth(body, innerWidth) - px(stage, "columnGap");
    [w, h] = across / room > aspect ? [room * aspect, room] : [across, across / aspect];
  }
  changed = setVar(stage, "--diagram-w", `${Math.floor(w)}px`);
  changed = setVar(stage, "--diagram-h", `${Math.floor(h)}px`) || changed;
  if (chain?.dataset.room !== undefined) { delete chain.dataset.room; changed = true; }
  if (changed) window.dispatchEvent(new Event("resize"));
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
