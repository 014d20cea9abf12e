"""One listener per process: read new events, check visibility, fill bounded queues.

The bus only says "events up to id N committed"; the dispatcher reads every
row after its ``position`` from the table (so a lost or coalesced message
loses nothing) and offers each event to the subscriptions interested in it.
Visibility is decided per event for all subscriber identities at once, from
the rows as they are now: revoking a grant stops delivery with the next
event, whichever process the subscriber is connected to.

A subscription's queue is bounded: when a consumer falls that far behind,
its connection is closed (1013, "try again later") instead of buffering
without limit; the client resumes from its last cursor.

A subscription made with an API token stops with that token: each event's
recipients are re-checked before delivery, and idle connections every
``credential_recheck_seconds``; a revoked token's connection is closed
(4403), whichever process it is held by.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lifeos_gql.api.loaders import Loaders
from lifeos_gql.api.subscriptions.types import EventPayload
from lifeos_gql.api.subscriptions.visibility import touched_nodes, visible_event
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import DomainError
from lifeos_gql.db.uow import RequestReader, UnitOfWork
from lifeos_gql.domains.graph import events as event_log
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.models import EventRecord
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.tokens import service as tokens
from lifeos_gql.infra.events import EventBus
from lifeos_gql.runtime import Runtime

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("lifeos_gql.subscriptions")

#: Rows read per query while catching up.
FETCH_BATCH = 500
#: Close code and reason for a consumer that fell ``queue size`` events behind.
SLOW_CONSUMER_CODE = 1013
SLOW_CONSUMER_REASON = "Slow consumer: too many undelivered events; resume with your last cursor"
#: Close code and reason for a connection whose API token was revoked.
REVOKED_CODE = 4403
REVOKED_REASON = "Token revoked"


class SubscriptionLimitReached(DomainError):
    code = "SUBSCRIPTION_LIMIT"
    http_status = 429


class EventScope:
    """Loaders for one event and one subscriber identity, shared by that
    identity's subscriptions to the event; its transaction closes when the
    last of them has executed (reference counted)."""

    __slots__ = ("loaders", "reader", "refs", "results")

    def __init__(self, runtime: Runtime, actor: Actor) -> None:
        self.reader = RequestReader(runtime.db, actor.user_id)
        self.loaders = Loaders(
            self.reader,
            actor,
            runtime.capture_crypto,
            embedder=runtime.embedder,
            vectors=runtime.vectors,
        )
        self.refs = 0
        # Executed ``next`` payloads by operation (document, variables): the
        # same identity, event and operation give the same result, so one
        # execution serves every such subscription (see ``delivery``).
        self.results: dict[object, object] = {}

    def hold(self) -> None:
        self.refs += 1

    async def release(self) -> None:
        self.refs -= 1
        if self.refs <= 0:
            await self.reader.close()


@dataclass(frozen=True, slots=True)
class Interest:
    """What one subscription listens to: an event kind, optionally one stream or node."""

    kind: str
    stream_id: uuid.UUID | None = None
    node_id: uuid.UUID | None = None

    def matches(self, event: EventRecord) -> bool:
        if event.kind != self.kind:
            return False
        if self.stream_id is not None and self.stream_id not in event.stream_ids:
            return False
        if self.node_id is not None and event.node_id != self.node_id:
            return self.node_id in {node_id for _, node_id in touched_nodes(event)}
        return True


Delivery = tuple[int, EventPayload, EventScope]


class Mailbox:
    """A bounded FIFO with one consumer: lighter than ``asyncio.Queue`` (10,000
    idle subscriptions hold 10,000 of these); the waiter exists only while waiting."""

    __slots__ = ("_items", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._items: deque[Delivery] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Delivery) -> bool:
        """Add ``item``; False (nothing added) when the mailbox is full."""
        if len(self._items) >= self._limit:
            return False
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    async def get(self) -> Delivery:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def drain(self) -> list[Delivery]:
        items = list(self._items)
        self._items.clear()
        return items


@dataclass(eq=False)
class LiveSubscription:
    """A registered subscription: its queue and the position live delivery starts after."""

    actor: Actor
    interest: Interest
    queue: Mailbox
    #: Closes the subscription's connection with a code and a reason.
    close: Callable[[int, str], None]
    live_from: int = 0
    closed: bool = False
    identity: tuple[uuid.UUID | None, uuid.UUID | None] = field(init=False)

    def __post_init__(self) -> None:
        # Visibility depends on the user and on a stream-bound credential only.
        self.identity = (self.actor.user_id, self.actor.stream_id)

    def offer(self, delivery: Delivery) -> bool:
        if self.closed:
            return False
        if not self.queue.put_nowait(delivery):
            self.closed = True
            self.close(SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON)
            return False
        return True


class EventDispatcher:
    """The process's subscriptions and the task that feeds them."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        queue_size: int,
        max_per_user: int,
        credential_recheck_seconds: float = 0.0,
    ) -> None:
        self._runtime = runtime
        self._queue_size = queue_size
        self._max_per_user = max_per_user
        self._recheck_every = credential_recheck_seconds
        self._recheck: asyncio.Task[None] | None = None
        self._by_kind: dict[str, set[LiveSubscription]] = {}
        self._per_user: Counter[uuid.UUID] = Counter()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Every committed event with ``id <= position`` has been offered.
        self.position = 0
        #: Subscriptions closed as slow consumers since start (observability).
        self.overflows = 0
        #: Subscriptions closed because their API token was revoked.
        self.revoked = 0

    @property
    def count(self) -> int:
        return sum(len(subs) for subs in self._by_kind.values())

    async def start(self, bus: EventBus) -> None:
        async with self._runtime.system_db.transaction() as uow:
            self.position = await event_log.latest_event_id(uow=uow)
        await bus.start(self.notify)
        self._task = asyncio.create_task(self._run(), name="lifeos-event-dispatcher")
        if self._recheck_every > 0:
            self._recheck = asyncio.create_task(
                self._recheck_credentials(), name="lifeos-subscription-credentials"
            )

    async def stop(self) -> None:
        tasks = [t for t in (self._task, self._recheck) if t is not None]
        self._task = self._recheck = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def notify(self, max_id: int | None) -> None:
        """The bus's callback: events up to ``max_id`` committed (None: maybe some)."""
        if max_id is None or max_id > self.position:
            self._wake.set()

    def register(
        self, actor: Actor, interest: Interest, close: Callable[[int, str], None]
    ) -> LiveSubscription:
        """Start buffering events after ``position`` for this subscription."""
        user_id = actor.require_user_id()
        if self._per_user[user_id] >= self._max_per_user:
            raise SubscriptionLimitReached(
                f"At most {self._max_per_user} live subscriptions per user", reason="per_user"
            )
        sub = LiveSubscription(
            actor=actor,
            interest=interest,
            queue=Mailbox(self._queue_size),
            close=close,
            live_from=self.position,
        )
        self._by_kind.setdefault(interest.kind, set()).add(sub)
        self._per_user[user_id] += 1
        return sub

    async def unregister(self, sub: LiveSubscription) -> None:
        subs = self._by_kind.get(sub.interest.kind)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        sub.closed = True
        user_id = sub.actor.user_id
        if user_id is not None:
            self._per_user[user_id] -= 1
            if self._per_user[user_id] <= 0:
                del self._per_user[user_id]
        for _, _, scope in sub.queue.drain():
            await scope.release()

    async def _run(self) -> None:
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event dispatch failed; retrying in %.1fs", delay)
                self._wake.set()
                await asyncio.sleep(delay)  # backoff while the database is away
                delay = min(delay * 2, 5.0)

    async def _catch_up(self) -> None:
        while True:
            async with self._runtime.system_db.transaction() as uow:
                rows = await event_log.events_after(
                    uow=uow, after_id=self.position, limit=FETCH_BATCH
                )
            for event in rows:
                await self._dispatch(event)
            if len(rows) < FETCH_BATCH:
                return

    async def _dispatch(self, event: EventRecord) -> None:
        # Set before taking the snapshot of subscribers: one registering while
        # this event is being checked replays up to it from the table instead.
        self.position = event.id
        subs = [s for s in self._by_kind.get(event.kind, ()) if s.interest.matches(event)]
        subs = await self._with_live_credentials(subs)
        if not subs:
            return
        groups: dict[Identity, list[LiveSubscription]] = {}
        for sub in subs:
            groups.setdefault(sub.identity, []).append(sub)
        visible = await self._check(event, {key: group[0].actor for key, group in groups.items()})
        for key, payload in visible.items():
            scope = EventScope(self._runtime, groups[key][0].actor)
            scope.hold()  # until every offer is made
            for sub in groups[key]:
                if sub.closed:
                    continue
                scope.hold()
                if not sub.offer((event.id, payload, scope)):
                    scope.refs -= 1
                    self.overflows += 1
            await scope.release()

    async def _with_live_credentials(self, subs: list[LiveSubscription]) -> list[LiveSubscription]:
        """``subs`` less those whose API token is no longer live (their connections close)."""
        token_ids = {s.actor.token_id for s in subs if s.actor.token_id is not None}
        if not token_ids:
            return subs
        async with self._runtime.system_db.transaction() as uow:
            live = await tokens.live_token_ids(uow=uow, ids=list(token_ids))
        kept = []
        for sub in subs:
            if sub.actor.token_id is None or sub.actor.token_id in live:
                kept.append(sub)
            elif not sub.closed:
                sub.closed = True
                self.revoked += 1
                sub.close(REVOKED_CODE, REVOKED_REASON)
        return kept

    async def _recheck_credentials(self) -> None:
        """Close idle subscriptions whose token was revoked (one query per period)."""
        while True:
            await asyncio.sleep(self._recheck_every)  # a period, not a wait for state
            try:
                await self._with_live_credentials(
                    [s for subs in self._by_kind.values() for s in subs]
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("re-checking subscription credentials failed")

    async def _check(
        self, event: EventRecord, actors: dict[Identity, Actor]
    ) -> dict[Identity, EventPayload]:
        """The typed event per subscriber identity that may see it now.

        The audience is decided for all identities at once (the node's
        deciding streams and every identity's roles on them: two queries
        whatever the number of subscribers). The event is then loaded once
        through the loaders of one reader in the audience, under that
        reader's row-level security; the typed event does not depend on who
        reads it (fields that do, like ``Capture.data``, are checked when
        each subscription executes, with its own identity's loaders).
        """
        if event.node_id is None or event.node_type is None:
            return {}
        audience = await self._audience(event, actors)
        if not audience:
            return {}
        first = audience[0]
        payloads = await self._check_each(event, {first: actors[first]})
        payload = payloads.get(first)
        if payload is None:
            # The first reader lost access between the two reads (a revoke
            # racing this event): decide the rest one by one.
            return await self._check_each(event, {key: actors[key] for key in audience[1:]})
        return {key: payload for key in audience}

    async def _audience(self, event: EventRecord, actors: dict[Identity, Actor]) -> list[Identity]:
        """The identities that may see the event's node, in one read of the rules."""
        assert event.node_id is not None and event.node_type is not None
        readers: dict[Identity, sharing.Reader] = {
            key: (actor.user_id, actor.stream_id)
            for key, actor in actors.items()
            if actor.user_id is not None  # subscribing requires a user
        }
        async with self._runtime.system_db.transaction() as uow:
            reach = await graph.node_reach(
                uow=uow, node_type=event.node_type, node_id=event.node_id
            )
            if not reach.streams:
                return []
            readable = await sharing.readable_among(
                uow=uow, readers=list(readers.values()), stream_ids=list(reach.streams)
            )
        return [key for key, reader in readers.items() if reach.readable_with(readable[reader])]

    async def _check_each(
        self, event: EventRecord, actors: dict[Identity, Actor]
    ) -> dict[Identity, EventPayload]:
        """Load the event through each identity's own loaders (row-level security on).

        One transaction for all identities, switching the acting user (and so
        the row-level-security view) before each, without a pooled
        connection per identity.
        """
        visible: dict[Identity, EventPayload] = {}
        if not actors:
            return visible
        db = self._runtime.db
        async with db.engine.connect() as conn, conn.begin():
            for key, actor in actors.items():
                await db.begin_as(conn, actor.user_id)
                reader = _ConnectionReader(conn, actor.user_id)
                loaders = Loaders(reader, actor, self._runtime.capture_crypto)
                try:
                    payload = await visible_event(event, loaders)
                except Exception:
                    # One bad event must not stall every subscriber behind it.
                    log.exception("visibility check of event %s failed", event.id)
                    payload = None
                if payload is not None:
                    visible[key] = payload
            await conn.rollback()  # read only
        return visible


Identity = tuple[uuid.UUID | None, uuid.UUID | None]


class _ConnectionReader(RequestReader):
    """A reader on a connection the caller owns (already in a transaction as its actor)."""

    def __init__(self, conn: AsyncConnection, actor_id: uuid.UUID | None) -> None:
        self._shared = conn
        self._conn = conn
        self._actor_id = actor_id
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[UnitOfWork]:
        async with self._lock:
            yield UnitOfWork(self._shared, self._actor_id)

    async def close(self) -> None:
        """The owner of the connection closes it."""
