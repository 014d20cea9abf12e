"""``multipart/form-data`` upload: one UTF-8 text file becomes one capture."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.captures.models import CaptureDraft
from lifeos_gql.rest.errors import UnsupportedMediaType
from lifeos_gql.rest.items import Item, ItemError, parse_timestamp

FORM_FIELDS = frozenset({"file", "occurredAt", "externalId"})
_MAX_FIELD_BYTES = 4 * 1024


async def parse_upload(request: Request, body: bytes, stream_id: uuid.UUID) -> Item:
    """The capture a form upload describes (``body`` is the already capped body)."""

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    buffered = Request(request.scope, replay)
    try:
        form = await buffered.form(
            max_files=1, max_fields=len(FORM_FIELDS), max_part_size=_MAX_FIELD_BYTES
        )
    except (MultiPartException, HTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise BadInput(f"Malformed multipart body: {detail}", field="body") from exc
    try:
        unknown = sorted(set(form.keys()) - FORM_FIELDS)
        if unknown:
            raise BadInput(f"Unknown form field {unknown[0]!r}", field=unknown[0])
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadInput("Send the file in a form field named 'file'", field="file")
        raw = await upload.read()
        content = _decode_text(raw)
        fields: dict[str, str] = {}
        for name in ("occurredAt", "externalId"):
            value = form.get(name)
            if value is not None and not isinstance(value, str):
                raise BadInput(f"{name} must be a plain form field", field=name)
            if value is not None:
                fields[name] = value
        occurred_at = None
        if "occurredAt" in fields:
            parsed = parse_timestamp(fields["occurredAt"])
            if isinstance(parsed, ItemError):
                return parsed
            occurred_at = parsed
        return CaptureDraft(
            stream_id=stream_id,
            occurred_at=occurred_at,
            title=upload.filename or None,
            content=content,
            data={
                "filename": upload.filename,
                "contentType": upload.content_type,
                "size": len(raw),
            },
            external_id=fields.get("externalId"),
        )
    finally:
        await form.close()


def _decode_text(raw: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); binary files are refused."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType("Only UTF-8 text files can be uploaded", field="file") from exc
    if "\x00" in text:
        raise UnsupportedMediaType(
            "Only text files can be uploaded (NUL bytes found)", field="file"
        )
    return text
