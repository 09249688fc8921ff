"""Schemathesis over a live server's whole schema with every check, for bench/soak.py.

    python bench/schemathesis_run.py http://127.0.0.1:8000 --max-examples 50 --max-time 300

Runs ``schemathesis run URL/openapi.json --checks all`` in a subprocess (its
full output goes to a file, never to the terminal), then reads the NDJSON
event log it writes and sums the failing checks by check and operation.
Positive-data rejections whose message names a rule across fields (or one
the schema cannot state) are counted apart, with the rule, as issue 8 allows;
every other failure counts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

# A positive-data rejection whose answer matches one of these is excepted: the rule joins fields the schema
# describes one at a time (or is a property of the bytes a binary body holds). Each is quoted in the summary.
CROSS_FIELD = [
    (r"^\w+: give one of kind, preset or model", "exactly one of kind, preset, model names the model"),
    (r"applies only to a random model", "hidden, layers, bidirectional and kind options apply only with kind= (not preset/model)"),
    (r"^unknown option\(s\) for kind", "a kind option applies only to the kinds that have it (proj_size: lstm; reset_after: gru; ...)"),
    (r"^proj_size: got \d+; expected a value smaller than hidden", "proj_size < hidden"),
    (r"^layer: -?\d+ does not exist", "layer must exist in the model (depends on layers= or the model)"),
    (r"^direction: 1 needs a bidirectional", "direction=1 needs bidirectional=true"),
    (r"^names: .* not in the .* glossary", "names must be names of the chosen kind"),
    (r"^input(_type)?: (?!.*over the limit)",
     "input is read by input_type's grammar (text, numbers, signal) and the model's vocabulary and input size"),
    (r"^input: \d+ steps x .*is over the limit of \d+ \(setting GATESCOPE_MAX_(GRADIENT_)?WORK\)",
     "the work a request asks for (steps x layers x directions x hidden x ...) is under max_work / max_gradient_work: a product of fields"),
    (r"^format: a (json|csv) answer would hold", "steps x widths of names <= max_json_values (a product of fields)"),
    (r"^(the file|file): ", "POST /api/models: the body must be a safetensors or .npz model file (a binary body's format, not a field)"),
]


def classify(check: str, status: int | None, body: str) -> str | None:
    """The rule a positive-data rejection comes from, or None if it is a failure."""
    if check != "positive_data_acceptance" or status is None or not 400 <= status < 500:
        return None
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if not isinstance(detail, str):
        return None
    for pattern, rule in CROSS_FIELD:
        if re.search(pattern, detail):
            return rule
    return None


def _decode(blob) -> str:
    if isinstance(blob, dict) and "$base64" in blob:
        return base64.b64decode(blob["$base64"]).decode("utf-8", "replace")
    return "" if blob is None else str(blob)


def read_events(path: Path, limit: int = 300) -> tuple[list[dict], Counter]:
    """Every failing check in the NDJSON log: operation, check, request, response; and the checks run per name."""
    failures, ran = [], Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if '"ScenarioFinished"' not in line[:40]:
                continue
            event = json.loads(line)["ScenarioFinished"]
            rec = event.get("recorder", {})
            for case_id, checks in rec.get("checks", {}).items():
                inter = rec.get("interactions", {}).get(case_id) or {}
                for ch in checks:
                    ran[ch["name"]] += 1
                    if ch["status"] == "success":
                        continue
                    info = (ch.get("failure_info") or {}).get("failure") or {}
                    req, resp = inter.get("request") or {}, inter.get("response") or {}
                    body = _decode(resp.get("content"))
                    failures.append({
                        "operation": info.get("operation") or rec.get("label"), "check": ch["name"], "code": info.get("code"),
                        "title": info.get("title"), "message": (info.get("message") or "")[:limit], "case": case_id,
                        "phase": event.get("phase"), "method": req.get("method"), "uri": req.get("uri", ""),
                        "request_body": _decode(req.get("body"))[:limit], "status": resp.get("status_code"), "response": body[:limit],
                        "elapsed": resp.get("elapsed"), "rule": classify(ch["name"], resp.get("status_code"), body),
                    })
    return failures, ran


def run(base_url: str, out_dir: Path, max_examples: int, max_time: float, seed: int, slow: float = 5.0) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    raw, ndjson, report = out_dir / "schemathesis.txt", out_dir / "schemathesis.ndjson", out_dir / "schemathesis.json"
    exe = Path(sys.executable).parent / "schemathesis"  # this environment's (a test extra), never another on the PATH
    if not exe.is_file():
        return {"error": f"{exe} is missing: schemathesis comes with the test extras (pip install -e \".[test]\")"}
    cmd = [str(exe), "run", f"{base_url}/openapi.json", "--checks", "all", "--max-examples", str(max_examples), "--max-time", str(int(max_time)),
           "--seed", str(seed), "--workers", "1", "--max-response-time", str(slow), "--request-timeout", "60",
           "--suppress-health-check", "all", "--generation-database", "none", "--no-color",
           "--report", "ndjson,json", "--report-ndjson-path", str(ndjson), "--report-json-path", str(report)]
    started = time.monotonic()
    with open(raw, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=out_dir, env={**os.environ, "NO_COLOR": "1"})
        try:
            rc = proc.wait(timeout=max_time + 240)  # the coverage phase is not bounded by --max-time
            stopped = None
        except subprocess.TimeoutExpired:
            proc.kill()
            rc, stopped = proc.wait(), f"killed after {max_time + 240:.0f} s"
    result = {"command": " ".join(cmd), "exit_code": rc, "stopped": stopped, "seconds": round(time.monotonic() - started, 1),
              "raw_output": str(raw), "ndjson": str(ndjson)}
    if report.exists():
        rep = json.loads(report.read_text())
        result["generated"] = rep.get("test_cases", {}).get("generated")
        result["errors"] = [{k: str(v)[:300] for k, v in e.items()} for e in rep.get("errors", [])]
        result["warnings"] = {k: v for k, v in rep.get("warnings", {}).items() if v}
    failures, ran = read_events(ndjson) if ndjson.exists() else ([], Counter())
    result["failures"], result["checks_run"] = failures, dict(ran)
    return result


def summarize(result: dict) -> tuple[list[str], int]:
    """Printable lines, and the number of failures that count (excepted rejections left out)."""
    lines = [f"schemathesis: {result.get('generated', '?')} test cases in {result['seconds']} s, exit code {result['exit_code']}"
             + (f" ({result['stopped']})" if result.get("stopped") else ""), f"  full output: {result['raw_output']}"]
    if "error" in result:
        return [result["error"]], 1
    counted = [f for f in result["failures"] if f["rule"] is None]
    excepted = [f for f in result["failures"] if f["rule"] is not None]
    by = Counter((f["check"], f["operation"]) for f in counted)
    lines.append(f"  {'check':32} {'operation':28} failing cases")
    for (check, op), n in sorted(by.items()):
        lines.append(f"  {check:32} {op or '?':28} {n}")
    if not by:
        lines.append("  (none)")
    examples = defaultdict(list)
    for f in counted:
        key = (f["check"], f["operation"], f["status"], re.sub(r"\d+", "N", f["response"][:80]))
        examples[key].append(f)
    lines.append(f"  distinct failures ({len(examples)}), one example each:")
    for (check, op, status, _), group in sorted(examples.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), str(kv[0][2]))):
        f = group[0]
        uri = f["uri"] if len(f["uri"]) <= 300 else f["uri"][:300] + f"...({len(f['uri'])} chars)"
        lines.append(f"   - [{check}] {op}: {status} x{len(group)} (phase {f['phase']}, st replay {f['case']})")
        lines.append(f"       {f['method']} {uri}" + (f"  body={f['request_body'][:200]!r}" if f["request_body"] else ""))
        lines.append(f"       -> {f['response'][:240]!r}")
    rules = Counter(f["rule"] for f in excepted)
    lines.append(f"  excepted positive-data rejections (cross-field rules): {len(excepted)}")
    for rule, n in rules.most_common():
        lines.append(f"   - {n:5} {rule}")
    for e in result.get("errors", [])[:10]:
        lines.append(f"  error: {e}")
    for name, items in result.get("warnings", {}).items():
        lines.append(f"  warning {name}: {str(items)[:200]}")
    return lines, len(counted) + len(result.get("errors", []))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url")
    ap.add_argument("--max-examples", type=int, default=50)
    ap.add_argument("--max-time", type=float, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(f"/tmp/gatescope-schemathesis-{time.strftime('%Y%m%d-%H%M%S')}"))
    args = ap.parse_args()
    result = run(args.base_url.rstrip("/"), args.out, args.max_examples, args.max_time, args.seed)
    lines, failed = summarize(result)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
