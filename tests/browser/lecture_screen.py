"""The lecture screen's contexts and how the hero figure is measured in them: shared by tests/browser/test_lecture_screen.py
(which asserts the targets) and bench/bench_lecture.py (which prints the table for every context).

share: the hero figure's visible area over the viewport. The hero is the cell diagram's SVG, or the chain's where a view
shows the chain and not the diagram (the article's first figures). label: the rendered height of every text of the
figure (its labels, symbols, legend and notes), the smallest and the median.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Context:
    name: str
    url: str
    width: int
    height: int
    share: float = 0.0          # least share of the viewport
    label: float = 0.0          # least rendered text height, px
    first_screen: bool = True   # the phase text and the player on the first screen (not a phone: it scrolls)
    tags: tuple[str, ...] = field(default=())


PRESENTER = dict(share=0.50, label=14)
NORMAL = dict(share=0.40, label=11)

#: the issue's table, a context a row, with its targets
CONTEXTS = [
    Context("lesson stop 4, presenter", "/lesson/lstm?stop=4&presenter=true", 1024, 768, **PRESENTER),
    Context("lesson stop 9 (peephole)", "/lesson/lstm?stop=9", 1280, 800, **NORMAL),
    Context("lesson stop 4", "/lesson/lstm?stop=4", 1024, 768, **NORMAL),
    Context("page, presenter", "/?preset=remember-lstm&presenter=true", 1024, 768, **PRESENTER),
    Context("page", "/?preset=remember-lstm", 1024, 768, **NORMAL),
    Context("page 1280", "/?preset=remember-lstm", 1280, 800, **NORMAL),
    Context("lesson stop 4, 1280", "/lesson/lstm?stop=4", 1280, 800, **NORMAL),
    Context("embed gru", "/embed?kind=gru&input=hello", 960, 540, share=0.50, label=11),
    Context("embed small", "/embed?preset=adding-lstm", 640, 400, share=0.50, label=9),
    Context("phone", "/?preset=remember-lstm", 390, 844, label=10, first_screen=False),
    Context("page, presenter 1080p", "/?preset=remember-lstm&presenter=true", 1920, 1080, share=0.47, label=16),
    Context("gru page", "/?preset=remember-gru", 1024, 768, **NORMAL),
    Context("gru, presenter", "/?preset=remember-gru&presenter=true", 1024, 768, **PRESENTER),
]

#: what the page answers once it is drawn: the hero's box and its texts' heights, where the side column, the phase and
#: the player are, and whether anything is wider than the window
MEASURE = """() => {
  const shown = (el) => el && el.getClientRects().length > 0 && !el.closest('[hidden]');
  const diagram = document.querySelector('#diagram svg.diagram-svg');
  const chain = document.querySelector('#chain svg');
  const hero = shown(diagram) ? diagram : shown(chain) ? chain : null;
  if (!hero) return null;
  const W = innerWidth, H = innerHeight, r = hero.getBoundingClientRect();
  const visible = Math.max(0, Math.min(r.right, W) - Math.max(r.left, 0)) * Math.max(0, Math.min(r.bottom, H) - Math.max(r.top, 0));
  const texts = [...hero.querySelectorAll('text')].filter((t) => t.textContent.trim() && getComputedStyle(t).display !== 'none'
      && getComputedStyle(t).visibility !== 'hidden')
    .map((t) => ({ text: t.textContent, box: t.getBoundingClientRect() })).filter((t) => t.box.height > 0)
    // a text wholly outside the figure is clipped away, not drawn (the chain's slots off its edges, ready to slide in)
    .filter((t) => t.box.right > r.left && t.box.left < r.right && t.box.bottom > r.top && t.box.top < r.bottom);
  const heights = texts.map((t) => t.box.height).sort((a, b) => a - b);
  const smallest = texts.reduce((a, b) => (a && a.box.height <= b.box.height ? a : b), null);
  const outside = texts.filter((t) => t.box.left < r.left - 1 || t.box.right > r.right + 1 || t.box.top < r.top - 1 || t.box.bottom > r.bottom + 1)
    .map((t) => t.text);
  const box = (sel) => { const el = document.querySelector(sel); if (!shown(el)) return null; const b = el.getBoundingClientRect(); return [b.top, b.bottom]; };
  return {
    hero: hero === diagram ? 'diagram' : 'chain', share: visible / (W * H), width: r.width, height: r.height,
    label: heights[0] ?? 0, median: heights[Math.floor(heights.length / 2)] ?? 0, smallest: smallest?.text ?? '',
    texts: heights.length, outside, phase: box('#phase'), player: box('.player'),
    scroll_width: document.documentElement.scrollWidth, hero_right: r.right, hero_left: r.left,
  };
}"""


def problems(ctx: Context, m: dict | None) -> list[str]:
    """What the measured context misses of its targets, in words; empty when it meets them all."""
    if m is None:
        return ["no hero figure is drawn"]
    out = []
    if m["share"] < ctx.share:
        out.append(f"share {m['share']:.2f} < {ctx.share:.2f}")
    if m["label"] < ctx.label:
        out.append(f"smallest label {m['label']:.1f} px < {ctx.label} px ({m['smallest']!r})")
    if m["outside"]:
        out.append(f"texts outside the figure: {m['outside'][:4]}")
    if m["scroll_width"] > ctx.width or m["hero_left"] < -0.5 or m["hero_right"] > ctx.width + 0.5:
        out.append(f"wider than the window: the page {m['scroll_width']} px, the figure {m['hero_left']:.0f}…{m['hero_right']:.0f}")
    if ctx.first_screen:
        for what in ("phase", "player"):
            if m[what] is None or m[what][0] >= ctx.height or m[what][1] > ctx.height + 0.5:
                out.append(f"the {what} is not on the first screen: {m[what]}")
    return out
