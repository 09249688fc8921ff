"""Round three's classes of hostile request (issue 18), for bench/fuzz_cases.py's Fuzzer: random models whose weights
are the cost, lesson uploads (heavy stops, deep nesting, lone surrogates, other origins), exports of deep stacks, appends
of characters a vocabulary skips, clamps whose held steps are the cost, cards with bad units, tokens and labels of
millions of characters. Each maker is (fuzzer, rng, n, route) -> Case, a pure function of its arguments."""

from __future__ import annotations

import json

ROUTES = [("POST /api/lessons", 5), ("GET /api/export/html", 3), ("GET /api/trace weights", 4), ("GET /api/trace clamp", 4),
          ("WS /ws/trace skipped", 3), ("POST /api/models card", 4)]

WORDS = {"en": "a stop", "zh": "\u4e00\u7ad9"}
SKIPPED = "\u00a7\u00b6\u2603\U0001f642"  # characters no preset's vocabulary holds


def _case(n, route, method, path, headers=None, body=None, messages=None, note=""):
    from fuzz_cases import Case
    return Case(n, route, method, path, headers or {}, body, messages or [], note)


def _q(pairs) -> str:
    from fuzz_cases import encode_query
    return encode_query([(k, str(v)) for k, v in pairs.items()])


def heavy_model(rng, kinds) -> dict:
    """A random model at or past the weight limit: large hidden, deep, both directions, any kind."""
    return {"kind": rng.choice(kinds), "hidden": rng.choice([256, 512, 768, 1024]),
            "layers": rng.randint(1, 4), "bidirectional": rng.choice(["true", "false"])}


def trace_weights(fz, rng, n, route):
    q = {**heavy_model(rng, fz.kinds), "input": rng.choice(["1", "0.5, 1", "sine 32"]), "input_type": rng.choice(["numbers", "signal"]),
         "names": "h"}
    path = rng.choice(["/api/trace", "/", "/embed", "/api/gradients", "/api/trace/stream"])
    return _case(n, route, "GET", f"{path}?{_q(q)}", note="a random model whose weights are the cost")


def trace_clamp(fz, rng, n, route):
    holds = ";".join(f"{rng.choice(['h', 'forget', 'c', 'update', 'input'])}[0]:{rng.choice(['0', '0.5', '1'])}@{rng.randint(0, 4000)}-"
                     for _ in range(rng.randint(1, 16)))
    q = {"kind": rng.choice(["lstm", "gru", "fgr"]), "hidden": 1, "layers": rng.randint(1, 4), "bidirectional": rng.choice(["true", "false"]),
         "input": f"sine {rng.choice([500, 2000, 5000])}", "input_type": "signal", "names": "h", "clamp": holds,
         "clamp_compare": rng.choice(["true", "false"]), "format": "npz"}
    return _case(n, route, "GET", f"/api/trace?{_q(q)}", note="held steps are the cost")


def lesson(fz, rng, n, route):
    r = rng.random()
    headers = {"Content-Type": rng.choice(["application/json", "text/plain"])}
    if rng.random() < 0.8:
        headers["Origin"] = fz.origin if rng.random() < 0.7 else rng.choice(["http://evil.example", "null"])
    if r < 0.4:  # many heavy stops: each is planned, none built
        stops = [{"title": WORDS, "text": WORDS, "view": {**heavy_model(rng, fz.kinds), "input": "hello", "seed": i}} for i in range(rng.randint(1, 100))]
        body = json.dumps({"name": f"fuzz{n % 1000}", "title": WORDS, "stops": stops}).encode()
        note = f"{len(stops)} heavy stops"
    elif r < 0.6:
        depth = rng.choice([100, 1000, 5000, 100_000])
        body, note = ("[" * depth + "]" * depth).encode(), f"nested {depth} deep"
    elif r < 0.8:
        text = rng.choice(['"\\ud800"', '"a\\udfff"', '"\\ud83d"'])
        body = ('{"name": "sur", "title": {"en": ' + text + ', "zh": "x"}, "stops": []}').encode()
        note = "a lone surrogate"
    else:
        body, note = rng.choice([b"", b"null", b"[]", b"{" * 3, "\u00e9".encode("latin-1"), b'{"name": 5}']), "not a lesson"
    return _case(n, route, "POST", "/api/lessons", headers, body, note=note)


def export_html(fz, rng, n, route):
    q = {"kind": rng.choice(["lstm", "gru", "mgu"]), "hidden": rng.choice([4, 64, 256, 512]), "layers": rng.randint(1, 4),
         "bidirectional": rng.choice(["true", "false"]), "input": "x" * rng.choice([5, 100, 470, 3000])}
    if rng.random() < 0.3:
        q["clamp"], q["clamp_compare"] = "forget:1@2-", "true"
    return _case(n, route, "GET", f"/api/export/html?{_q(q)}", note="every layer and direction of one run")


def ws_skipped(fz, rng, n, route):
    chunk = rng.choice([1000, 50_000, 200_000])
    msgs = [json.dumps({"type": "append", "input": rng.choice(SKIPPED) * chunk + "a"}) for _ in range(rng.randint(1, 6))]
    return _case(n, route, "WS", "/ws/trace?" + _q({"preset": "charlm-lstm", "input": "the", "unknown": "skip"}), {"Origin": fz.origin},
                 messages=msgs, note=f"appends of {chunk} skipped characters")


def card_upload(fz, rng, n, route):
    from fuzz_cases import tensors_file, torch_weights
    kind = rng.choice(["lstm", "gru"])
    hidden = rng.randint(1, 6)
    card = {"units": rng.choice(["x", {"a": 1}, 7, True, ["x"], [None], [0, 1.5], [-1], [10**9], [0, 1]])}
    vocab = None
    r = rng.random()
    if r < 0.3:
        vocab = ["a", "b", "x" * rng.choice([200, 100_000, 2_000_000])]
    elif r < 0.5:
        card["zh"] = rng.choice([5, ["x"], {"title": 3}, {"title": "ok"}])
    meta = {"gatescope": "1", "kind": kind, "layout": "torch", "card": json.dumps(card), **({"vocab": json.dumps(vocab)} if vocab else {})}
    body = tensors_file(torch_weights(kind, 3, hidden, seed=n % 97), meta)
    headers = {"Content-Type": "application/octet-stream", "Origin": fz.origin}
    return _case(n, route, "POST", f"/api/models?kind={kind}", headers, body, note=f"a card of units {card['units']!r}"
                 + (f", a token of {len(vocab[-1])} characters" if vocab else ""))


MAKERS = {"POST /api/lessons": lesson, "GET /api/export/html": export_html, "GET /api/trace weights": trace_weights,
          "GET /api/trace clamp": trace_clamp, "WS /ws/trace skipped": ws_skipped, "POST /api/models card": card_upload}

#: the heaviest of each class the default limits allow, for soak.py's memory phase (their peak RSS is the figure)
HEAVY = [
    {"name": "random model at the weight limit: lstm hidden 1024 x 2 layers", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1024", "layers": "2", "names": "h", "format": "npz"}, "steps": 200},
    {"name": "lesson upload: 100 stops of lstm hidden 1024", "route": "POST /api/lessons", "lesson": 100},
    {"name": "export html: gru hidden 256 x 4 layers x 2 directions", "route": "GET /api/export/html",
     "query": {"kind": "gru", "hidden": "256", "layers": "4", "bidirectional": "true", "names": "h"}, "steps": 470},
    {"name": "clamp: 16 holds, compared, lstm hidden 1 x 4 layers x 2 directions", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1", "layers": "4", "bidirectional": "true", "names": "h", "format": "npz", "clamp_compare": "true",
               "clamp": ";".join(f"h[0]:0.5@{i * 50}-" for i in range(16))}, "steps": 5000},
]


def lesson_body(stops: int) -> bytes:
    views = [{"title": WORDS, "text": WORDS, "view": {"kind": "lstm", "hidden": 1024, "input": "hello", "seed": i}} for i in range(stops)]
    return json.dumps({"name": "heaviest", "title": WORDS, "stops": views}).encode()


__all__ = ["ROUTES", "MAKERS", "HEAVY", "lesson_body"]
