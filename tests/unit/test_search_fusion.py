"""Reciprocal rank fusion, the search cursor and snippets (pure functions)."""

from __future__ import annotations

import uuid

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.search.fusion import encode_cursor, fuse, page_after
from lifeos_gql.domains.search.models import NodeKey, SearchNodeType, Signal
from lifeos_gql.domains.search.snippets import highlight, query_terms


def _key(n: int, t: SearchNodeType = SearchNodeType.CAPTURE) -> NodeKey:
    return NodeKey(t, uuid.UUID(int=n))


def test_rrf_rewards_agreement_between_signals() -> None:
    a, b, c = _key(1), _key(2), _key(3, SearchNodeType.CONCEPT)
    fused = fuse({Signal.KEYWORD: [a, b], Signal.MEANING: [b, c], Signal.NAME: [c]})
    assert [r.key for r in fused] == [b, c, a]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert fused[0].signals == (Signal.KEYWORD, Signal.MEANING)


def test_cursor_pages_partition_the_ranking() -> None:
    fused = fuse({Signal.KEYWORD: [_key(i) for i in range(7)], Signal.MEANING: [_key(3)]})
    pages, after, more = [], None, True
    while more:
        page, more = page_after(fused, after, 3)
        pages.append(page)
        after = encode_cursor(page[-1])
    assert [r for p in pages for r in p] == fused
    assert [len(p) for p in pages] == [3, 3, 1]
    with pytest.raises(BadInput):
        page_after(fused, "bm90LWpzb24", 3)


def test_highlight_marks_terms_escapes_and_windows() -> None:
    text = "x " * 200 + "The <b>Compost</b> heap; composting works." + " y" * 200
    snippet = highlight(text, query_terms("compost OR heap"))
    assert snippet is not None
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>Compost</mark>" in snippet and "<mark>composting</mark>" in snippet
    assert "&lt;b&gt;" in snippet and "<b>" not in snippet
    assert len(snippet) < 260
    assert highlight("Nothing matches here", ["zebra"]) == "Nothing matches here"
    assert highlight(None, ["x"]) is None
