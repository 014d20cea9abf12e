from __future__ import annotations

from pathlib import Path

from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import write_eml_dir, write_mbox


def test_eml_directory_matches_mbox_ids(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("eml"), write_eml_dir(tmp_path))
    assert stats.skipped == 0
    # Sorted walk: 2024/alternative.eml, plain.eml, reply.eml; readme.txt ignored.
    assert [i.title for i in items] == [
        "Quarterly notes",
        "Lunch on Friday?",
        "Re: Lunch on Friday?",
    ]
    mbox_ids = {i.external_id for i in get_importer("mbox").iter_items(write_mbox(tmp_path))}
    assert {i.external_id for i in items} == mbox_ids


def test_single_eml_file(tmp_path: Path) -> None:
    root = write_eml_dir(tmp_path)
    items, _ = import_twice(get_importer("eml"), root / "reply.eml")
    assert len(items) == 1
    assert items[0].data["in_reply_to"] == "m1@example.com"
