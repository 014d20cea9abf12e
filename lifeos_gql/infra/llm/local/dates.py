"""Absolute dates written in words or ISO form, normalised to ISO strings.

Regexes rather than ``dateparser``: its ``search_dates`` costs tens of
milliseconds per capture and resolves relative words ("Tuesday", "next
week") against the wall clock, which would make analysis non-deterministic.
Handled: ``2025-03-12``, ``12 March 2025``, ``March 12th, 2025``,
``March 2025`` and years after a preposition (``in 2019``). A day and month
without a year take the year of ``occurred_at`` when known. Not handled, on
purpose: numeric ``03/04/2025`` (day-first or month-first is a guess) and
relative expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from lifeos_gql.infra.llm.local.text import word_set

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
MONTH_WORDS = frozenset(_MONTHS)
WEEKDAY_WORDS = word_set(
    """
    fri friday mon monday sat saturday sun sunday thu thur thurs thursday tue tues tuesday
    wed wednesday
    """
)


def _month_alternative(name: str) -> str:
    # Full names match in either case; "May" and abbreviations only capitalised,
    # so "they may 2 ..." and "mar" do not read as dates.
    if len(name) > 4 and name != "sept":
        return f"[{name[0].upper()}{name[0]}]{name[1:]}"
    return name.capitalize()


_MONTH = (
    r"(?P<month>"
    + "|".join(_month_alternative(name) for name in sorted(_MONTHS, key=len, reverse=True))
    + r")\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[89]|20|21)\d{2})"
_PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    re.compile(rf"\b{_MONTH}\s+{_YEAR}\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!\s*[:.]\d)"),
    re.compile(rf"\b(?:[Ii]n|[Ss]ince|[Bb]y|[Uu]ntil|[Ff]rom|[Dd]uring|of)\s+{_YEAR}\b"),
]


@dataclass(frozen=True, slots=True)
class FoundDate:
    """An ISO date (``2025-03-12``, ``2025-03`` or ``2025``) and the text it was read from."""

    iso: str
    surface: str
    start: int


def find_dates(text: str, occurred_at: datetime | None) -> list[FoundDate]:
    """Absolute dates in ``text``, earliest first, overlapping matches resolved by pattern order."""
    taken: list[tuple[int, int]] = []
    found: list[FoundDate] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            iso = _to_iso(match.groupdict(), occurred_at)
            if iso is None:
                continue
            taken.append((start, end))
            surface = match.group()
            if pattern is _PATTERNS[-1]:
                surface = match.group("year")
            found.append(FoundDate(iso, surface, start))
    return sorted(found, key=lambda item: item.start)


def _to_iso(parts: dict[str, str | None], occurred_at: datetime | None) -> str | None:
    year_text, day_text = parts.get("year"), parts.get("day")
    month = _month_number(parts)
    year = int(year_text) if year_text else (occurred_at.year if occurred_at else None)
    if year is None:
        return None
    if month is None:
        return f"{year:04d}"
    if day_text is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, int(day_text)).isoformat()
    except ValueError:
        return None


def _month_number(parts: dict[str, str | None]) -> int | None:
    if parts.get("mnum"):
        return int(parts["mnum"] or 0)
    name = parts.get("month")
    return _MONTHS[name.lower()] if name else None
