"""``slack``: a Slack workspace export, as the zip or its unpacked folder.

Layout read: ``users.json``, ``channels.json`` (also ``groups.json``,
``mpims.json``, ``dms.json`` when present) and one folder per conversation
holding ``YYYY-MM-DD.json`` files, each a list of messages. One item per
message; the external id is ``slack:<channel id>:<ts>`` (Slack's own
message key). Mentions, channel links and URLs in Slack's ``<...>`` markup
are rendered readable; join/leave notices are skipped.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lifeos_gql.importers.archive import Archive, common_root
from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import from_epoch
from lifeos_gql.importers.identity import native_id

_MARKERS = ("channels.json", "users.json")
_CONVERSATION_LISTS = ("channels.json", "groups.json", "mpims.json", "dms.json")
_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_MARKUP = re.compile(r"<([^<>]+)>")
_NOTICES = frozenset({"channel_join", "channel_leave", "group_join", "group_leave"})


def _load_json(archive: Archive, name: str) -> Any:
    try:
        return json.loads(archive.read(name))
    except (KeyError, FileNotFoundError, ValueError):
        return None  # missing or broken lists only cost names, not messages


def _user_names(users: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict) or "id" not in user:
            continue
        profile = user.get("profile") or {}
        names[user["id"]] = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user["id"]
        )
    return names


def _channel_ids(archive: Archive, root: str) -> dict[str, str]:
    # Folders are named after the channel (or, for DMs, after its id).
    ids: dict[str, str] = {}
    for list_name in _CONVERSATION_LISTS:
        for conv in _load_json(archive, posixpath.join(root, list_name)) or []:
            if isinstance(conv, dict) and "id" in conv:
                ids[str(conv.get("name") or conv["id"])] = str(conv["id"])
    return ids


def render_text(text: str, users: dict[str, str]) -> str:
    """Slack ``mrkdwn`` markup (mentions, links) to plain readable text."""

    def replace(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (label or users.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    rendered = _MARKUP.sub(replace, text)
    return rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_time(ts: str) -> datetime:
    """Slack's ``"seconds.micros"`` ts, parsed exactly (no float rounding)."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or not (fraction.isdigit() or not fraction):
        raise InvalidRecord("invalid ts")
    micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return from_epoch(int(seconds)) + timedelta(microseconds=micros)


def _message_item(msg: Any, channel: str, channel_id: str, users: dict[str, str]) -> ImportedItem:
    if not isinstance(msg, dict):
        raise InvalidRecord("message is not an object")
    ts = msg.get("ts")
    if not isinstance(ts, str) or not ts:
        raise InvalidRecord("message has no ts")
    if msg.get("subtype") in _NOTICES:
        raise InvalidRecord("membership notice")
    occurred_at = slack_time(ts)
    files = [
        {"name": f.get("name"), "type": f.get("mimetype"), "size": f.get("size")}
        for f in msg.get("files") or []
        if isinstance(f, dict)
    ]
    text = render_text(str(msg.get("text") or ""), users).strip()
    if not text and not files:
        raise InvalidRecord("empty message")
    user_id = msg.get("user")
    profile = msg.get("user_profile") or {}
    user_name = (
        users.get(str(user_id))
        or profile.get("real_name")
        or msg.get("username")
        or (msg.get("bot_profile") or {}).get("name")
        or user_id
    )
    return ImportedItem(
        external_id=native_id("slack", f"{channel_id}:{ts}"),
        occurred_at=occurred_at,
        title=f"{user_name} in #{channel}",
        content=text,
        data={
            "channel": channel,
            "channel_id": channel_id,
            "user": user_id,
            "user_name": user_name,
            "ts": ts,
            "thread_ts": msg.get("thread_ts"),
            "subtype": msg.get("subtype"),
            "reply_count": msg.get("reply_count"),
            "reactions": [
                {"name": r.get("name"), "count": r.get("count")}
                for r in msg.get("reactions") or []
                if isinstance(r, dict)
            ],
            "files": files,
        },
        source_kind="message",
    )


class SlackImporter(ImporterBase):
    """One item per message; progress in bytes of the day files."""

    name = "slack"
    source_kind = "message"

    @staticmethod
    def _day_files(archive: Archive) -> tuple[str, list[str]]:
        names = archive.names()
        root = common_root(names, _MARKERS)
        prefix = f"{root}/" if root else ""
        days = [
            n
            for n in names
            if n.startswith(prefix)
            and n[len(prefix) :].count("/") == 1
            and _DAY_FILE.fullmatch(posixpath.basename(n))
        ]
        return root, days

    def total_units(self, path: Path) -> int:
        """Total uncompressed size in bytes of the per-day message files."""
        with Archive(path) as archive:
            _, days = self._day_files(archive)
            return sum(archive.size(n) for n in days)

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        with Archive(path) as archive:
            root, days = self._day_files(archive)
            users = _user_names(_load_json(archive, posixpath.join(root, "users.json")))
            channel_ids = _channel_ids(archive, root)
            for name in days:
                channel = posixpath.basename(posixpath.dirname(name))
                channel_id = channel_ids.get(channel, channel)
                try:
                    messages = json.loads(archive.read(name))
                except (ValueError, UnicodeDecodeError) as exc:
                    stats.skip(f"unreadable day file ({type(exc).__name__})", name)
                    messages = []
                finally:
                    progress.advance(archive.size(name))
                if not isinstance(messages, list):
                    stats.skip("day file is not a list", name)
                    continue
                for index, msg in enumerate(messages):
                    try:
                        item = _message_item(msg, channel, channel_id, users)
                    except InvalidRecord as exc:
                        stats.skip(exc.reason, f"{name}[{index}]")
                        continue
                    yield item
