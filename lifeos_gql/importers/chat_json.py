"""``chat-json``: a generic chat export in JSON (a file or a folder of them).

Accepted shape (Telegram's ``result.json`` fits it too)::

    {"id"?: str|int, "name"?|"title"?: str, "messages": [MESSAGE, ...]}
    or just [MESSAGE, ...]

    MESSAGE = {
      "id"?: str|int,                     # unique within the conversation
      "from": str,                        # or "sender" / "author"
      "text": str,                        # or a list of str / {"text": str} parts
      "timestamp": str|number,            # or "date" / "time" / "ts":
    }                                     # ISO 8601, RFC 2822 or epoch s/ms

Other message keys are kept in ``data["extra"]``. Naive times are UTC.
Identity: conversation + message id when ids exist, else a hash of
conversation, sender, time and text. The conversation is the top-level
``id``, else its name/title, else the file name. Each file is read whole
(``json.load``); chat exports are small next to mailboxes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import parse_datetime
from lifeos_gql.importers.files import find_files, relative_name, total_size
from lifeos_gql.importers.identity import hashed_id, native_id
from lifeos_gql.importers.json_data import to_jsonable

_FROM_KEYS = ("from", "sender", "author")
_TIME_KEYS = ("timestamp", "date", "time", "ts")
_KNOWN = frozenset({"id", "text", *_FROM_KEYS, *_TIME_KEYS})


def _first(msg: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((msg[k] for k in keys if msg.get(k) not in (None, "")), None)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = (
            p if isinstance(p, str) else p.get("text", "")
            for p in value
            if isinstance(p, str | dict)
        )
        return "".join(str(p) for p in parts)
    return ""


def parse_message(msg: Any, conversation: str, name: str | None = None) -> ImportedItem:
    """One message object to an item; ``InvalidRecord`` when unusable.

    ``conversation`` is the identity key, ``name`` its display name.
    """
    if not isinstance(msg, dict):
        raise InvalidRecord("message is not an object")
    stamp = _first(msg, _TIME_KEYS)
    if stamp is None:
        raise InvalidRecord("message has no timestamp")
    try:
        occurred_at = parse_datetime(stamp)
    except (TypeError, ValueError) as exc:
        raise InvalidRecord("invalid timestamp") from exc
    text = _text(msg.get("text")).strip()
    if not text:
        raise InvalidRecord("message has no text")
    sender = _first(msg, _FROM_KEYS)
    sender_name = str(sender.get("name", "")) if isinstance(sender, dict) else sender
    message_id = msg.get("id")
    if isinstance(message_id, str | int) and not isinstance(message_id, bool):
        external_id = native_id("chat", f"{conversation}:{message_id}")
    else:
        message_id = None
        external_id = hashed_id("chat", conversation, sender_name, occurred_at.isoformat(), text)
    return ImportedItem(
        external_id=external_id,
        occurred_at=occurred_at,
        title=f"{sender_name} in {name or conversation}" if sender_name else name or conversation,
        content=text,
        data={
            "conversation": conversation,
            "conversation_name": name,
            "id": message_id,
            "from": to_jsonable(sender_name),
            "extra": to_jsonable({k: v for k, v in msg.items() if k not in _KNOWN}),
        },
        source_kind="message",
    )


class ChatJsonImporter(ImporterBase):
    """One item per message; progress in bytes of the files."""

    name = "chat-json"
    source_kind = "message"

    def total_units(self, path: Path) -> int:
        """Total size in bytes of the JSON files."""
        return total_size(find_files(path, (".json",)))

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        for file in find_files(path, (".json",)):
            relative = relative_name(path, file)
            try:
                document = json.loads(file.read_bytes())
            except (ValueError, UnicodeDecodeError):
                stats.skip("invalid JSON", relative)
                document = None
            finally:
                progress.advance(file.stat().st_size)
            name: str | None = None
            if isinstance(document, list):
                messages, conversation = document, Path(relative).stem
            elif isinstance(document, dict) and isinstance(document.get("messages"), list):
                messages = document["messages"]
                name = document.get("name") or document.get("title") or None
                name = str(name) if name is not None else None
                conversation = str(document.get("id") or name or Path(relative).stem)
            else:
                if document is not None:
                    stats.skip("no message list", relative)
                continue
            for index, msg in enumerate(messages):
                try:
                    item = parse_message(msg, conversation, name)
                except InvalidRecord as exc:
                    stats.skip(exc.reason, f"{relative}[{index}]")
                    continue
                yield item
