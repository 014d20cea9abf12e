from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer

from .harness import by_title, import_twice
from .samples import write_notes


def test_markdown_tree_front_matter_headings_and_skips(tmp_path: Path) -> None:
    root = write_notes(tmp_path)
    items, stats = import_twice(get_importer("markdown"), root)

    assert stats.reasons == {"empty note": 1}
    notes = by_title(items)
    assert set(notes) == {"Garden plan", "LifeOS ideas", "broken"}  # hidden dir ignored
    garden = notes["Garden plan"]
    assert garden.external_id == "note:note-garden"
    assert garden.occurred_at == datetime(2024, 2, 3, tzinfo=UTC)
    assert garden.content == "Plant beans after the last frost."
    assert garden.data["tags"] == ["garden", "spring"]
    assert garden.data["front_matter"]["date"] == "2024-02-03"
    assert garden.source_kind == "note"
    ideas = notes["LifeOS ideas"]
    assert ideas.data["path"] == "projects/lifeos.md"
    assert ideas.external_id.startswith("note:")
    broken = notes["broken"]
    assert broken.content.startswith("---\ntitle: [unclosed")
    assert broken.data["front_matter_error"].startswith("invalid front matter")


def test_text_format_takes_txt_files_only(tmp_path: Path) -> None:
    items, _ = import_twice(get_importer("text"), write_notes(tmp_path))
    assert [(i.title, i.content) for i in items] == [("todo", "buy seeds")]


def test_id_is_relative_to_import_root(tmp_path: Path) -> None:
    root = write_notes(tmp_path)
    importer = get_importer("markdown")
    first = {i.data["path"]: i.external_id for i in importer.iter_items(root)}
    moved = tmp_path / "elsewhere"
    root.rename(moved)
    second = {i.data["path"]: i.external_id for i in importer.iter_items(moved)}
    assert first == second
