"""Highlighted snippets, made in Python after decryption (pure).

Capture and insight text is encrypted at rest, so Postgres' ``ts_headline``
cannot see it; the service decrypts only the page's hits and this module
cuts a window around the first query term and marks every term in it.
The result is HTML-escaped text with matches in ``<mark>…</mark>``.
"""

from __future__ import annotations

import html
import re
from typing import Final

from lifeos_gql.domains.graph.normalise import fold

SNIPPET_CHARS: Final = 160
_WORD = re.compile(r"\w+")
# websearch_to_tsquery's operator words are not content.
_OPERATORS: Final = frozenset({"or", "and", "not"})


def query_terms(query: str) -> list[str]:
    """Distinct case-folded words of the query worth highlighting (two letters or more)."""
    words = [w for w in _WORD.findall(fold(query)) if len(w) > 1 and w not in _OPERATORS]
    return list(dict.fromkeys(words))


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first so "garden" wins over "gard"; a term also matches as a word prefix.
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


def highlight(text: str | None, terms: list[str], width: int = SNIPPET_CHARS) -> str | None:
    """A window of ``text`` around the first term, escaped, terms wrapped in ``<mark>``.

    Without a match (a hit found by meaning only) the window is the beginning.
    """
    if not text:
        return None
    flat = " ".join(text.split())
    pattern = _pattern(terms)
    first = pattern.search(flat) if pattern else None
    start = 0
    if first is not None and first.start() > width // 3:
        start = first.start() - width // 3
        space = flat.rfind(" ", 0, start + 1)
        start = space + 1 if space > 0 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    window = flat[start:end]
    out: list[str] = ["…" if start > 0 else ""]
    cursor = 0
    for match in pattern.finditer(window) if pattern else ():
        out.append(html.escape(window[cursor : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    out.append(html.escape(window[cursor:]))
    out.append("…" if end < len(flat) else "")
    return "".join(out)
