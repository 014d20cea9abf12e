"""One RFC 5322 message (bytes) to an ImportedItem; shared by mbox and eml.

Parsing uses the standard library (``BytesParser``, or the mbox reader's
incremental ``BytesFeedParser``, with ``policy.default``), which handles
MIME, encoded words and charsets and keeps malformed headers as defects
instead of failing.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from lifeos_gql.importers.base import ImportedItem, InvalidRecord
from lifeos_gql.importers.dates import ensure_utc, parse_datetime
from lifeos_gql.importers.html_text import html_to_text
from lifeos_gql.importers.identity import hashed_id, native_id

_PARSER = BytesParser(policy=policy.default)
_MSG_ID = re.compile(r"<([^<>\s]+)>")


def parse_email(raw: bytes | bytearray, *, envelope_date: datetime | None = None) -> ImportedItem:
    """Turn one message into an item; ``InvalidRecord`` when it is unusable.

    ``envelope_date`` (the mbox "From " line) is the fallback date when the
    message has neither a valid Date header nor a Received header.
    """
    if not raw.strip():
        raise InvalidRecord("empty message")
    return message_to_item(_PARSER.parsebytes(raw), envelope_date=envelope_date)


def message_to_item(msg: EmailMessage, *, envelope_date: datetime | None = None) -> ImportedItem:
    """Turn a parsed message (``policy.default``) into an item."""
    occurred_at = _message_date(msg) or envelope_date
    if occurred_at is None:
        raise InvalidRecord("message has no date")

    message_id = _first_id(_header(msg, "Message-ID"))
    in_reply_to = _first_id(_header(msg, "In-Reply-To"))
    references = _MSG_ID.findall(_header(msg, "References"))
    subject = _header(msg, "Subject").strip() or None
    body_part = msg.get_body(preferencelist=("plain", "html"))
    content, body_type = _body_text(body_part)
    senders = _addresses(msg, "From")
    recipients = _addresses(msg, "To")

    data: dict[str, Any] = {
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": references,
        # The thread root is the first reference (RFC 5322 §3.6.4), else the
        # parent, else the message itself: a stable key to group threads by.
        "thread_id": references[0] if references else in_reply_to or message_id,
        "from": senders,
        "to": recipients,
        "cc": _addresses(msg, "Cc"),
        "subject": subject,
        "date": occurred_at.isoformat(),
        "body_type": body_type,
        "attachments": _attachments(msg, body_part),
    }
    list_id = _header(msg, "List-Id").strip()
    if list_id:
        data["list_id"] = list_id

    if message_id:
        external_id = native_id("msgid", message_id)
    else:
        # No Message-ID: identify the message by what it says, not by where
        # it sits in the file.
        external_id = hashed_id(
            "email", senders, recipients, occurred_at.isoformat(), subject, content
        )
    return ImportedItem(
        external_id=external_id,
        occurred_at=occurred_at,
        title=subject,
        content=content,
        data=data,
        source_kind="email",
    )


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # malformed header the policy choked on
        return ""
    return "" if value is None else str(value)


def _first_id(value: str) -> str | None:
    match = _MSG_ID.search(value)
    if match:
        return match.group(1)
    value = value.strip()
    return value or None


def _message_date(msg: EmailMessage) -> datetime | None:
    date_value = _header(msg, "Date")
    for candidate in (date_value, *_received_dates(msg)):
        if not candidate.strip():
            continue
        try:
            return parse_datetime(candidate)
        except ValueError:
            continue
    return None


def _received_dates(msg: EmailMessage) -> list[str]:
    # The date after the last ';' of the newest Received header is when the
    # final server got the message: a fair stand-in for a missing Date.
    values = msg.get_all("Received") or []
    return [str(v).rpartition(";")[2] for v in values[:1]]


def _addresses(msg: EmailMessage, name: str) -> list[dict[str, str]]:
    try:
        header = msg.get(name)
        addresses: tuple[Address, ...] = getattr(header, "addresses", ())
        return [{"name": a.display_name, "address": a.addr_spec} for a in addresses]
    except (ValueError, IndexError, TypeError):
        raw = _header(msg, name).strip()
        return [{"name": "", "address": raw}] if raw else []


def _body_text(part: Any) -> tuple[str, str | None]:
    if part is None:
        return "", None
    content_type = str(part.get_content_type())
    try:
        text = str(part.get_content())
    except (LookupError, ValueError, AssertionError):
        # Unknown or lying charset: decode the bytes leniently instead.
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if content_type == "text/html":
        text = html_to_text(text)
    return text.strip(), content_type


def _attachments(msg: EmailMessage, body_part: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and not filename:
            continue
        found.append(
            {"name": filename, "type": part.get_content_type(), "size": _decoded_size(part)}
        )
    return found


def _decoded_size(part: Any) -> int | None:
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    if part.get("Content-Transfer-Encoding", "").strip().lower() == "base64":
        # Count instead of decoding: a 20 MB attachment need not be copied
        # again just to learn its size.
        symbols = len(payload) - sum(payload.count(c) for c in " \t\r\n")
        padding = payload.rstrip().count("=", -2) if symbols else 0
        return max(0, symbols * 3 // 4 - padding)
    decoded = part.get_payload(decode=True)
    return len(decoded) if isinstance(decoded, bytes) else None


def envelope_date(from_line: bytes) -> datetime | None:
    """The date on an mbox ``From sender asctime`` line, if it has one."""
    text = from_line.decode("ascii", "replace")[5:].strip()
    _, _, date_text = text.partition(" ")
    if not date_text.strip():
        return None
    try:
        return ensure_utc(parse_datetime(date_text))
    except ValueError:
        return None
