from __future__ import annotations

from lifeos_gql.importers.html_text import parse_html


def test_blocks_lists_entities_and_skipped_content() -> None:
    page = parse_html(
        "<html><head><title>T &amp; x</title><style>p{}</style></head><body>"
        "<h1>Hello <b>World</b></h1><p>One&nbsp;two<br>three</p>"
        "<ul><li>a</li><li><a href='c.html#x'>b</a></li></ul>"
        "<script>alert(1)</script><div>x</div><div>y</div></body></html>"
    )
    assert page.text == "Hello World\n\nOne two\nthree\n\n- a\n- b\n\nx\ny"
    assert page.title == "T & x"
    assert page.heading == "Hello World"
    assert page.links == [("c.html#x", "b")]


def test_broken_markup_does_not_lose_text() -> None:
    assert parse_html("<p>unclosed <b>bold <i>mixed</p> tail").text == "unclosed bold mixed\n\ntail"
