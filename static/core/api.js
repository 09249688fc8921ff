// The page's requests for JSON (the stream aside): one way to read an answer and its error.

import { errorText } from "gatescope/core/text.js";

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
