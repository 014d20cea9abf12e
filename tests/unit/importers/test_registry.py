from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import get_args

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers import IMPORTERS, SourceKind, get_importer
from lifeos_gql.importers.base import MAX_SKIP_SAMPLES, ImportedItem, ImportStats


def test_registry_names_and_kinds() -> None:
    assert set(IMPORTERS) == {
        "mbox", "eml", "epub", "kindle", "markdown", "text", "pdf", "pdf-pages",
        "slack", "chat-json", "ics", "gpx", "apple-health", "csv",
    }  # fmt: skip
    for name, importer in IMPORTERS.items():
        assert importer.name == name
        assert importer.source_kind in get_args(SourceKind)
    assert get_importer(" MBOX ") is IMPORTERS["mbox"]


def test_unknown_format_lists_valid_ones() -> None:
    with pytest.raises(BadInput) as caught:
        get_importer("docx")
    assert "valid formats: apple-health, chat-json" in caught.value.message
    assert caught.value.extensions["valid"] == sorted(IMPORTERS)
    assert caught.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
def test_missing_path_is_bad_input(fmt: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        list(get_importer(fmt).iter_items(tmp_path / "missing"))


def test_items_must_be_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        ImportedItem("x", datetime(2024, 1, 1), None, "", {}, "other")
    with pytest.raises(ValueError, match="UTC"):
        ImportedItem("x", datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1))), None, "",
                     {}, "other")  # fmt: skip


def test_stats_cap_samples() -> None:
    stats = ImportStats()
    for n in range(MAX_SKIP_SAMPLES + 5):
        stats.skip("bad", f"row {n}")
    assert stats.skipped == MAX_SKIP_SAMPLES + 5
    assert stats.reasons == {"bad": MAX_SKIP_SAMPLES + 5}
    assert len(stats.samples) == MAX_SKIP_SAMPLES
