"""The bus interface shared by the Redis, Postgres and in-process buses."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("lifeos_gql.events")

#: Called with the newest event id a writer committed, or ``None`` when the
#: listener reconnected and may have missed messages (read the table again).
EventCallback = Callable[[int | None], None]

#: Channel (Redis) and notification channel (Postgres) name.
CHANNEL = "lifeos_events"

# Reconnect backoff of listeners: bounded, so a dead broker costs little.
_BACKOFF_START = 0.2
_BACKOFF_MAX = 5.0
# How long closing waits for the listener to end.
_CLOSE_SECONDS = 5.0


class EventBus(abc.ABC):
    """Publish "events up to id N committed"; deliver it to this process's listener."""

    name: str = "bus"

    def __init__(self) -> None:
        self._callback: EventCallback | None = None
        self._task: asyncio.Task[None] | None = None
        #: Set by ``aclose``: listeners stop at their next chance even if a
        #: client library swallowed the cancellation.
        self.closing = False

    @abc.abstractmethod
    async def publish(self, max_id: int) -> None:
        """Announce committed events up to ``max_id`` (never raises: the change is
        committed; listeners catch up on the next message)."""

    async def start(self, callback: EventCallback) -> None:
        """Start delivering messages to ``callback`` (one listener per process)."""
        self._callback = callback
        self._task = asyncio.create_task(self._listen_forever(), name=f"lifeos-{self.name}-bus")

    async def aclose(self) -> None:
        self.closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Bounded: a listener stuck in a client library must not hang shutdown.
            await asyncio.wait({task}, timeout=_CLOSE_SECONDS)

    def _deliver(self, max_id: int | None) -> None:
        if self._callback is not None:
            self._callback(max_id)

    async def _listen_once(self, ready: Callable[[], None]) -> None:
        """Listen until the connection fails; call ``ready`` once subscribed."""
        raise NotImplementedError

    async def _listen_forever(self) -> None:
        delay = _BACKOFF_START
        first = True
        while not self.closing:

            def ready() -> None:
                nonlocal delay, first
                delay = _BACKOFF_START
                if not first:
                    # Messages may have been lost while disconnected.
                    self._deliver(None)
                first = False

            try:
                await self._listen_once(ready)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s event listener lost its connection: %r", self.name, exc)
            if self.closing:
                return
            await asyncio.sleep(delay)  # reconnect backoff, bounded
            delay = min(delay * 2, _BACKOFF_MAX)


async def publish_quietly(name: str, send: Callable[[], Awaitable[object]]) -> None:
    """Run ``send``; log instead of raising (the change it announces is committed)."""
    try:
        await send()
    except Exception as exc:
        log.warning("%s event publish failed: %r", name, exc)
