"""Graph building from analyses on a real Postgres: insights, concepts, edges, events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lifeos_gql.bootstrap import CoreRuntime, open_runtime
from lifeos_gql.core.actor import Actor
from lifeos_gql.domains.captures import service as captures_service
from lifeos_gql.domains.captures.models import CaptureDraft, CaptureRecord
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from lifeos_gql.domains.users import service as users
from lifeos_gql.infra.llm.types import (
    AnalysisResult,
    ExtractedConcept,
    ExtractedInsight,
    ExtractedRelation,
)
from tests.conftest import make_settings


@dataclass
class World:
    rt: CoreRuntime
    owner: Actor
    captures: list[CaptureRecord]


@asynccontextmanager
async def open_world(settings: Any, captures: int = 3, pool_size: int = 2) -> AsyncIterator[World]:
    """One owner with a Journal stream of ``captures`` plain entries (May 1st onwards)."""
    async with open_runtime(settings, pool_size=pool_size) as rt:
        async with rt.system_db.transaction() as uow:
            user, _ = await users.provision_user(
                uow=uow, subject="test|owner", email="owner@example.org", name=None
            )
        actor = Actor(user_id=user.id, via="test")
        async with rt.db.transaction(user.id) as uow:
            stream = await streams.create_stream(
                uow=uow, actor=actor, name="Journal", source=SourceKind.NOTE
            )
            outcomes = await captures_service.ingest(
                uow=uow,
                actor=actor,
                crypto=rt.capture_crypto,
                limits=rt.capture_limits,
                drafts=[
                    CaptureDraft(
                        stream_id=stream.id,
                        occurred_at=datetime(2024, 5, day, tzinfo=UTC),
                        content=f"Entry {day}",
                    )
                    for day in range(1, captures + 1)
                ],
            )
        records = [o.capture for o in outcomes if o.capture is not None]
        yield World(rt, actor, records)


@pytest.fixture
async def w(db_url: str, data_dir: Path) -> AsyncIterator[World]:
    async with open_world(make_settings(database_url=db_url, lifeos_data_dir=data_dir)) as world:
        yield world


def concept(name: str, kind: str = "person", salience: float = 0.8, **kw: Any) -> ExtractedConcept:
    return ExtractedConcept(name=name, kind=kind, salience=salience, **kw)  # type: ignore[arg-type]


def result(
    capture: CaptureRecord, *concepts: ExtractedConcept, insights_: Sequence[str] = (), **kw: Any
) -> AnalysisResult:
    return AnalysisResult(
        ref=str(capture.id),
        producer="test-analyser/1",
        concepts=list(concepts),
        insights=[ExtractedInsight(kind="key_insight", text=t, confidence=0.7) for t in insights_],
        **kw,
    )


async def apply(
    w: World,
    capture: CaptureRecord,
    res: AnalysisResult,
    related: Sequence[tuple[uuid.UUID, float]] = (),
) -> graph.GraphChange:
    assert w.owner.user_id is not None
    async with w.rt.db.transaction(w.owner.user_id) as uow:
        return await graph.apply_analysis(
            uow=uow,
            owner_id=w.owner.user_id,
            capture=capture,
            result=res,
            related=related,
            crypto=w.rt.capture_crypto,
        )


async def rows(w: World, sql: str, **params: Any) -> list[Any]:
    async with w.rt.system_db.transaction() as uow:
        return list(await uow.execute(text(sql), params))


async def current_edges(w: World, relation: str) -> list[Any]:
    return await rows(
        w,
        "SELECT from_id, to_id, weight, evidence FROM edges"
        " WHERE relation = :r AND superseded_at IS NULL ORDER BY recorded_at",
        r=relation,
    )


async def test_analysis_becomes_encrypted_insights_merged_concepts_and_edges(w: World) -> None:
    c1, c2, _ = w.captures
    await apply(w, c1, result(c1, concept("Dr. Jane Smith"), concept("Kyoto", "place")))
    change = await apply(
        w,
        c2,
        result(
            c2,
            concept("J. Smith", salience=0.6),
            concept("kyoto", "place"),
            insights_=["Travel restores energy."],
        ),
        related=[(c1.id, 0.83)],
    )
    assert change.concepts_created == []  # both names merged into existing nodes

    people = await rows(w, "SELECT name, aliases FROM concepts WHERE kind = 'person'")
    assert [(p.name, list(p.aliases)) for p in people] == [("Dr. Jane Smith", ["J. Smith"])]

    stored = await rows(w, "SELECT id, text_enc FROM insights")
    assert len(stored) == 1 and b"Travel" not in bytes(stored[0].text_enc)
    async with w.rt.db.transaction(w.owner.user_id) as uow:
        by_capture = await insights.insights_by_capture_ids(
            uow=uow, actor=w.owner, crypto=w.rt.capture_crypto, capture_ids=[c1.id, c2.id]
        )
    assert by_capture[c1.id] == []
    assert [i.text for i in by_capture[c2.id]] == ["Travel restores energy."]

    related = await current_edges(w, "RELATED_TO")
    assert [(r.from_id, r.to_id) for r in related] == [(c2.id, c1.id)]
    assert related[0].evidence["similarity"] == pytest.approx(0.83)
    assert len(related[0].evidence["sharedConcepts"]) == 2  # Jane Smith and Kyoto are rare
    co = await current_edges(w, "CO_OCCURS")
    assert [(r.weight, r.evidence) for r in co] == [(2.0, {"count": 2})]
    assert len(await current_edges(w, "MENTIONS")) == 4
    assert len(await current_edges(w, "DERIVED_FROM")) == 1

    kinds = [r.kind for r in await rows(w, "SELECT kind FROM events ORDER BY id")]
    assert kinds == ["GRAPH_CHANGED", "INSIGHT_ADDED", "GRAPH_CHANGED"]


async def test_reapplying_the_same_analysis_changes_nothing(w: World) -> None:
    c1, c2, _ = w.captures
    await apply(w, c1, result(c1, concept("Kyoto", "place")))
    res = result(
        c2,
        concept("Jane Smith"),
        concept("Kyoto", "place"),
        insights_=["A.", "B."],
        relations=[
            ExtractedRelation(
                from_ref=str(c2.id),
                to_ref=str(c1.id),
                relation="same_trip",
                evidence="",
                weight=0.5,
            )
        ],
    )
    first = await apply(w, c2, res, related=[(c1.id, 0.4)])
    assert first.changed
    counts = "SELECT (SELECT count(*) FROM edges), (SELECT count(*) FROM insights), (SELECT count(*) FROM concepts), (SELECT count(*) FROM events)"
    before = (await rows(w, counts))[0]
    again = await apply(w, c2, res, related=[(c1.id, 0.4)])
    assert not again.changed and again.events == 0
    assert (await rows(w, counts))[0] == before
    related = await current_edges(w, "RELATED_TO")
    assert related[0].evidence["analyser"] == ["same_trip"] and related[0].weight == 0.5


async def test_reanalysis_supersedes_ai_edges_but_not_user_edges(w: World) -> None:
    c1, c2, _ = w.captures
    await apply(w, c1, result(c1, concept("Jane Smith"), concept("Kyoto", "place")))
    await apply(
        w, c2, result(c2, concept("Jane Smith"), concept("Kyoto", "place"), insights_=["Old."])
    )
    await rows(
        w,
        "INSERT INTO edges (owner_id, from_type, from_id, to_type, to_id, relation, producer)"
        " VALUES (:o, 'capture', :a, 'capture', :b, 'RELATED_TO', 'USER') RETURNING id",
        o=w.owner.user_id,
        a=c2.id,
        b=c1.id,
    )
    change = await apply(w, c2, result(c2, concept("Osaka", "place"), insights_=["New."]))
    assert change.edges_superseded["MENTIONS"] == 2 and change.edges_superseded["DERIVED_FROM"] == 1

    live = await rows(w, "SELECT kind FROM insights WHERE superseded_at IS NULL")
    assert len(live) == 1
    assert len(await rows(w, "SELECT 1 FROM insights WHERE superseded_at IS NOT NULL")) == 1
    co = await current_edges(w, "CO_OCCURS")
    assert [r.weight for r in co] == [1.0]  # only c1 still mentions both
    user_edges = await rows(w, "SELECT superseded_at FROM edges WHERE producer = 'USER'")
    assert [e.superseded_at for e in user_edges] == [None]
    history = await rows(w, "SELECT 1 FROM edges WHERE superseded_at IS NOT NULL")
    # Kept as history: two MENTIONS, the DERIVED_FROM and the shared-concept RELATED_TO.
    assert len(history) == 4
    assert change.edges_superseded["RELATED_TO"] == 1


async def test_initials_stay_apart_when_two_people_fit(w: World) -> None:
    c1, c2, c3 = w.captures
    await apply(w, c1, result(c1, concept("Jane Smith"), concept("John Smith")))
    change = await apply(w, c2, result(c2, concept("J. Smith")))
    assert len(change.concepts_created) == 1
    change = await apply(w, c3, result(c3, concept("Dr. John Smith, PhD")))
    assert change.concepts_created == []


async def test_other_users_see_no_graph(w: World) -> None:
    c1, c2, _ = w.captures
    await apply(w, c1, result(c1, concept("Kyoto", "place")))
    await apply(w, c2, result(c2, concept("Kyoto", "place"), insights_=["x."]), [(c1.id, 0.9)])
    async with w.rt.system_db.transaction() as uow:
        stranger, _ = await users.provision_user(
            uow=uow, subject="test|stranger", email="s@example.org", name=None
        )
    other = Actor(user_id=stranger.id, via="test")
    for actor, expect in ((w.owner, True), (other, False)):
        async with w.rt.db.transaction(actor.user_id) as uow:
            edges = await graph.edges_by_node_ids(uow=uow, actor=actor, node_ids=[c2.id])
            by_capture = await graph.concepts_by_capture_ids(
                uow=uow, actor=actor, capture_ids=[c2.id]
            )
            found = await insights.insights_by_capture_ids(
                uow=uow, actor=actor, crypto=w.rt.capture_crypto, capture_ids=[c2.id]
            )
        assert bool(edges[c2.id]) is expect
        assert bool(by_capture[c2.id]) is expect
        assert bool(found[c2.id]) is expect
