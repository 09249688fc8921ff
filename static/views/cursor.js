// The current-step line over a Plotly chart, as an element moved with a CSS transform. Moving it never
// asks Plotly to redraw (a relayout of a stacked heatmap figure costs ~50 ms; this costs ~0.1 ms). Its
// position comes from the plot area Plotly computed, and is redone after every Plotly draw.

import { palette } from "gatescope/core/config.js";

export function createCursor(el, color = palette().highlight) {
  let wrap = el.parentElement;
  if (!wrap?.classList.contains("cursor-wrap")) {
    wrap = document.createElement("div");
    wrap.className = "cursor-wrap";
    el.replaceWith(wrap);
    wrap.append(el);
  }
  const line = document.createElement("div");
  line.className = "cursor-line";
  line.style.background = color;
  line.hidden = true;
  wrap.append(line);
  let t = 0, hooked = false;

  function place() {
    const layout = el._fullLayout;
    if (!layout?.xaxis?.range || !layout._size) return;
    if (!hooked) {  // the chart exists now: follow its redraws
      el.on("plotly_afterplot", place);
      hooked = true;
    }
    const size = layout._size, [r0, r1] = layout.xaxis.range;
    const x = size.l + ((t - r0) / (r1 - r0)) * size.w;
    line.hidden = !(x >= size.l - 1 && x <= size.l + size.w + 1);
    line.style.transform = `translateX(${x}px)`;
    line.style.top = `${size.t}px`;
    line.style.height = `${size.h}px`;
  }

  return {
    move(step) { t = step; place(); },
    place,
    set color(c) { line.style.background = c; },
  };
}

/**
 * A unit's row outlined in one map of a stacked Plotly chart (the heatmaps), as an element over it like the
 * cursor line: show(axis, unit) with the map's y axis key ("yaxis2"), hide() to take it away. Redone after each draw.
 */
export function createRowMark(el, color = palette().highlight) {
  const wrap = el.parentElement;
  const mark = document.createElement("div");
  mark.className = "row-mark";
  mark.hidden = true;
  wrap.append(mark);
  let at = null, hooked = false;

  function place() {
    const layout = el._fullLayout, axis = at && layout?.[at.axis];
    if (!axis?.l2p || !layout._size) { mark.hidden = true; return; }
    if (!hooked) { el.on("plotly_afterplot", place); hooked = true; }
    const top = axis._offset + axis.l2p(at.unit - 0.5), bottom = axis._offset + axis.l2p(at.unit + 0.5);
    Object.assign(mark.style, { left: `${layout._size.l}px`, width: `${layout._size.w}px`, top: `${Math.min(top, bottom)}px`,
      height: `${Math.max(2, Math.abs(bottom - top))}px`, borderColor: color });
    mark.hidden = false;
  }

  return {
    show(axis, unit) { at = { axis, unit }; place(); },
    hide() { at = null; mark.hidden = true; },
    set color(c) { color = c; },
  };
}
