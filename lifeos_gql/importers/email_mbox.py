"""``mbox``: a Unix mailbox file, streamed message by message.

``mailbox.mbox`` is not used: it indexes the whole file first and is built
for random access and rewriting. This reader walks the file once, in
binary, line by line, and feeds each message's lines straight into an
incremental ``BytesFeedParser``, so no raw copy of a message is ever held
beside its parsed form (what ``parsebytes`` would do) and memory is
bounded by the largest single message, not by the file.

A message starts at a line beginning with ``From `` that opens the file or
follows a blank line (writers escape body lines that would look like one);
mboxrd-style ``>From `` escapes are undone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from pathlib import Path
from typing import BinaryIO

from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.email_message import envelope_date, message_to_item
from lifeos_gql.importers.files import require_file

_ESCAPED_FROM = re.compile(rb"^>+From ")
_BLANK = (b"\n", b"\r\n", b"\r")
# Lines are handed to the parser in chunks of about this size: per-line
# feeding costs a Python call per line, whole-message feeding costs memory.
_FEED_CHUNK = 64 * 1024


@dataclass(slots=True)
class MboxEntry:
    """One message: where it started (1-based line), its envelope, its parse."""

    line: int
    from_line: bytes | None
    message: EmailMessage | None
    has_content: bool
    error: str | None = None


class _MessageCollector:
    def __init__(self, line: int, from_line: bytes | None) -> None:
        self.line = line
        self.from_line = from_line
        self.parser = BytesFeedParser(policy=policy.default)
        self.pending = bytearray()
        self.has_content = False
        self.error: str | None = None

    def add(self, data: bytes) -> None:
        if not self.has_content and data.strip():
            self.has_content = True
        self.pending += data
        if len(self.pending) >= _FEED_CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.error is None and self.pending:
            try:
                self.parser.feed(self.pending)
            except Exception as exc:
                # The feed parser records defects rather than raising; if it
                # raises anyway, only this message is lost.
                self.error = type(exc).__name__
        self.pending.clear()

    def finish(self) -> MboxEntry:
        self._flush()
        message = None
        if self.error is None:
            try:
                parsed = self.parser.close()
                message = parsed if isinstance(parsed, EmailMessage) else None
            except Exception as exc:  # see _flush
                self.error = type(exc).__name__
        return MboxEntry(self.line, self.from_line, message, self.has_content, self.error)


def split_mbox(stream: BinaryIO) -> Iterator[MboxEntry]:
    """Yield the messages of an mbox stream one at a time, parsed."""
    current = _MessageCollector(1, None)
    previous_blank = True
    for number, line in enumerate(stream, start=1):
        if previous_blank and line.startswith(b"From "):
            if current.from_line is not None or current.has_content:
                yield current.finish()
            current = _MessageCollector(number, line)
            previous_blank = False
            continue
        if _ESCAPED_FROM.match(line):
            line = line[1:]
        current.add(line)
        previous_blank = line in _BLANK
    if current.from_line is not None or current.has_content:
        yield current.finish()


class MboxImporter(ImporterBase):
    """One item per message; progress in bytes of the mbox file."""

    name = "mbox"
    source_kind = "email"

    def total_units(self, path: Path) -> int:
        """The file size in bytes."""
        return require_file(path).stat().st_size

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        total = self.total_units(path)
        with path.open("rb") as stream:
            for entry in split_mbox(stream):
                progress.advance_to(min(stream.tell(), total))
                item = self._item(entry, f"{path.name}:{entry.line}", stats)
                if item is not None:
                    yield item
        progress.advance_to(total)

    @staticmethod
    def _item(entry: MboxEntry, where: str, stats: ImportStats) -> ImportedItem | None:
        if entry.from_line is None:
            stats.skip("data before the first 'From ' line", where)
            return None
        if entry.message is None or not entry.has_content:
            reason = f"unparseable message ({entry.error})" if entry.error else "empty message"
            stats.skip(reason, where)
            return None
        try:
            return message_to_item(entry.message, envelope_date=envelope_date(entry.from_line))
        except InvalidRecord as exc:
            stats.skip(exc.reason, where)
        except Exception as exc:
            # The email package can still trip over hostile input in ways it
            # does not document (header access, charsets); one bad message
            # must not stop a mailbox of thousands.
            stats.skip(f"unparseable message ({type(exc).__name__})", where)
        return None
