from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import write_chat_json


def test_chat_json_object_shape(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("chat-json"), write_chat_json(tmp_path))

    assert stats.reasons == {"message has no timestamp": 1, "invalid timestamp": 1}
    first, second, third = items
    assert first.external_id == "chat:4242:1"
    assert first.occurred_at == datetime(2024, 3, 1, 17, 0, tzinfo=UTC)  # naive → UTC
    assert first.title == "Mum in Family"
    assert second.content == "See https://example.org/menu first"
    assert second.occurred_at == datetime(2024, 3, 1, 17, 5, tzinfo=UTC)  # epoch ms
    assert third.data["from"] == "Dad"
    assert third.occurred_at == datetime(2024, 3, 1, 17, 30, tzinfo=UTC)
    assert third.data["extra"] == {"reply_to_message_id": 1}


def test_bare_list_without_ids_hashes_content(tmp_path: Path) -> None:
    path = tmp_path / "dm.json"
    messages = [
        {"from": "a", "text": "hello", "timestamp": "2024-01-01T10:00:00Z"},
        {"from": "b", "text": "hi", "timestamp": "2024-01-01T10:01:00Z"},
    ]
    path.write_text(json.dumps(messages))
    items, _ = import_twice(get_importer("chat-json"), path)
    assert [i.external_id.startswith("chat:") for i in items] == [True, True]
    # Prepending a message (a position shift) keeps the other ids.
    path.write_text(json.dumps([{"from": "c", "text": "x", "timestamp": 1}, *messages]))
    again = [i.external_id for i in get_importer("chat-json").iter_items(path)]
    assert again[1:] == [i.external_id for i in items]


def test_invalid_json_is_skipped_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    items, stats = import_twice(get_importer("chat-json"), path)
    assert items == [] and stats.reasons == {"invalid JSON": 1}
