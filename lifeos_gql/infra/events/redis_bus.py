"""Redis pub/sub bus: the production fan-out across server processes."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from lifeos_gql.infra.events.base import CHANNEL, EventBus, publish_quietly

_READ_SECONDS = 1.0


class RedisBus(EventBus):
    name = "redis"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._client: Redis = Redis.from_url(url)

    async def publish(self, max_id: int) -> None:
        await publish_quietly(self.name, lambda: self._client.publish(CHANNEL, str(max_id)))

    async def _listen_once(self, ready: Callable[[], None]) -> None:
        # A connection of its own: a subscribed connection can do nothing else.
        listener: Redis = Redis.from_url(self._url)
        pubsub = listener.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            ready()
            # Waits of at most a second, not ``listen()``: redis-py can swallow
            # a cancellation that lands in a blocking read (the task then
            # never ends and shutdown hangs), so the loop also checks the
            # closing flag between reads.
            while not self.closing:
                message = await pubsub.get_message(timeout=_READ_SECONDS)
                if message is None or message.get("type") != "message":
                    continue
                data = message.get("data")
                try:
                    self._deliver(int(data))
                except (TypeError, ValueError):
                    continue  # not ours: ignore
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await listener.aclose()

    async def aclose(self) -> None:
        await super().aclose()
        await self._client.aclose()
