// The diagram as a file: its SVG (what the page drew, with every colour an attribute) under a caption that
// names the model, the step and its input, as a PNG at twice the pixels or as a vector SVG for slides and papers.

import { FONT_FAMILY, INK } from "gatescope/core/config.js";
import { tr } from "gatescope/core/i18n.js";
import { svgNode } from "gatescope/views/diagram-svg.js";

export const CAPTION = { size: 14, line: 20, pad: 10 };  // pixels: the caption's font, its line height, its margin

/** A copy of the diagram's SVG with the caption's lines above it (the first in bold), and its size. */
export function captioned(svg, lines) {
  const width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height"));
  const top = CAPTION.pad * 2 + CAPTION.line * lines.length;
  const out = svgNode("svg", { xmlns: "http://www.w3.org/2000/svg", width, height: height + top, viewBox: `0 0 ${width} ${height + top}`, "font-family": FONT_FAMILY });
  out.append(svgNode("rect", { x: 0, y: 0, width, height: height + top, fill: INK.paper }));
  lines.forEach((text, i) => out.append(svgNode("text", { x: CAPTION.pad, y: CAPTION.pad + CAPTION.line * (i + 0.75), "font-size": CAPTION.size,
    fill: INK.label, "font-weight": i === 0 ? "bold" : "normal" }, text)));
  const body = svg.cloneNode(true);
  body.setAttribute("y", top);
  out.append(body);
  return { svg: out, width, height: height + top };
}

function save(href, name) {
  Object.assign(document.createElement("a"), { href, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** Download the captioned diagram as SVG. */
export function saveSvg(svg, lines, name) {
  const text = new XMLSerializer().serializeToString(captioned(svg, lines).svg);
  save(URL.createObjectURL(new Blob([text], { type: "image/svg+xml" })), name);
}

/** An SVG element as an image, decoded and ready to draw on a canvas. */
export async function rasterise(svg) {
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The captioned diagram painted on a canvas at scale x its pixels: a PNG blob. */
export async function pngBlob(svg, lines, scale = 2) {
  const { svg: whole, width, height } = captioned(svg, lines);
  const canvas = Object.assign(document.createElement("canvas"), { width: width * scale, height: height * scale });
  canvas.getContext("2d").drawImage(await rasterise(whole), 0, 0, width * scale, height * scale);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(tr("the canvas made no PNG")))), "image/png"));
}

/** Download the captioned diagram as PNG. */
export async function savePng(svg, lines, name) {
  save(URL.createObjectURL(await pngBlob(svg, lines)), name);
}
