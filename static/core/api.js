// The page's requests for JSON (the stream aside): one way to read an answer and its error.

import { errorText } from "./text.js";

/** fetch(url) as JSON; an Error with the server's message when the answer is not 2xx. */
export async function fetchJson(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(errorText(body.detail));
  return body;
}

/** GET /api/gradients for a query: how far back the last hidden state reaches. */
export function fetchFlow(params) {
  return fetchJson(`/api/gradients?${params}`);
}

const kinds = new Map();

/** GET /api/kinds/{kind} under a model's options (the diagram, vocabulary and phases), asked once per page. */
export function fetchKind(model) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(model.options)) if (v !== null) params.set(k, String(v));
  const key = `${model.kind}?${params}`;
  if (!kinds.has(key)) kinds.set(key, fetchJson(`/api/kinds/${model.kind}?${params}`));
  return kinds.get(key);
}
