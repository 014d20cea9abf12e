"""Checks every importer test runs: determinism, progress, JSON-ready data."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from lifeos_gql.importers import ImportedItem, Importer, ImportStats


def run_import(importer: Importer, path: Path) -> tuple[list[ImportedItem], ImportStats, int]:
    """One full import: items, stats and the summed progress."""
    steps: list[int] = []
    stats = ImportStats()
    items = list(importer.iter_items(path, on_progress=steps.append, stats=stats))
    assert all(step > 0 for step in steps), steps
    return items, stats, sum(steps)


def import_twice(importer: Importer, path: Path) -> tuple[list[ImportedItem], ImportStats]:
    """Import ``path`` twice and check the contract on both runs."""
    first, stats, progress = run_import(importer, path)
    second, stats_again, progress_again = run_import(importer, path)
    assert [i.external_id for i in first] == [i.external_id for i in second]
    assert first == second
    assert stats == stats_again
    total = importer.total_units(path)
    assert total is not None
    assert progress == progress_again == total
    assert stats.items == len(first)
    ids = [i.external_id for i in first]
    assert len(set(ids)) == len(ids), "external ids must be unique in the samples"
    for item in first:
        assert item.occurred_at.utcoffset() == timedelta(0)
        assert item.source_kind == importer.source_kind
        assert 0 < len(item.external_id) <= 200
        json.dumps(item.data, allow_nan=False)
    return first, stats


def by_title(items: list[ImportedItem]) -> dict[str | None, ImportedItem]:
    """Index items by title for readable assertions."""
    return {item.title: item for item in items}
