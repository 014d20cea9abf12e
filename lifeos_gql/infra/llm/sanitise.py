"""Cleaning captured text before analysis, shared by every analyser.

Captures arrive from importers and devices: mail bodies with stray control
bytes, PDFs decoded with the wrong codec, pasted binaries. Text that is mostly
junk is refused (the caller records ``UNSUPPORTED_CONTENT``); otherwise junk
characters are dropped and the text is capped so one enormous document cannot
stall a worker.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_ANALYSED_CHARS = 50_000
# Share of junk characters above which content is treated as binary. Real text,
# even badly decoded, stays far below; bytes decoded as Latin-1 land near 25 %.
MAX_JUNK_RATIO = 0.10

_JUNK_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_KEPT_CONTROLS = frozenset("\n\t")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class UnsupportedContent(ValueError):
    """The content is mostly not text."""


@dataclass(frozen=True, slots=True)
class CleanText:
    """Sanitised text, and whether it was cut to ``MAX_ANALYSED_CHARS``."""

    text: str
    truncated: bool


def _is_junk(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return False
    return char == "\ufffd" or unicodedata.category(char) in _JUNK_CATEGORIES


def sanitise(content: str, max_chars: int = MAX_ANALYSED_CHARS) -> CleanText:
    """Normalise, drop junk characters and cap ``content``.

    Raises :class:`UnsupportedContent` when more than ``MAX_JUNK_RATIO`` of the
    non-space characters are control, private-use, unassigned or replacement
    characters: such input is a binary, not something to summarise.
    """
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    # Judge junk on a bounded sample so a 100 MB blob costs no more than 200 kB.
    sample = text[: max_chars * 4]
    if "\ufffd" not in sample and sample.replace("\n", "").replace("\t", "").isprintable():
        # Fast path for clean text: isprintable() is False for every junk category.
        return _tidy(sample, max_chars, truncated=len(text) > len(sample))
    visible = [char for char in sample if not char.isspace()]
    if visible:
        junk = sum(1 for char in visible if _is_junk(char))
        if junk / len(visible) > MAX_JUNK_RATIO:
            raise UnsupportedContent(
                f"{junk} of {len(visible)} characters are control or undecodable bytes"
            )
    cleaned = "".join(char for char in sample if not _is_junk(char))
    return _tidy(cleaned, max_chars, truncated=len(text) > len(sample))


def _tidy(text: str, max_chars: int, *, truncated: bool) -> CleanText:
    cleaned = unicodedata.normalize("NFC", text)
    cleaned = _HORIZONTAL_SPACE.sub(" ", cleaned)
    cleaned = _MANY_NEWLINES.sub("\n\n", cleaned)
    cleaned = "\n".join(line.strip() for line in cleaned.split("\n")).strip()
    truncated = truncated or len(cleaned) > max_chars
    if len(cleaned) > max_chars:
        cut = cleaned.rfind(" ", 0, max_chars)
        # Cut at a word boundary unless that would lose a large tail of the budget.
        cleaned = cleaned[: cut if cut > max_chars * 0.9 else max_chars].rstrip()
    return CleanText(cleaned, truncated)
