"""``Subscription``: insightAdded, graphChanged, captureAnalyzed (resumable with ``after``).

Each field registers with the process's dispatcher first (live events start
buffering), then, when ``after`` is given, replays the missed events from
the table up to the dispatcher's position, then drains the buffer skipping
ids already sent: no gap, no duplicate. Every event is checked with loaders
made for it (DESIGN rule 3) and bound to the operation's context while the
selection executes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.subscriptions.cursor import decode_event_cursor
from lifeos_gql.api.subscriptions.delivery import send_shared
from lifeos_gql.api.subscriptions.dispatcher import EventScope, Interest, LiveSubscription
from lifeos_gql.api.subscriptions.types import (
    CaptureAnalyzedEvent,
    EventPayload,
    GraphEvent,
    InsightEvent,
)
from lifeos_gql.api.subscriptions.visibility import load_node, visible_event
from lifeos_gql.core.errors import BadInput, DomainError, NotFound
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.graph import events as event_log
from lifeos_gql.domains.graph.models import EventKind

T = TypeVar("T", bound=EventPayload)

REPLAY_PAGE = 200
_NODE_TYPES = {"Capture": "capture", "Insight": "insight", "Concept": "concept"}
_closing: set[asyncio.Task[None]] = set()


def _as_graphql_error(error: DomainError) -> GraphQLError:
    # Subscription errors may be sent before the error-shaping extension runs.
    return GraphQLError(error.message, original_error=error, extensions=error.as_extensions())


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, OSError):  # already closed
        await websocket.close(code=code, reason=reason)


def _closer(request: object) -> Callable[[int, str], None]:
    def close(code: int, reason: str) -> None:
        if isinstance(request, WebSocket):
            task = asyncio.get_running_loop().create_task(_close(request, code, reason))
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    return close


async def _interest(
    ctx: Context, kind: EventKind, stream_id: str | None, node_id: str | None
) -> Interest:
    """The filter, once the named stream or node is visible (else NOT_FOUND, like a missing one)."""
    stream = decode_global_id(stream_id, expected="Stream").id if stream_id else None
    node: tuple[str, uuid.UUID] | None = None
    if node_id:
        parsed = decode_global_id(node_id)
        if parsed.type_name not in _NODE_TYPES:
            raise BadInput("nodeId must be a Capture, Insight or Concept id", field="nodeId")
        node = (_NODE_TYPES[parsed.type_name], parsed.id)
    if stream is None and node is None:
        return Interest(kind.value)
    scope = EventScope(ctx.runtime, ctx.actor)
    scope.hold()
    try:
        if stream is not None and await scope.loaders.stream.get(stream) is None:
            raise NotFound("Stream not found", field="streamId")
        if node is not None and await load_node(scope.loaders, *node) is None:
            raise NotFound("Node not found", field="nodeId")
    finally:
        await scope.release()
    return Interest(kind.value, stream, node[1] if node else None)


async def _replay(
    ctx: Context, interest: Interest, after_id: int, upto_id: int
) -> AsyncIterator[tuple[int, EventPayload | None, EventScope]]:
    """Missed events in ``(after_id, upto_id]``; payload None for those not visible."""
    last = after_id
    while last < upto_id:
        async with ctx.runtime.db.transaction(ctx.actor.user_id) as uow:
            rows = await event_log.replay_for(
                uow=uow,
                actor=ctx.actor,
                after_id=last,
                upto_id=upto_id,
                kinds=[interest.kind],
                limit=REPLAY_PAGE,
            )
        for event in rows:
            last = event.id
            scope = EventScope(ctx.runtime, ctx.actor)
            scope.hold()
            payload = await visible_event(event, scope.loaders) if interest.matches(event) else None
            yield event.id, payload, scope
        if len(rows) < REPLAY_PAGE:
            return


async def _events(
    info: Info[Context, None],
    kind: EventKind,
    cls: type[T],
    *,
    stream_id: str | None = None,
    node_id: str | None = None,
    after: str | None = None,
) -> AsyncGenerator[T, None]:
    ctx = info.context
    dispatcher = ctx.runtime.subscriptions
    try:
        ctx.actor.require_user_id()
        if dispatcher is None:
            raise BadInput("Subscriptions are not served by this process")
        after_id = decode_event_cursor(after) if after is not None else None
        interest = await _interest(ctx, kind, stream_id, node_id)
        # Live first (buffered), then the table: nothing falls between the two.
        sub: LiveSubscription = dispatcher.register(ctx.actor, interest, _closer(ctx.request))
    except DomainError as error:
        raise _as_graphql_error(error) from error
    try:
        last = sub.live_from
        if after_id is not None:
            last = after_id
            async for event_id, payload, scope in _replay(ctx, interest, after_id, sub.live_from):
                last = max(last, event_id)
                try:
                    if isinstance(payload, cls):
                        ctx.reader, ctx.loaders = scope.reader, scope.loaders
                        yield payload
                finally:
                    await scope.release()
        while not sub.closed:
            event_id, payload, scope = await sub.queue.get()
            try:
                # Skip what the replay (or another process, via the cursor) sent.
                if event_id > last and isinstance(payload, cls):
                    last = event_id
                    if not await send_shared(scope):
                        ctx.reader, ctx.loaders = scope.reader, scope.loaders
                        yield payload
            finally:
                await scope.release()
    finally:
        await dispatcher.unregister(sub)


_AFTER = "Resume after this event cursor: missed events first, then live ones."


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="New insights you can see, optionally of one stream's captures."
    )
    def insight_added(
        self,
        info: Info[Context, None],
        stream_id: strawberry.ID | None = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> AsyncGenerator[InsightEvent, None]:
        return _events(
            info, EventKind.INSIGHT_ADDED, InsightEvent, stream_id=stream_id, after=after
        )

    @strawberry.subscription(
        description="Graph changes you can see, optionally only those touching one node."
    )
    def graph_changed(
        self,
        info: Info[Context, None],
        node_id: strawberry.ID | None = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> AsyncGenerator[GraphEvent, None]:
        return _events(info, EventKind.GRAPH_CHANGED, GraphEvent, node_id=node_id, after=after)

    @strawberry.subscription(
        description="Captures you can see whose analysis ended, optionally of one stream."
    )
    def capture_analyzed(
        self,
        info: Info[Context, None],
        stream_id: strawberry.ID | None = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> AsyncGenerator[CaptureAnalyzedEvent, None]:
        return _events(
            info, EventKind.CAPTURE_ANALYZED, CaptureAnalyzedEvent, stream_id=stream_id, after=after
        )
