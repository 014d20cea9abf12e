"""Robust date parsing shared by the importers.

Rule used everywhere: a time without a zone (a "naive" or "floating" time)
is taken as UTC. Sources rarely say which zone they meant, and guessing the
importing machine's zone would make the same file import differently on
different machines.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from dateutil import parser as dateutil_parser

# Epoch numbers above these are milliseconds / microseconds, not seconds
# (1e11 seconds is the year 5138, so no real timestamp is ambiguous).
_MS_THRESHOLD = 1e11
_US_THRESHOLD = 1e14
_YEAR = re.compile(r"[12]\d{3}")
# dateutil fills missing parts from "today" by default, which would make a
# date like "May 2010" import differently each day; pin them instead.
_DEFAULT_PARTS = datetime(1970, 1, 1)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive values are taken as already UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def date_to_utc(value: date) -> datetime:
    """Midnight UTC of a calendar date (all-day events, date-only fields)."""
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def from_epoch(value: float) -> datetime:
    """Seconds, milliseconds or microseconds since 1970 as a UTC datetime."""
    if not math.isfinite(value):
        raise ValueError(f"not a timestamp: {value!r}")
    if abs(value) >= _US_THRESHOLD:
        value /= 1_000_000
    elif abs(value) >= _MS_THRESHOLD:
        value /= 1_000
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {value!r}") from exc


def parse_datetime(value: str | int | float | datetime | date) -> datetime:
    """Parse ISO 8601, RFC 2822, epoch numbers and common human formats.

    Raises ``ValueError`` when nothing fits. Ambiguous day/month orders
    such as ``01/02/2024`` are read month first (dateutil's default).
    """
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, date):
        return date_to_utc(value)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        return from_epoch(float(value))
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    if _YEAR.fullmatch(text):
        # A bare year ("2010" in EPUB metadata) is a date, not epoch seconds.
        return datetime(int(text), 1, 1, tzinfo=UTC)
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return from_epoch(float(text))
    except ValueError:
        pass
    try:
        return ensure_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return ensure_utc(dateutil_parser.parse(text, default=_DEFAULT_PARTS))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unrecognised timestamp: {text[:80]!r}") from exc


def file_mtime(path: Path) -> datetime:
    """A file's modification time; the fallback when a source has no date."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
