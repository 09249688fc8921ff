// The flow animation's plan, read off the kind's own description (its glossary's phases and operands, its
// diagram's wires), with nothing per kind: what travels and what fills in, phase by phase, in the article's order
// (../shared/reference/animation.md). Pure: a frame is a function of (phase, progress) alone, so an export or a
// test can ask for any frame.
//
// Within a phase, its names are put in stages by how deep they sit in the phase's own chain of operands: a
// pre-activation (stage 0) fills from the joined [h(t−1), x(t)] that reached it in the first phase; the wire
// through its box travels and the gate fills (stage 1); the gate's wire into its × travels and the product fills.
// In each stage the wires into its names travel first (a share TRAVEL of the stage), then the names fill in.

export const TRAVEL = 0.55;  // of a stage with wires to travel: their share; the rest is the filling in
const JOIN = /^\[.*\]$/;     // the joint of h(t−1) and x(t): a node of the wires, not a name with numbers

/** An ease in and out: the squares start and stop gently. */
export const ease = (u) => (u <= 0 ? 0 : u >= 1 ? 1 : u * u * (3 - 2 * u));

/**
 * {order, phaseOf, stages: {phase: [{travel: [wire index], fill: [name]}]}, handover: [{name, from}]}.
 * A wire travels in the phase of the name it feeds (a wire that leaves the cell, in its source's); the wires out
 * of the joint travel in the first phase, which copies [h(t−1), x(t)] along the bus to every layer. handover: the
 * states that come from the step before (h(t−1) from h), which slide in at the first phase's start.
 */
export function flowPlan(kindInfo) {
  const order = kindInfo.glossary.phases.map((p) => p.name);
  const names = Object.fromEntries(kindInfo.glossary.names.map((n) => [n.name, n]));
  const drawn = new Set(kindInfo.diagram.nodes.map((n) => n.name));
  const wires = kindInfo.diagram.wires ?? [];
  const first = order[0];
  const phaseOf = (node) => (JOIN.test(node) ? first : names[node]?.phase);
  const wirePhase = (w) => (JOIN.test(w.source) ? first : drawn.has(w.target) ? phaseOf(w.target) : phaseOf(w.source));
  // a node's depth in its phase: one more than the deepest of its sources in the same phase
  const into = (node) => wires.filter((w) => w.target === node);
  const depth = new Map();
  const depthOf = (node, seen = new Set()) => {
    if (depth.has(node)) return depth.get(node);
    if (seen.has(node)) return 0;  // a loop in a description is not this plan's to judge: it is drawn, not animated
    seen.add(node);
    const within = into(node).filter((w) => w.source !== node && phaseOf(w.source) === phaseOf(node));
    const d = within.length ? 1 + Math.max(...within.map((w) => depthOf(w.source, seen))) : 0;
    depth.set(node, d);
    return d;
  };
  const stages = Object.fromEntries(order.map((p) => [p, []]));
  const stage = (p, d) => { while (stages[p].length <= d) stages[p].push({ travel: [], fill: [] }); return stages[p][d]; };
  for (const name of drawn) if (phaseOf(name)) stage(phaseOf(name), depthOf(name)).fill.push(name);
  wires.forEach((w, i) => {
    const p = wirePhase(w);
    if (!stages[p]) return;
    // into a name: the stage it fills in; out of the cell, or out of the joint onto the bus: after its source
    const d = drawn.has(w.target) && phaseOf(w.target) === p ? depthOf(w.target) : depthOf(w.source) + 1;
    stage(p, d).travel.push(i);
  });
  for (const p of order) stages[p] = stages[p].filter((s) => s.travel.length || s.fill.length);
  const handover = kindInfo.glossary.names.filter((n) => n.role === "state_in" && drawn.has(n.name) && n.operands?.length && drawn.has(n.operands[0]))
    .map((n) => ({ name: n.name, from: n.operands[0] }));
  return { order, phaseOf, stages, handover };
}

/**
 * What a frame shows at (phase, progress in [0, 1]): {fill: {name: fraction of its cells coloured}, travel:
 * [{wire, at}] with at in [0, 1] along the wire, handover: [{name, from, at}] (the first phase only)}. phase null
 * shows the whole step. Earlier phases are complete; later ones show no numbers.
 */
export function flowFrame(plan, phase, progress = 1) {
  const fill = {}, travel = [], handover = [];
  const active = phase === null ? plan.order.length : plan.order.indexOf(phase);
  plan.order.forEach((p, i) => {
    for (const s of plan.stages[p]) for (const name of s.fill) fill[name] = i < active ? 1 : 0;
  });
  if (phase === null || active < 0) return { fill, travel, handover };
  const stages = plan.stages[phase];
  // the first phase opens with the hand-over: the states of the step before slide in, then the rest
  const lead = active === 0 && plan.handover.length ? 1 : 0, parts = stages.length + lead, u = Math.min(1, Math.max(0, progress)) * parts;
  if (lead) for (const h of plan.handover) handover.push({ ...h, at: ease(Math.min(1, u)) });
  stages.forEach((s, k) => {
    const local = u - (k + lead);  // this stage's own progress: below 0 not begun, above 1 done
    const split = s.travel.length && s.fill.length ? TRAVEL : s.travel.length ? 1 : 0;
    if (local > 0 && local < 1 && split > 0 && local < split) for (const wire of s.travel) travel.push({ wire, at: ease(local / split) });
    const f = split >= 1 ? (local >= 1 ? 1 : 0) : ease((local - split) / (1 - split));
    for (const name of s.fill) fill[name] = local >= 1 ? 1 : local <= split ? 0 : f;
  });
  return { fill, travel, handover };
}

/** The point at fraction at of a polyline's length, and the direction it runs there. */
export function along(points, at) {
  const lengths = points.slice(1).map((p, i) => Math.hypot(p[0] - points[i][0], p[1] - points[i][1]));
  let rest = Math.max(0, Math.min(1, at)) * lengths.reduce((a, b) => a + b, 0);
  for (let i = 0; i < lengths.length; i++) {
    if (rest <= lengths[i] || i === lengths.length - 1) {
      const f = lengths[i] ? Math.min(1, rest / lengths[i]) : 0, [a, b] = [points[i], points[i + 1]];
      return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    }
    rest -= lengths[i];
  }
  return points[0];
}
