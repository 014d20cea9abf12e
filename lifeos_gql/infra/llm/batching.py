"""Packing items into LLM calls: token estimates, chunks of long items, batches.

Tokens are estimated, not counted: ``tiktoken`` fetches its encoding files
from the network on first use, which this service may not do. The estimate
is OpenAI's rule of thumb of four characters per token for ASCII text, and
one token per non-ASCII character (CJK and accented text tokenise far
denser than English), so it errs on the side of smaller chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from lifeos_gql.infra.llm.local.text import split_sentences

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Unit:
    """What one entry of a request carries: an item, or one part of a long item."""

    ref: str
    title: str | None
    source_kind: str
    occurred_at: datetime | None
    text: str
    part: tuple[int, int] | None = None  # (number, of) for a chunk of a long item


def estimate_tokens(text: str) -> int:
    """A conservative token count for ``text`` (see the module docstring)."""
    non_ascii = sum(1 for char in text if ord(char) > 127) if not text.isascii() else 0
    return (len(text) - non_ascii + 3) // 4 + non_ascii


def chunk_text(text: str, max_tokens: int) -> list[str]:
    """Split ``text`` at sentence boundaries into pieces of at most ``max_tokens``."""
    if estimate_tokens(text) <= max_tokens:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in _pieces(text, max_tokens):
        cost = estimate_tokens(sentence) + 1
        if current and size + cost > max_tokens:
            chunks.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += cost
    if current:
        chunks.append(" ".join(current))
    return chunks


def _pieces(text: str, max_tokens: int) -> Iterator[str]:
    for sentence in split_sentences(text):
        if estimate_tokens(sentence) <= max_tokens:
            yield sentence
            continue
        # A "sentence" longer than a chunk (a table, a log) is cut by size.
        step = max(1, max_tokens if not sentence.isascii() else max_tokens * 4)
        for start in range(0, len(sentence), step):
            yield sentence[start : start + step]


def pack(units: Sequence[T], sizes: Sequence[int], max_chars: int, max_count: int) -> list[list[T]]:
    """Greedy, order-keeping batches of at most ``max_count`` units and ``max_chars``.

    A unit larger than ``max_chars`` gets a batch of its own.
    """
    batches: list[list[T]] = []
    current: list[T] = []
    used = 0
    for unit, size in zip(units, sizes, strict=True):
        if current and (used + size > max_chars or len(current) >= max_count):
            batches.append(current)
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        batches.append(current)
    return batches
