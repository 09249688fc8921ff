"""What a user typed is shown as typed, everywhere Plotly draws it, and never read as markup."""

from urllib.parse import quote


def test_tokens_with_quotes_and_tags_show_as_typed_on_the_heatmap_ticks(tab):
    typed = "a\"b<b>c&quot;'&"
    tab.open(f"/?kind=lstm&hidden=4&input={quote(typed)}")
    tab.until("document.querySelectorAll('#heatmaps .xtick text').length >= 1", what="the heatmap ticks")
    ticks = tab.js("[...new Set([...document.querySelectorAll('#heatmaps .xtick text')].map(e => e.textContent))]")
    for ch in ('"', "<", "b", ">", "&", "'"):
        assert ch in ticks, (ch, ticks)
    assert "&quot;" not in ticks and "&#34;" not in ticks and "&#39;" not in ticks, ticks
    assert tab.js("document.querySelectorAll('#heatmaps .xtick text b, #heatmaps .xtick text [style*=\"bold\"]').length") == 0
    assert tab.errors == []
