"""In-process bus: one process only (tests, single-process runs by choice)."""

from __future__ import annotations

from lifeos_gql.infra.events.base import EventBus, EventCallback


class InProcessBus(EventBus):
    name = "in-process"

    async def publish(self, max_id: int) -> None:
        self._deliver(max_id)

    async def start(self, callback: EventCallback) -> None:
        # Nothing to connect to: publishing calls the listener directly.
        self._callback = callback
