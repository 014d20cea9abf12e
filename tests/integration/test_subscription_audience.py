"""The dispatcher decides an event's audience for all subscribers at once; it
must agree, reader for reader, with loading the event through each reader's
own loaders (the path queries take, under row-level security).

Readers cover every way the rule can go: the owner, viewers of one stream or
the other or both, a stranger, and credentials bound to one stream. Nodes
cover a two-stream insight, a capture of each stream, and their concepts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.api.subscriptions.dispatcher import EventDispatcher
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.graph.models import EventKind, EventRecord, NodeType
from tests.helpers import dev_token, gql
from tests.integration.test_lineage_visibility import SHARE, _world


async def _user_id(client: Any, settings: Any, email: str) -> uuid.UUID:
    token = dev_token(settings.lifeos_data_dir, email)
    body = await gql(client, "{ me { id } }", token=token)
    return decode_global_id(body["data"]["me"]["id"]).id


def _event(kind: EventKind, node_type: NodeType, node_id: uuid.UUID, owner: uuid.UUID) -> Any:
    return EventRecord(
        id=1,
        owner_id=owner,
        stream_ids=(),
        kind=kind.value,
        node_type=node_type.value,
        node_id=node_id,
        payload={},
        created_at=datetime.now(UTC),
    )


async def test_batched_audience_agrees_with_each_readers_loaders(client, settings):
    w = await _world(client, settings)
    shared, private = (decode_global_id(s).id for s in w["streams"])
    ids = {
        name: await _user_id(client, settings, f"{name}@example.com")
        for name in ("alice", "bob", "carol", "erin", "dave")
    }
    for email, stream in (
        ("bob", w["streams"][0]),
        ("carol", w["streams"][1]),
        ("erin", w["streams"][0]),
        ("erin", w["streams"][1]),
    ):
        variables = {"s": stream, "e": f"{email}@example.com", "r": "VIEWER"}
        assert "errors" not in await gql(client, SHARE, variables, token=w["alice"])

    actors = {(user_id, None): Actor(user_id=user_id, via="jwt") for user_id in ids.values()}
    for user, bound in (("alice", shared), ("erin", private), ("bob", private)):
        actors[(ids[user], bound)] = Actor(user_id=ids[user], via="api-token", stream_id=bound)

    runtime = client.app.state.runtime
    captures = [decode_global_id(c).id for c in w["captures"]]
    async with runtime.system_db.transaction() as uow:
        concepts = [
            row[0]
            for row in await uow.execute(
                text(
                    "SELECT DISTINCT to_id FROM edges WHERE relation = 'MENTIONS'"
                    " AND superseded_at IS NULL AND from_id = ANY(:c)"
                ),
                {"c": captures},
            )
        ]
    assert concepts, "the captures' analysis found no concepts: the test would prove little"
    owner = ids["alice"]
    events = [
        _event(EventKind.INSIGHT_ADDED, NodeType.INSIGHT, decode_global_id(w["insight"]).id, owner)
    ]
    events += [_event(EventKind.CAPTURE_ANALYZED, NodeType.CAPTURE, c, owner) for c in captures]
    events += [_event(EventKind.GRAPH_CHANGED, NodeType.CONCEPT, c, owner) for c in concepts]
    events.append(_event(EventKind.GRAPH_CHANGED, NodeType.INSIGHT, uuid.uuid4(), owner))

    dispatcher = EventDispatcher(runtime, queue_size=8, max_per_user=8)
    audiences = []
    for event in events:
        batched = set(await dispatcher._audience(event, actors))
        each = set(await dispatcher._check_each(event, actors))
        assert batched == each, (event.node_type, batched ^ each)
        # The whole check hands the same readers the same typed event.
        assert set(await dispatcher._check(event, actors)) == each
        audiences.append(batched)

    by = {name: (user_id, None) for name, user_id in ids.items()}
    # The two-stream insight: only readers of both streams, unbound.
    assert audiences[0] == {by["alice"], by["erin"]}
    # Each capture: its stream's readers, and credentials bound to that stream.
    assert audiences[1] == {by["alice"], by["bob"], by["erin"], (ids["alice"], shared)}
    assert audiences[2] == {by["alice"], by["carol"], by["erin"], (ids["erin"], private)}
    assert by["dave"] not in set().union(*audiences)
    assert audiences[-1] == set()  # a node that does not exist
