"""Opaque global ids: ``base64url("Type:uuid")`` without padding.

Clients must treat them as opaque; the server decodes them to a node type
and a database id, rejecting anything malformed with ``BadInput``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import NamedTuple

from lifeos_gql.core.errors import BadInput


class GlobalId(NamedTuple):
    type_name: str
    id: uuid.UUID


def encode_global_id(type_name: str, db_id: uuid.UUID) -> str:
    raw = f"{type_name}:{db_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_global_id(value: str, *, expected: str | None = None) -> GlobalId:
    """Decode ``value``; with ``expected`` set, the type must match."""
    if not value or len(value) > 200:
        raise BadInput("Malformed id", field="id")
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, _, rest = raw.partition(":")
        parsed = GlobalId(type_name, uuid.UUID(rest))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise BadInput("Malformed id", field="id") from exc
    if not type_name.isidentifier():
        raise BadInput("Malformed id", field="id")
    if expected is not None and parsed.type_name != expected:
        raise BadInput(f"Expected a {expected} id", field="id")
    return parsed
