// The animation export's dialog (templates/_partials.html animation_dialog): the range, phases, size and frame rate,
// what that makes (frames, seconds), a progress bar and a cancel button; it checks the request against the server's
// limits before any frame is drawn, and saves the file under a name that says what it is.

import { FrameSource, SIZES, encodeGif, encodeVideo, frameList, problem, videoType } from "gatescope/controls/animation-export.js";
import { local, tr } from "gatescope/core/i18n.js";

/** What the dialog asks for, read off its fields: the view, the size, the range and its frames, the format. */
function request(ctx) {
  const { $, getState, getHeader, getKind, trace } = ctx, state = getState(), kind = getKind();
  const diagram = document.getElementById("diagram");
  const [width, height] = $("size").value === "view" ? [diagram.clientWidth, diagram.clientHeight + 80] : SIZES[$("size").value];
  const phaseNames = kind ? kind.glossary.phases.map((p) => p.name) : [];
  const from = Number($("from").value), to = Number($("to").value);
  const frames = Number.isInteger(from) && Number.isInteger(to) && to >= from && to < trace.steps
    ? frameList({ from, to, phases: $("phases").checked, phaseNames, pace: state.pace, speed: state.speed, fps: Number($("fps").value) }) : [];
  return { state, header: getHeader(), kind, width, height, from, to, frames, format: $("format").value };
}

/** Say what the request makes (or what is wrong with it, by name and limit); the request when it can run. */
function describe(ctx) {
  const { $, config, trace } = ctx, r = request(ctx), seconds = r.frames.reduce((a, f) => a + f.ms, 0) / 1000;
  const wrong = problem({ from: r.from, to: r.to, steps: trace.steps, frames: r.frames.length, width: r.width, height: r.height }, config.limits);
  const size = tr("{frames} frames, {seconds} s at {width} × {height}", { frames: r.frames.length, seconds: seconds.toFixed(1), width: r.width, height: r.height });
  const video = r.format !== "video" ? "" : videoType() ? tr(" (recorded in real time, as {type})", { type: videoType() })
    : tr(" (recorded in real time, as no format this browser records)");
  $("summary").textContent = wrong ?? size + video;
  $("start").disabled = Boolean(wrong) || ctx.job !== null;
  return wrong ? null : r;
}

/** The caption of a frame: the model, the step with its token and phase, the input. */
function captionOf(r, trace) {
  const title = document.getElementById("model-title")?.textContent ?? "gatescope", input = r.header.request.input;
  const phases = Object.fromEntries(r.kind.glossary.phases.map((p, i) => [p.name, `${i + 1} / ${r.kind.glossary.phases.length} · ${local(p, "title")}`]));
  return (f) => [title, `t = ${f.t} · ${tr("input “{token}”", { token: trace.tokens[f.t] ?? "" })}${f.phase ? ` · ${tr("phase {phase}", { phase: phases[f.phase] })}` : ""}`,
    tr("input: {input}", { input: input.length > 90 ? `${input.slice(0, 90)}…` : input })];
}

/** Draw and encode the frames, then save the file; a cancel or a failure keeps nothing and says so. */
async function start(ctx) {
  const { $, trace, dialog } = ctx, r = describe(ctx);
  if (!r) return;
  const mine = ctx.job = { cancelled: false };
  const source = new FrameSource({ kindInfo: r.kind, header: r.header, options: r.state, trace, width: r.width, height: r.height });
  const progress = $("progress"), t0 = performance.now();
  Object.assign(progress, { hidden: false, value: 0 });
  $("start").disabled = true;
  $("status").textContent = tr("drawing frames…");
  try {
    const encode = r.format === "gif" ? encodeGif : encodeVideo;
    const blob = await encode(source, r.frames, captionOf(r, trace), { onProgress: (done, total) => { progress.value = done / total; }, cancelled: () => mine.cancelled });
    if (!blob) { $("status").textContent = tr("cancelled: nothing was saved"); return; }
    const ext = r.format === "gif" ? "gif" : blob.type.includes("mp4") ? "mp4" : "webm";
    const href = URL.createObjectURL(blob);
    Object.assign(document.createElement("a"), { href, download: ctx.exportName({ ...r.state, step: `${r.from}-${r.to}` }, r.header, ext) }).click();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
    $("status").textContent = tr("saved: {frames} frames, {mb} MB, in {seconds} s", { frames: r.frames.length, mb: (blob.size / 1e6).toFixed(1),
      seconds: ((performance.now() - t0) / 1000).toFixed(1) });
    dialog.dataset.done = String(blob.size);
  } catch (err) {
    $("status").textContent = tr("Export failed: {why}", { why: err.message });
    ctx.onMessage(tr("Export failed: {why}", { why: err.message }));
  } finally {
    source.dispose();
    ctx.job = null;
    progress.hidden = true;
    describe(ctx);
  }
}

export function createAnimationExport(dialog, { config, getState, getHeader, getKind, trace, exportName, onMessage }) {
  if (!dialog) return { open() {} };
  const $ = (name) => dialog.querySelector(`[data-anim="${name}"]`);
  const ctx = { dialog, $, config, getState, getHeader, getKind, trace, exportName, onMessage, job: null };  // job: the export running
  dialog.addEventListener("input", () => describe(ctx));
  dialog.addEventListener("change", () => describe(ctx));
  $("start").addEventListener("click", () => start(ctx));
  $("cancel").addEventListener("click", () => { if (ctx.job) ctx.job.cancelled = true; else dialog.close(); });
  dialog.addEventListener("close", () => { if (ctx.job) ctx.job.cancelled = true; });

  return {
    /** Open on a format, the range around the current step (ten steps from it, within the run). */
    open(format) {
      const t = getState().step ?? 0;
      $("format").value = format;
      $("from").value = String(Math.min(t, Math.max(0, trace.steps - 1)));
      $("to").value = String(Math.min(trace.steps - 1, Number($("from").value) + 9));
      $("status").textContent = "";
      delete dialog.dataset.done;
      describe(ctx);
      dialog.showModal();
    },
  };
}
