"""The DateTime override parses ISO 8601 and refuses anything else clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lifeos_gql.api.scalars import _parse_datetime, _serialize_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "2026-01-02T03:04:05.123456+02:00",
            datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5)),
        ("2026-01-02", datetime(2026, 1, 2)),
    ],
)
def test_parses_iso_8601(text, expected):
    assert _parse_datetime(text) == expected


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "", 1700000000, None])
def test_refuses_non_iso(bad):
    with pytest.raises(ValueError, match="ISO 8601"):
        _parse_datetime(bad)


def test_round_trip():
    value = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert _parse_datetime(_serialize_datetime(value)) == value
