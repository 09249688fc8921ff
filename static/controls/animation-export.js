// Animated GIF and video of the flow animation, for slides: the frames are the diagram's own (views/diagram.js
// drawn off screen at the slide's size, each frame a pure function of step, phase and progress), under a caption
// naming the model, the step and its input. The GIF is encoded by gifenc (vendored, static/vendor/gifenc), the video
// by the browser's MediaRecorder (WebM, or MP4 where the browser records it). Cancelling leaves nothing behind.

import { GIFEncoder, nearestColorIndex, quantize } from "gatescope/vendor/gifenc/gifenc.esm.js";
import { Diagram } from "gatescope/views/diagram.js";
import { PACE } from "gatescope/controls/player.js";
import { FONT_FAMILY, INK } from "gatescope/core/config.js";
import { CAPTION, captioned, rasterise } from "gatescope/controls/diagram-export.js";
import { tr } from "gatescope/core/i18n.js";

export const SIZES = { "1280x720": [1280, 720], "1920x1080": [1920, 1080] };
const CAPTION_PX = CAPTION.pad * 2 + CAPTION.line * 3;  // the three caption lines diagram-export.js sets above the diagram

/** A cell or a packet's square (an SVG <rect>), filled and outlined as the SVG draws it, offset by (dx, dy). */
function square(ctx, rect, dx, dy) {
  const x = Number(rect.getAttribute("x")) + dx, y = Number(rect.getAttribute("y")) + dy;
  const w = Number(rect.getAttribute("width")), h = Number(rect.getAttribute("height"));
  ctx.fillStyle = rect.getAttribute("fill");
  ctx.fillRect(x, y, w, h);
  ctx.strokeRect(x, y, w, h);
}

/**
 * The frames of steps from..to: with phases, each phase in progress steps at fps (its pace's seconds long), else one
 * frame a step lasting 1/speed s. [{t, phase, progress, ms}], ms the frame's true length (83.33… at 12 fps). Pure.
 */
export function frameList({ from, to, phases, phaseNames, pace = "normal", speed = 2, fps = 12 }) {
  const out = [];
  const seconds = PACE[pace] ?? PACE.normal, per = Math.max(2, Math.round(seconds * fps));
  for (let t = from; t <= to; t++) {
    if (!phases || !phaseNames.length) out.push({ t, phase: null, progress: 1, ms: 1000 / speed });
    else for (const phase of phaseNames) for (let k = 1; k <= per; k++) out.push({ t, phase, progress: k / per, ms: (1000 * seconds) / per });
  }
  return out;
}

const GIF_MIN_CS = 2;  // browsers play a GIF delay of 0 or 1 hundredth as 10 hundredths: a shorter frame is drawn at 2

/**
 * The frames' GIF delays, in hundredths of a second (GIF's unit): each frame ends at the hundredth nearest its true
 * end, so frames of 83⅓ ms take 8, 8, 9, 8, 8, 9… hundredths and twelve of them one second, not 0.96. Pure.
 */
export function gifDelays(frames) {
  let end = 0, written = 0;
  return frames.map((f) => {
    end += f.ms;
    const cs = Math.max(GIF_MIN_CS, Math.round(end / 10) - written);
    written += cs;
    return cs;
  });
}

/** What is wrong with an export request, in words naming the field, the value and the limit; null when it is fine. */
export function problem({ from, to, steps, frames, width, height }, limits) {
  if (!Number.isInteger(from) || from < 0 || from >= steps) return tr("from: step {from} is not in the run (steps 0 to {last})", { from, last: steps - 1 });
  if (!Number.isInteger(to) || to < from || to >= steps) return tr("to: step {to} is not in the run after step {from} (the last is {last})", { to, from, last: steps - 1 });
  if (frames > limits.max_export_frames) {
    return tr("frames: {frames} frames, more than the limit {limit} (setting GATESCOPE_MAX_EXPORT_FRAMES); choose fewer steps or a faster pace",
      { frames, limit: limits.max_export_frames });
  }
  if (width * height > limits.max_export_pixels) {
    return tr("size: {width}×{height} is more than the limit of {limit} pixels (setting GATESCOPE_MAX_EXPORT_PIXELS)", { width, height, limit: limits.max_export_pixels });
  }
  return null;
}

/** The diagram drawn off screen at a slide's size, so that a frame of it can be painted on a canvas. */
export class FrameSource {
  constructor({ kindInfo, header, options, trace, width, height }) {
    this.host = Object.assign(document.createElement("div"), { className: "diagram export-host" });
    Object.assign(this.host.style, { position: "fixed", left: "-30000px", top: "0", width: `${width}px`, height: `${height - CAPTION_PX}px`,
      maxWidth: "none", aspectRatio: "auto" });
    document.body.append(this.host);
    this.view = new Diagram(this.host, { emit() {}, on() {} });  // its own: the page's bus never hears of it
    this.view.build(kindInfo, header, options);
    this.view.update(trace);
    Object.assign(this, { width, height, header, kindInfo });
  }

  /**
   * Paint frame f with its caption lines onto ctx (the canvas is width x height), as diagram-export.js would draw
   * the captioned SVG, but fast: the parts a phase does not change (wires, boxes, the legend below the cells; labels
   * and symbols above them) are rasterised once a phase, and each frame paints only its cells, its moving squares
   * and its caption on the canvas (about 3 ms a frame instead of 20).
   */
  async paint(ctx, f, lines) {
    this.view.show(f.t, f.phase, true);
    this.view.move(f.t, f.phase, f.progress);
    const svg = this.host.querySelector("svg"), { below, above } = await this.layers(svg, f.phase);
    ctx.fillStyle = INK.paper;
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.fillStyle = INK.label;
    lines.forEach((text, i) => {
      ctx.font = `${i === 0 ? "bold " : ""}${CAPTION.size}px ${FONT_FAMILY}`;
      ctx.fillText(text, CAPTION.pad, CAPTION.pad + CAPTION.line * (i + 0.75));
    });
    ctx.drawImage(below, 0, CAPTION_PX);
    ctx.strokeStyle = INK.cellEdge;
    ctx.lineWidth = 0.5;
    for (const cell of svg.querySelectorAll(".strips .cell")) square(ctx, cell, 0, CAPTION_PX);
    for (const packet of svg.querySelectorAll('.packets .packet[visibility="visible"]')) {
      const [x, y] = packet.getAttribute("transform").match(/-?[\d.]+/g).map(Number);
      for (const sq of packet.children) square(ctx, sq, x, y + CAPTION_PX);
    }
    ctx.drawImage(above, 0, CAPTION_PX);
  }

  /** The diagram's unchanging parts in a phase, as two images: under the cells and over them. */
  async layers(svg, phase) {
    const key = String(phase);
    if (!this.cache) this.cache = new Map();
    if (!this.cache.has(key)) {
      const keep = (classes) => {
        const copy = svg.cloneNode(true);
        for (const g of copy.querySelectorAll(":scope > g")) if (!classes.includes(g.getAttribute("class"))) g.remove();
        if (!classes.includes("paper")) copy.querySelector(".paper")?.remove();
        return rasterise(copy);
      };
      this.cache.set(key, { below: await keep(["paper", "wires", "legend"]), above: await keep(["texts"]) });
    }
    return this.cache.get(key);
  }

  /** The slow way, the exact captioned SVG (diagram-export.js) rasterised: what paint() is checked against. */
  async paintWhole(ctx, f, lines) {
    this.view.show(f.t, f.phase, true);
    this.view.move(f.t, f.phase, f.progress);
    ctx.drawImage(await rasterise(captioned(this.host.querySelector("svg"), lines).svg), 0, 0);
  }

  dispose() { this.host.remove(); }
}

/**
 * Render frames into a GIF. The palette is measured on the first step's last frame (every part coloured); a frame
 * after the first carries only the pixels that changed (the rest transparent over the frame before, which stays):
 * a frame of the flow changes a few squares, so this is small and quick to encode. onProgress(done, total);
 * cancelled() stops it (null back, nothing kept). A Blob.
 */
export async function encodeGif(source, frames, captionOf, { onProgress, cancelled }) {
  const { width: w, height: h } = source;
  const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const sample = frames.filter((f) => f.t === frames[0].t).at(-1);
  await source.paint(ctx, sample, captionOf(sample));
  const palette = quantize(ctx.getImageData(0, 0, w, h).data, 255, { format: "rgb444" });
  const clear = palette.length;  // the index of "unchanged": one past the colours
  const index = paletteIndex(palette);
  const gif = GIFEncoder(), before = new Uint32Array(w * h), out = new Uint8Array(w * h), delays = gifDelays(frames);
  for (let i = 0; i < frames.length; i++) {
    if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 0));  // let the page paint its progress and hear Cancel
    if (cancelled()) return null;
    await source.paint(ctx, frames[i], captionOf(frames[i]));
    const now = new Uint32Array(ctx.getImageData(0, 0, w, h).data.buffer);
    for (let p = 0; p < now.length; p++) {
      if (i > 0 && now[p] === before[p]) out[p] = clear;
      else { out[p] = index(now[p]); before[p] = now[p]; }
    }
    const delay = delays[i] * 10;  // in ms, as gifenc takes it (and divides by 10 again)
    gif.writeFrame(out, w, h, i === 0 ? { palette: [...palette, [255, 0, 255]], delay, repeat: 0 }
      : { delay, transparent: true, transparentIndex: clear, dispose: 1 });
    onProgress(i + 1, frames.length);
  }
  gif.finish();
  return new Blob([gif.bytes()], { type: "image/gif" });
}

/** The nearest palette colour of an RGBA pixel (as its little-endian uint32), remembered per colour. */
function paletteIndex(palette) {
  const seen = new Map();
  return (rgba) => {
    let i = seen.get(rgba);
    if (i === undefined) {
      i = nearestColorIndex(palette, [rgba & 255, (rgba >>> 8) & 255, (rgba >>> 16) & 255]);
      seen.set(rgba, i);
    }
    return i;
  };
}

/** The container the browser records video in: WebM (VP9, VP8), else MP4; null when it records none. */
export function videoType() {
  const types = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm", "video/mp4"];
  return typeof MediaRecorder === "function" ? types.find((t) => MediaRecorder.isTypeSupported(t)) ?? null : null;
}

/**
 * Record frames as a video in real time: each frame is painted, handed to the recorder and held for its duration
 * (MediaRecorder stamps frames by the clock). A Blob, or null when cancelled.
 */
export async function encodeVideo(source, frames, captionOf, { onProgress, cancelled }) {
  const type = videoType();
  if (!type) throw new Error("this browser records no video (MediaRecorder has no WebM or MP4)");
  const canvas = Object.assign(document.createElement("canvas"), { width: source.width, height: source.height });
  const ctx = canvas.getContext("2d");
  const stream = canvas.captureStream(0), track = stream.getVideoTracks()[0];
  const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 6_000_000 });
  const chunks = [];
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  let due = performance.now();
  for (let i = 0; i < frames.length && !cancelled(); i++) {
    await source.paint(ctx, frames[i], captionOf(frames[i]));
    track.requestFrame();
    due += frames[i].ms;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    onProgress(i + 1, frames.length);
  }
  recorder.stop();
  await stopped;
  track.stop();
  return cancelled() ? null : new Blob(chunks, { type: type.split(";")[0] });
}
