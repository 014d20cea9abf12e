from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import KINDLE_ENTRIES, kindle_text, write_kindle


def test_highlights_and_notes_with_boms(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("kindle"), write_kindle(tmp_path))

    assert stats.reasons == {"bookmark (no text)": 1}
    highlight, note, old_style = items
    assert highlight.title == "Thinking, Fast and Slow"
    assert highlight.data["author"] == "Kahneman, Daniel"
    assert highlight.data["kind"] == "highlight"
    assert highlight.data["page"] == "20"
    assert highlight.data["location"] == "301-303"
    assert highlight.occurred_at == datetime(2024, 1, 1, 21, 5, 10, tzinfo=UTC)
    assert highlight.content.startswith("A reliable way")
    # A per-entry BOM does not leak into the title.
    assert note.title == "Thinking, Fast and Slow"
    assert note.data["kind"] == "note"
    assert note.content == "Compare with the illusory truth effect.\nSee chapter 5."
    assert old_style.data["location"] == "1200-05"
    assert old_style.data["author"] == "Marcus Aurelius"
    assert old_style.occurred_at == datetime(2024, 1, 2, 7, 30, tzinfo=UTC)


def test_appended_clippings_keep_earlier_ids(tmp_path: Path) -> None:
    importer = get_importer("kindle")
    path = tmp_path / "My Clippings.txt"
    path.write_text(kindle_text(KINDLE_ENTRIES[:1]), encoding="utf-8")
    before = [i.external_id for i in importer.iter_items(path)]
    path.write_text(kindle_text(KINDLE_ENTRIES), encoding="utf-8")
    after = [i.external_id for i in importer.iter_items(path)]
    assert after[0] == before[0]
    assert len(after) == 3


def test_unparseable_date_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text(
        "Buch (Autor)\n- Ihre Markierung bei Position 5 | Hinzugefügt am Montag\n\nText\n"
        "==========\n",
        encoding="utf-8",
    )
    items, stats = import_twice(get_importer("kindle"), path)
    assert items == []
    assert stats.reasons == {"no 'Added on' date": 1}
