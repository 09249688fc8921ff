// The current-step line over a Plotly chart, as an element moved with a CSS transform. Moving it never
// asks Plotly to redraw (a relayout of a stacked heatmap figure costs ~50 ms; this costs ~0.1 ms). Its
// position comes from the plot area Plotly computed, and is redone after every Plotly draw.

import { palette } from "../core/config.js";

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
