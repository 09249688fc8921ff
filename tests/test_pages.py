"""The page routes (server side): HTML shells with a strict policy, plotly.js's vendored partial bundle,
and a query refused as the API refuses it, with the API's message shown as text."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gatescope.app.routers.pages import csp
from gatescope.app.shell import PLOTLY_JS

ROOT = Path(__file__).resolve().parents[1]


def config_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gatescope-config">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_index_and_embed(client):
    for path, embed in (("/", False), ("/embed", True)):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        cfg = config_of(r.text)
        assert cfg["embed"] is embed and {f["name"] for f in cfg["fields"]} >= {"kind", "input", "step", "panels"}
        policy = r.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors *" in policy
        assert "http" not in policy.replace("frame-ancestors *", "")  # nothing outside the origin


def test_page_loads_nothing_from_outside(client):
    html = client.get("/").text
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url


def test_plotly_is_the_vendored_partial_bundle(client):
    """/vendor/plotly.min.js is static/vendor/plotly/'s file, gzipped on the wire: plotly.js's "cartesian" bundle at the
    version static/vendor/README.md names, its licence beside it, no source map to fetch. Which trace types the page
    draws, and that the bundle registers each, is a browser test (tests/browser/test_plotly_bundle.py)."""
    r = client.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert PLOTLY_JS == ROOT / "static/vendor/plotly/plotly-cartesian.min.js" and r.content == PLOTLY_JS.read_bytes()
    row = next(line for line in (ROOT / "static/vendor/README.md").read_text().splitlines() if line.startswith("| `plotly/`"))
    package, version = (cell.strip(" `") for cell in row.split("|")[2:4])
    assert package == "plotly.js-cartesian-dist-min" and f"* plotly.js (cartesian - minified) v{version}\n" in r.text[:200]
    assert (PLOTLY_JS.parent / "LICENSE").is_file() and "sourceMappingURL" not in r.text


@pytest.mark.parametrize("path", ["/", "/embed?preset=remember-lstm&step=3", "/compare", "/lesson", "/lesson/lstm",
                                  "/vendor/plotly.min.js", "/static/main.js", "/docs", "/healthz", "/api/presets",
                                  "/?preset=adding-lstm&input=the+cat"])
def test_head_answers_as_get_does_without_the_body(client, path):
    """A link checker, a proxy or curl -I asks with HEAD: the same status and headers as GET, and no body."""
    for encoding in ("identity", "gzip"):
        got, head = (client.request(m, path, headers={"Accept-Encoding": encoding}) for m in ("GET", "HEAD"))
        assert head.status_code == got.status_code and head.content == b"", (path, head.status_code, got.status_code)
        same = lambda r: {k: v for k, v in r.headers.items() if k != "date"}
        assert same(head) == same(got), path  # Content-Length too: the length GET's body has (a gzipped file is chunked)


def test_frame_ancestors_follow_the_setting():
    assert "frame-ancestors 'self' https://slides.example.org" in csp("self https://slides.example.org")
    assert "frame-ancestors 'self';" in csp("self") + ";"
    assert "frame-ancestors * file:" in csp("*")  # any site, and a deck opened from disk (* matches web schemes only)
    assert "frame-ancestors 'self' file:" in csp("self file:")  # decks from disk, and no site


class MessageText(HTMLParser):
    """The text of the page's #message box, as the browser shows it (entities decoded), and the links in it."""

    def __init__(self, html: str):
        super().__init__()
        self.depth, self.text, self.links = 0, "", []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth or attrs.get("id") == "message":
            self.depth += 1
            if tag == "a":
                self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text += data


def api_messages(body) -> list[str]:
    """What the API's error body says, piece by piece: the message, or each problem's field, message and value."""
    if isinstance(body["detail"], str):
        return [body["detail"]]
    return [piece for e in body["detail"] for piece in (f"{e['loc'][-1]}: {e['msg']}", json.dumps(e["input"]))]


REFUSED = {
    "unknown-kind": "kind=bogus&hidden=-5",
    "extra-parameter": "kind=lstm&bogus=1",
    "over-max-layers": "kind=lstm&layers=999",
    "over-max-hidden": "kind=lstm&hidden=5000",
    "layers-without-kind": "layers=999",
    "unknown-preset": "preset=nope",
    "unknown-model": "model=0123456789abcdef0123456789abcdef",
    "bad-number": "kind=lstm&input=1,x&input_type=numbers",
    "no-such-layer": "kind=lstm&layer=3",
    "compare-pattern": "compare=anything",
}


CASES = [(path, q) for path in ("/", "/embed") for q in REFUSED] + [("/compare", q) for q in ("unknown-kind", "extra-parameter", "compare-pattern")]


@pytest.mark.parametrize("path,name", CASES, ids=[f"{p}-{q}" for p, q in CASES])
def test_a_page_refuses_what_the_api_refuses_with_the_apis_status_and_message(client, path, name):
    query = REFUSED[name]
    api = client.get(f"/api/trace?{query}")
    assert api.status_code in (404, 413, 422), api.text
    page = client.get(f"{path}?{query}")
    assert page.status_code == api.status_code and page.headers["content-type"].startswith("text/html")
    shown = MessageText(page.text)
    for piece in api_messages(api.json()):
        assert piece in shown.text, (piece, shown.text)
    assert shown.links == [path]                                              # back to the default page
    cfg = config_of(page.text)
    assert cfg["refused"]["status"] == api.status_code and cfg["embed"] is (path == "/embed")
    assert 'data-control="input"' in page.text or path == "/embed"            # the page itself, its controls still there


def test_valid_views_are_served_and_reflected_in_the_config(client):
    for path, params, view in (
        ("/", {"kind": "gru", "hidden": "5", "input": "abc", "step": "2"}, {"kind": "gru", "hidden": 5, "input": "abc", "step": 2}),
        ("/embed", {"kind": "gru", "input": "0.5,-1", "input_type": "numbers"}, {"kind": "gru", "input": "0.5,-1", "input_type": "numbers"}),
        ("/compare", {"compare": "kind:rnn,kind:gru", "input": "abc", "speed": "4"}, {"compare": "kind:rnn,kind:gru", "input": "abc", "speed": 4.0}),
    ):
        r = client.get(path, params=params)
        assert r.status_code == 200, r.text
        cfg = config_of(r.text)
        assert cfg["refused"] is None and cfg["view"] == view
        assert MessageText(r.text).text == ""


@pytest.mark.parametrize("entries,status,named", [
    ("preset:remember-rnn,preset:nope", 404, "preset: unknown preset 'nope'"),
    ("kind:gru,kind:bogus", 422, "kind: Input should be 'rnn'"),
    ("kind:lstm,model:0123456789abcdef", 404, "model: no model with id '0123456789abcdef'"),
    ("kind:lstm,model:not-hex-at-all", 422, "model: String should match pattern"),
])
def test_compare_checks_each_of_its_models(client, entries, status, named):
    r = client.get("/compare", params={"compare": entries})
    assert r.status_code == status
    bad = entries.split(",")[1]
    assert f"{bad} · {named}" in MessageText(r.text).text
    ok = client.get("/compare", params={"compare": "preset:remember-rnn,kind:gru", "input": "ABCA?"})
    assert ok.status_code == 200 and config_of(ok.text)["view"] == {"compare": "preset:remember-rnn,kind:gru", "input": "ABCA?"}


def test_compare_resolves_each_model_on_the_shared_query(client):
    """The columns run the shared input: one the remember models cannot read is refused, naming the model."""
    r = client.get("/compare", params={"compare": "preset:remember-rnn,preset:remember-gru", "input": "xyz"})
    assert r.status_code == 422 and MessageText(r.text).text.startswith("preset:remember-rnn · input:")
    r = client.get("/compare", params={"compare": "kind:lstm,kind:gru", "hidden": 4, "proj_size": 2})
    assert r.status_code == 422 and "kind:gru · unknown option(s) for kind 'gru': proj_size" in MessageText(r.text).text
    r = client.get("/compare", params={"kind": "lstm"})                                          # one model for all columns
    assert r.status_code == 422 and "kind: /compare takes its models from compare=" in MessageText(r.text).text


ATTACK = """"'><script>alert(1)</script><img src=x onerror=alert(2)>"""


def test_markup_in_the_query_is_shown_as_text_never_as_markup(client):
    page_scripts = client.get("/").text.count("<script")
    # in the message of a value the page refuses: a validation problem's value, and a message of the API's own
    for params in ({"kind": "lstm", "hidden": ATTACK}, {"kind": "lstm", "input": ATTACK, "input_type": "numbers"}):
        r = client.get("/", params=params)
        assert r.status_code == 422
        assert "><script>alert(1)" in MessageText(r.text).text                      # shown, as text
        assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text and r.text.count("<script") == page_scripts
    # in the page's config of a view it accepts
    r = client.get("/", params={"kind": "lstm", "input": ATTACK + "</script>"})
    assert r.status_code == 200 and config_of(r.text)["view"]["input"] == ATTACK + "</script>"
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text and r.text.count("<script") == page_scripts


def test_a_shared_link_with_tracking_parameters_still_opens(client):
    """Mail clients and sites append utm_*, fbclid and the like to a lecturer's permalink; the page ignores them."""
    r = client.get("/?kind=gru&input=hi&utm_source=newsletter&utm_medium=email&fbclid=IwAR0&gclid=x")
    assert r.status_code == 200, r.text[:300]
    assert config_of(r.text)["view"] == {"kind": "gru", "input": "hi"}
    assert client.get("/api/trace?kind=gru&input=hi&utm_source=newsletter").status_code == 422  # the API keeps its strict query
    assert client.get("/?kind=gru&fbclidx=1").status_code == 422  # only the known tracking names are dropped


def test_kind_descriptions_keep_to_the_stated_limits(client):
    r = client.get("/api/kinds/peephole", params={"proj_size": 2398})
    assert r.status_code == 422 and "GATESCOPE_MAX_PROJ_SIZE" in r.json()["detail"]
    assert client.get("/api/kinds/peephole", params={"proj_size": 4}).status_code == 200
