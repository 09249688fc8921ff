// The page's views: one module name a line, in the order they draw. A view is a class extending views/view.js
// that keeps the contract of core/bus.js mount(); a view that is a panel of the page says so in its class
// (static panel), and controls/panels.js gives it a View-menu checkbox and, unless the template already has
// its section, a plain one. So adding a view is its module in this folder and its name here: nothing else.

import { View } from "gatescope/views/view.js";

export const NAMES = [
  "diagram",
  "heatmaps",
  "lines",
  "tokens",
  "predictions",
  "gradients",
  "saturation",
  "equation",
  "captions",
  "chain",
];

/** The View classes each module exports, module by module in the list's order (within a module, by export
 *  name: a module namespace is sorted). Helpers a module also exports (lines.js's focusName) are skipped. */
export async function load(names) {
  const modules = await Promise.all(names.map((name) => import(`gatescope/views/${name}.js`)));
  return modules.flatMap((m) => Object.values(m).filter((v) => typeof v === "function" && v.prototype instanceof View));
}

export const VIEWS = await load(NAMES);
