// The animation export's dialog (templates/_partials.html animation_dialog): the range, phases, size and frame rate,
// what that makes (frames, seconds), a progress bar and a cancel button; it checks the request against the server's
// limits before any frame is drawn, and saves the file under a name that says what it is.

import { FrameSource, SIZES, encodeGif, encodeVideo, frameList, problem, videoType } from "./animation-export.js";

export function createAnimationExport(dialog, { config, getState, getHeader, getKind, trace, exportName, onMessage }) {
  if (!dialog) return { open() {} };
  const $ = (name) => dialog.querySelector(`[data-anim="${name}"]`);
  let job = null;  // the export running: {cancelled}

  function request() {
    const state = getState(), header = getHeader(), kind = getKind();
    const [width, height] = $("size").value === "view"
      ? [document.getElementById("diagram").clientWidth, document.getElementById("diagram").clientHeight + 80] : SIZES[$("size").value];
    const phaseNames = kind ? kind.glossary.phases.map((p) => p.name) : [];
    const from = Number($("from").value), to = Number($("to").value);
    const frames = Number.isInteger(from) && Number.isInteger(to) && to >= from && to < trace.steps
      ? frameList({ from, to, phases: $("phases").checked, phaseNames, pace: state.pace, speed: state.speed, fps: Number($("fps").value) }) : [];
    return { state, header, kind, width, height, from, to, frames, format: $("format").value };
  }

  function describe() {
    const r = request(), seconds = r.frames.reduce((a, f) => a + f.ms, 0) / 1000;
    const wrong = problem({ from: r.from, to: r.to, steps: trace.steps, frames: r.frames.length, width: r.width, height: r.height }, config.limits);
    $("summary").textContent = wrong ?? `${r.frames.length} frames, ${seconds.toFixed(1)} s at ${r.width} × ${r.height}` +
      (r.format === "video" ? ` (recorded in real time, as ${videoType() ?? "no format this browser records"})` : "");
    $("start").disabled = Boolean(wrong) || job !== null;
    return wrong ? null : r;
  }

  /** The caption of a frame: the model, the step with its token and phase, the input. */
  function captionOf(r) {
    const title = document.getElementById("model-title")?.textContent ?? "gatescope", input = r.header.request.input;
    const phases = Object.fromEntries(r.kind.glossary.phases.map((p, i) => [p.name, `${i + 1} / ${r.kind.glossary.phases.length} · ${p.title}`]));
    return (f) => [title, `t = ${f.t} · input “${trace.tokens[f.t] ?? ""}”${f.phase ? ` · phase ${phases[f.phase]}` : ""}`,
      `input: ${input.length > 90 ? `${input.slice(0, 90)}…` : input}`];
  }

  async function start() {
    const r = describe();
    if (!r) return;
    const mine = job = { cancelled: false };
    const source = new FrameSource({ kindInfo: r.kind, header: r.header, options: r.state, trace, width: r.width, height: r.height });
    const progress = $("progress"), t0 = performance.now();
    Object.assign(progress, { hidden: false, value: 0 });
    $("start").disabled = true;
    $("status").textContent = "drawing frames…";
    try {
      const encode = r.format === "gif" ? encodeGif : encodeVideo;
      const blob = await encode(source, r.frames, captionOf(r), { onProgress: (done, total) => { progress.value = done / total; }, cancelled: () => mine.cancelled });
      if (!blob) { $("status").textContent = "cancelled: nothing was saved"; return; }
      const ext = r.format === "gif" ? "gif" : blob.type.includes("mp4") ? "mp4" : "webm";
      const href = URL.createObjectURL(blob);
      Object.assign(document.createElement("a"), { href, download: exportName({ ...r.state, step: `${r.from}-${r.to}` }, r.header, ext) }).click();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
      $("status").textContent = `saved: ${r.frames.length} frames, ${(blob.size / 1e6).toFixed(1)} MB, in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      dialog.dataset.done = String(blob.size);
    } catch (err) {
      $("status").textContent = `Export failed: ${err.message}`;
      onMessage(`Export failed: ${err.message}`);
    } finally {
      source.dispose();
      job = null;
      progress.hidden = true;
      describe();
    }
  }

  dialog.addEventListener("input", describe);
  dialog.addEventListener("change", describe);
  $("start").addEventListener("click", start);
  $("cancel").addEventListener("click", () => { if (job) job.cancelled = true; else dialog.close(); });
  dialog.addEventListener("close", () => { if (job) job.cancelled = true; });

  return {
    /** Open on a format, the range around the current step (ten steps from it, within the run). */
    open(format) {
      const t = getState().step ?? 0;
      $("format").value = format;
      $("from").value = String(Math.min(t, Math.max(0, trace.steps - 1)));
      $("to").value = String(Math.min(trace.steps - 1, Number($("from").value) + 9));
      $("status").textContent = "";
      delete dialog.dataset.done;
      describe();
      dialog.showModal();
    },
  };
}
