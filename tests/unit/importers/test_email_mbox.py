from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer
from lifeos_gql.importers.email_mbox import split_mbox

from .harness import import_twice, run_import
from .samples import mbox_bytes, sample_messages, write_mbox


def test_mbox_parses_headers_bodies_threads_and_attachments(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("mbox"), write_mbox(tmp_path))

    assert stats.skipped == 0
    assert [i.external_id for i in items] == [
        "msgid:m1@example.com",
        "msgid:q1@example.net",
        "msgid:r1@example.org",
    ]
    plain, alternative, reply = items
    assert plain.title == "Lunch on Friday?"
    assert plain.occurred_at == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    # The escaped ">From" body line is restored and did not split the message.
    assert "From the look of it Friday works." in plain.content
    assert plain.data["from"] == [{"name": "Alice Example", "address": "alice@example.com"}]
    assert plain.data["thread_id"] == "m1@example.com"
    assert plain.source_kind == "email"

    assert alternative.content == "Plain version: the notes are attached."
    assert alternative.data["body_type"] == "text/plain"
    assert [a["address"] for a in alternative.data["to"]] == [
        "alice@example.com",
        "bob@example.org",
    ]
    assert alternative.data["cc"] == [{"name": "", "address": "dave@example.net"}]
    assert alternative.data["attachments"] == [
        {"name": "notes.pdf", "type": "application/pdf", "size": 190}
    ]
    assert "fake notes" not in alternative.content

    assert reply.data["in_reply_to"] == "m1@example.com"
    assert reply.data["references"] == ["m1@example.com"]
    assert reply.data["thread_id"] == "m1@example.com"
    assert reply.data["body_type"] == "text/html"
    assert reply.content == "Sounds good & see you there!\n\n- 12:30\n- Cafe Nord"


def test_appending_keeps_existing_ids(tmp_path: Path) -> None:
    importer = get_importer("mbox")
    path = tmp_path / "grow.mbox"
    messages = sample_messages()
    path.write_bytes(mbox_bytes(messages[:2]))
    before = [i.external_id for i in importer.iter_items(path)]
    path.write_bytes(mbox_bytes(messages))
    after = [i.external_id for i in importer.iter_items(path)]
    assert after[:2] == before
    assert len(after) == 3


def test_message_without_message_id_gets_content_hash_id(tmp_path: Path) -> None:
    raw = (
        b"From x@example.com Sat Feb  3 08:00:00 2024\n"
        b"From: x@example.com\nSubject: no id\n\nbody one\n\n"
        b"From y@example.com Sat Feb  3 09:00:00 2024\n"
        b"From: y@example.com\nSubject: no date either\n\nbody two\n"
    )
    path = tmp_path / "noid.mbox"
    path.write_bytes(raw)
    items, _ = import_twice(get_importer("mbox"), path)
    assert [i.external_id.startswith("email:") for i in items] == [True, True]
    # Without a Date header the envelope "From " line dates the message.
    assert items[0].occurred_at == datetime(2024, 2, 3, 8, 0, tzinfo=UTC)
    # Moving a message to another position in the file keeps its id.
    swapped = tmp_path / "swapped.mbox"
    first, second = raw.split(b"\n\nFrom y")
    swapped.write_bytes(b"From y" + second + b"\n" + first + b"\n")
    assert {i.external_id for i in get_importer("mbox").iter_items(swapped)} == {
        i.external_id for i in items
    }


def test_junk_before_first_message_and_undated_message_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "junk.mbox"
    path.write_bytes(
        b"garbage line\n\n"
        b"From nobody\nSubject: undated\n\nno date anywhere\n\n" + mbox_bytes(sample_messages()[:1])
    )
    items, stats, progress = run_import(get_importer("mbox"), path)
    assert [i.external_id for i in items] == ["msgid:m1@example.com"]
    assert stats.skipped == 2
    assert stats.reasons == {"data before the first 'From ' line": 1, "message has no date": 1}
    assert stats.samples[1].where == "junk.mbox:3"
    assert progress == path.stat().st_size


def test_split_mbox_keeps_from_lines_inside_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "m.mbox"
    path.write_bytes(b"From a\nSubject: s\n\nline\nFrom here on it is body\n")
    with path.open("rb") as stream:
        entries = list(split_mbox(stream))
    assert len(entries) == 1
    message = entries[0].message
    assert message is not None
    assert "From here on it is body" in message.get_content()
