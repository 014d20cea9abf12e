from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lifeos_gql.importers.dates import parse_datetime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T11:00:00+01:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01 10:00:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),  # naive → UTC
        ("20240301", datetime(2024, 3, 1, tzinfo=UTC)),  # basic ISO, not epoch seconds
        ("2010", datetime(2010, 1, 1, tzinfo=UTC)),  # a bare year
        ("May 2010", datetime(2010, 5, 1, tzinfo=UTC)),  # missing day pinned, not "today"
        ("Fri, 01 Mar 2024 10:00:00 -0500", datetime(2024, 3, 1, 15, tzinfo=UTC)),
        ("1709287200", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        (1709287200000, datetime(2024, 3, 1, 10, tzinfo=UTC)),  # epoch milliseconds
        (1709287200.5, datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        (date(2024, 3, 1), datetime(2024, 3, 1, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value: str | float | date, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["", "   ", "yesterday-ish", "nan", True])
def test_parse_datetime_rejects(value: str | bool) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)
