from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer
from lifeos_gql.importers.slack import render_text

from .harness import import_twice
from .samples import write_slack_export


def test_slack_zip_messages_users_threads(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("slack"), write_slack_export(tmp_path))

    assert stats.reasons == {"membership notice": 1, "empty message": 1}
    assert [i.external_id for i in items] == [
        "slack:C100:1704106800.000200",
        "slack:C100:1704107000.000300",
        "slack:C200:1704193200.000500",
        "slack:C200:1704193300.000600",
    ]
    plan, reply, coffee, bot = items
    assert (
        plan.content
        == "Plan for #random: ship v2 (https://example.com/v2) & celebrate @Bob Builder"
    )
    assert plan.title == "alice.e in #general"
    assert plan.occurred_at == datetime(2024, 1, 1, 11, 0, 0, 200, tzinfo=UTC)
    assert plan.data["reactions"] == [{"name": "tada", "count": 2}]
    assert reply.data["thread_ts"] == "1704106800.000200"
    assert reply.data["user_name"] == "Bob Builder"
    assert coffee.data["files"] == [{"name": "mug.png", "type": "image/png", "size": 1234}]
    assert bot.data["user_name"] == "deploybot"
    assert bot.content == "Deployed @here"
    assert plan.source_kind == "message"


def test_unpacked_folder_gives_same_ids_as_zip(tmp_path: Path) -> None:
    archive = write_slack_export(tmp_path)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as export:
        export.extractall(folder)
    importer = get_importer("slack")
    from_zip = [i.external_id for i in importer.iter_items(archive)]
    items, _ = import_twice(importer, folder)
    assert [i.external_id for i in items] == from_zip


def test_render_text_unknown_user_and_plain_link() -> None:
    assert render_text("hi <@U9> see <https://x.org>", {}) == "hi @U9 see https://x.org"
