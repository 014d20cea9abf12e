"""Pure validation of capture drafts: one error per bad item, with a code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from lifeos_gql.domains.captures.models import CaptureDraft, CaptureLimits

MAX_TITLE_CHARS = 1_000
MAX_EXTERNAL_ID_CHARS = 512
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ValidDraft:
    """A draft that passed validation, with its canonical encodings."""

    draft: CaptureDraft
    occurred_at: datetime
    explicit_time: bool
    title: str | None
    content: str | None
    data_json: bytes | None  # canonical JSON (sorted keys) or None
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Invalid:
    code: str
    message: str
    field: str


def validate(draft: CaptureDraft, limits: CaptureLimits, now: datetime) -> ValidDraft | Invalid:
    title = draft.title.strip() if draft.title is not None else None
    content = draft.content
    if title is not None and len(title) > MAX_TITLE_CHARS:
        return Invalid("TOO_LARGE", f"title is longer than {MAX_TITLE_CHARS} characters", "title")
    content_bytes = len(content.encode("utf-8", "surrogatepass")) if content else 0
    if content_bytes > limits.max_content_bytes:
        return Invalid(
            "TOO_LARGE",
            f"content is {content_bytes} bytes; the limit is {limits.max_content_bytes}",
            "content",
        )
    data_json: bytes | None = None
    if draft.data is not None:
        try:
            data_json = orjson.dumps(draft.data, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return Invalid("INVALID_JSON", f"data is not JSON-serialisable: {exc}", "data")
        if len(data_json) > limits.max_payload_bytes:
            return Invalid(
                "TOO_LARGE",
                f"data is {len(data_json)} bytes; the limit is {limits.max_payload_bytes}",
                "data",
            )
    if not (title or (content and content.strip()) or draft.data not in (None, {}, [])):
        return Invalid("EMPTY", "a capture needs a title, content or data", "content")
    if draft.external_id is not None and not (0 < len(draft.external_id) <= MAX_EXTERNAL_ID_CHARS):
        return Invalid(
            "INVALID_EXTERNAL_ID",
            f"externalId must be 1 to {MAX_EXTERNAL_ID_CHARS} characters",
            "externalId",
        )
    for name, text in (("title", title), ("content", content)):
        if text and "\x00" in text:
            return Invalid("INVALID_TEXT", f"{name} contains NUL characters", name)
    occurred = draft.occurred_at
    if occurred is not None:
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)  # naive times are taken as UTC
        if occurred < EARLIEST or occurred > now + FUTURE_SLACK:
            return Invalid(
                "INVALID_TIMESTAMP",
                "occurredAt must be after 1900 and not more than a day in the future",
                "occurredAt",
            )
    return ValidDraft(
        draft=draft,
        occurred_at=occurred or now,
        explicit_time=occurred is not None,
        title=title or None,
        content=content,
        data_json=data_json,
        size_bytes=content_bytes + (len(data_json) if data_json else 0) + len(title or ""),
    )


def content_identity(valid: ValidDraft) -> list[Any]:
    """What "identical content" means for deduplication.

    Title, content and data, plus the occurrence time when the client gave
    one: a daily "took my meds" note is a new capture every day, while a
    retry of the same item (same explicit time, or no time) is a duplicate.
    """
    return [
        valid.title,
        valid.content,
        valid.data_json.decode() if valid.data_json else None,
        valid.occurred_at.isoformat() if valid.explicit_time else None,
    ]
