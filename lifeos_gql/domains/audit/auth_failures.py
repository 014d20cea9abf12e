"""Failed authentications, aggregated before they reach the audit log.

Writing one audit row per bad token would let anyone flood ``audit_log``
and serialise every request on the ``system`` chain's lock. Instead each
process counts failures per (reason, client IP) in memory and writes one
``auth.failures`` row per window (a minute by default) holding the
counts: at most one append per process per window, whatever the attack
rate. Memory is bounded too: past ``max_sources`` distinct (reason, IP)
pairs in a window, further pairs only add to ``otherCount``, and the row
lists the ``max_listed`` largest counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import datetime

from lifeos_gql.core.clock import utcnow
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.audit import service as audit

log = logging.getLogger("lifeos_gql.audit")

ACTION = "auth.failures"


class AuthFailureLog:
    """Per-process counter of failed authentications, flushed once per window."""

    def __init__(
        self,
        db: Database,
        *,
        window_seconds: float = 60.0,
        max_sources: int = 1000,
        max_listed: int = 50,
    ) -> None:
        self._db = db
        self._window = window_seconds
        self._max_sources = max_sources
        self._max_listed = max_listed
        self._counts: Counter[tuple[str, str]] = Counter()
        self._other = 0
        self._since: datetime | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Failures counted and not yet written."""
        return sum(self._counts.values()) + self._other

    def note(self, reason: str, client_ip: str | None) -> None:
        """Count one failure (constant time, no I/O); a flush is scheduled if none is."""
        key = (reason[:64] or "unknown", (client_ip or "unknown")[:64])
        if key in self._counts or len(self._counts) < self._max_sources:
            self._counts[key] += 1
        else:
            self._other += 1
        if self._since is None:
            self._since = utcnow()
        if not self._closed and (self._flusher is None or self._flusher.done()):
            try:
                self._flusher = asyncio.get_running_loop().create_task(self._flush_later())
            except RuntimeError:  # no loop (sync caller): the next flush() writes it
                self._flusher = None

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._window)
        await self.flush()

    async def flush(self) -> bool:
        """Write the counted failures as one system-chain row; False if there were none."""
        if not self._counts and not self._other:
            return False
        counts, other, since = self._counts, self._other, self._since
        self._counts, self._other, self._since = Counter(), 0, None
        listed = counts.most_common(self._max_listed)
        details = {
            "from": since.isoformat() if since else None,
            "to": utcnow().isoformat(),
            "total": sum(counts.values()) + other,
            "sources": len(counts),
            "failures": [{"reason": r, "ip": ip, "count": n} for (r, ip), n in listed],
            "otherCount": other + sum(n for _, n in counts.most_common()[self._max_listed :]),
        }
        try:
            async with self._db.transaction() as uow:
                await audit.record(uow=uow, owner_id=None, action=ACTION, details=details)
        except Exception:
            # Losing a window of counts beats failing requests or retrying forever.
            log.exception("could not write %d auth failures to the audit log", details["total"])
            return False
        return True

    async def aclose(self) -> None:
        """Stop the timer and write what is pending (at shutdown)."""
        self._closed = True
        flusher, self._flusher = self._flusher, None
        if flusher is not None and not flusher.done():
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        await self.flush()
