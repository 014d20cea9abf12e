"""Event cursors, subscription filters and the bounded mailbox (no database)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from lifeos_gql.api.subscriptions.cursor import decode_event_cursor, encode_event_cursor
from lifeos_gql.api.subscriptions.dispatcher import Interest, Mailbox
from lifeos_gql.api.subscriptions.types import GraphChangeKind
from lifeos_gql.api.subscriptions.visibility import change_kind, touched_nodes
from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.graph.models import EventRecord


def _event(kind: str = "GRAPH_CHANGED", **payload: object) -> EventRecord:
    return EventRecord(
        id=7,
        owner_id=uuid.uuid4(),
        stream_ids=(uuid.UUID(int=1),),
        kind=kind,
        node_type="capture",
        node_id=uuid.UUID(int=2),
        payload=dict(payload),
        created_at=datetime.now(UTC),
    )


def test_cursor_round_trip_and_rejects_garbage() -> None:
    assert decode_event_cursor(encode_event_cursor(123456789)) == 123456789
    for bad in ["", "not-a-cursor", encode_event_cursor(5) + "x", "ZXY6LTE", "A" * 80]:
        with pytest.raises(BadInput):
            decode_event_cursor(bad)


def test_interest_filters_by_kind_stream_and_touched_node() -> None:
    other = uuid.UUID(int=3)
    event = _event(nodes=[["concept", str(other)]], change="LINKED")
    assert Interest("GRAPH_CHANGED").matches(event)
    assert not Interest("INSIGHT_ADDED").matches(event)
    assert Interest("GRAPH_CHANGED", stream_id=uuid.UUID(int=1)).matches(event)
    assert not Interest("GRAPH_CHANGED", stream_id=uuid.UUID(int=9)).matches(event)
    assert Interest("GRAPH_CHANGED", node_id=uuid.UUID(int=2)).matches(event)
    assert Interest("GRAPH_CHANGED", node_id=other).matches(event)
    assert not Interest("GRAPH_CHANGED", node_id=uuid.UUID(int=9)).matches(event)
    assert touched_nodes(event) == [("concept", other)]


def test_change_kind_named_or_derived_from_older_payloads() -> None:
    assert change_kind({"change": "MERGED"}) is GraphChangeKind.MERGED
    assert change_kind({"edgeIds": ["x"], "added": {}}) is GraphChangeKind.LINKED
    assert change_kind({"edgeIds": ["x"], "superseded": {}}) is GraphChangeKind.UNLINKED
    assert change_kind({"added": {"MENTIONS": 3}}) is GraphChangeKind.ANALYSED


async def test_mailbox_is_bounded_and_wakes_its_consumer() -> None:
    box = Mailbox(2)
    waiting = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    assert box.put_nowait((1, None, None))  # type: ignore[arg-type]
    assert (await waiting)[0] == 1
    assert box.put_nowait((2, None, None))  # type: ignore[arg-type]
    assert box.put_nowait((3, None, None))  # type: ignore[arg-type]
    assert not box.put_nowait((4, None, None))  # type: ignore[arg-type]
    assert [d[0] for d in box.drain()] == [2, 3]
