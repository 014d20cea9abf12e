"""Opaque event cursors: ``base64url("ev:<events.id>")``."""

from __future__ import annotations

import base64
import binascii

from lifeos_gql.core.errors import BadInput

_PREFIX = "ev:"


def encode_event_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{event_id}".encode()).rstrip(b"=").decode("ascii")


def decode_event_cursor(cursor: str) -> int:
    """The event id in ``cursor``; ``BadInput`` (field ``after``) when malformed."""
    try:
        if len(cursor) > 40:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not raw.startswith(_PREFIX):
            raise ValueError(raw)
        value = int(raw[len(_PREFIX) :])
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise BadInput("Malformed cursor", field="after") from exc
    if value < 0 or encode_event_cursor(value) != cursor:  # canonical form only
        raise BadInput("Malformed cursor", field="after")
    return value
