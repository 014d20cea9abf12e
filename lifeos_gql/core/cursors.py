"""Opaque keyset cursors: base64url of a small JSON array."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from lifeos_gql.core.errors import BadInput


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeError) as exc:
        raise BadInput("Malformed cursor", field="after") from exc


def clamp_first(first: int | None, *, default: int = 20, maximum: int = 100) -> int:
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise BadInput(f"first must be between 0 and {maximum}", field="first")
    return first
