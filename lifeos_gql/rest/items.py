"""Turn an ingest request body into capture drafts, item by item.

Problems with the request as a whole (malformed JSON, wrong envelope, no
items) raise ``BadInput``; problems with one item become an ``ItemError``
so the other items are still captured, as the capture service does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.captures.models import CaptureDraft

ITEM_FIELDS = frozenset({"occurredAt", "title", "content", "data", "externalId"})
_TEXT_FIELDS = {"title": "title", "content": "content", "externalId": "external_id"}
_MAX_TIMESTAMP_CHARS = 64


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why one item was not handed to the capture service."""

    code: str
    message: str
    field: str | None


Item = CaptureDraft | ItemError


def parse_json_body(body: bytes) -> list[Any]:
    """The raw items of a JSON body: one object, ``{"items": [...]}`` or an array."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"Malformed JSON: {exc}", field="body") from exc
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and "items" in document:
        extra = sorted(set(document) - {"items"})
        if extra:
            raise BadInput(f"Unknown top-level field {extra[0]!r} next to 'items'", field=extra[0])
        items = document["items"]
        if not isinstance(items, list):
            raise BadInput("'items' must be an array", field="items")
    elif isinstance(document, dict):
        items = [document]
    else:
        raise BadInput(
            'The body must be a capture object, an array of them, or {"items": [...]}',
            field="body",
        )
    if not items:
        raise BadInput("There are no items to capture", field="items")
    return items


def parse_timestamp(value: object) -> datetime | ItemError:
    """An ISO 8601 timestamp (``Z`` allowed; without an offset it is UTC)."""
    if not isinstance(value, str) or len(value) > _MAX_TIMESTAMP_CHARS:
        return ItemError("INVALID_TIMESTAMP", "occurredAt must be an ISO 8601 string", "occurredAt")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return ItemError(
            "INVALID_TIMESTAMP", f"occurredAt is not ISO 8601: {value!r}", "occurredAt"
        )


def to_draft(stream_id: uuid.UUID, raw: object) -> Item:
    """One JSON item as a draft, or the first thing wrong with it."""
    if not isinstance(raw, dict):
        return ItemError("BAD_USER_INPUT", "Each item must be a JSON object", None)
    unknown = sorted(set(raw) - ITEM_FIELDS)
    if unknown:
        return ItemError("UNKNOWN_FIELD", f"Unknown field {unknown[0]!r}", unknown[0])
    texts: dict[str, str | None] = {}
    for wire, attribute in _TEXT_FIELDS.items():
        value = raw.get(wire)
        if value is not None and not isinstance(value, str):
            return ItemError("BAD_USER_INPUT", f"{wire} must be a string", wire)
        texts[attribute] = value
    occurred_at = None
    if raw.get("occurredAt") is not None:
        parsed = parse_timestamp(raw["occurredAt"])
        if isinstance(parsed, ItemError):
            return parsed
        occurred_at = parsed
    return CaptureDraft(
        stream_id=stream_id,
        occurred_at=occurred_at,
        title=texts["title"],
        content=texts["content"],
        data=raw.get("data"),
        external_id=texts["external_id"],
    )
