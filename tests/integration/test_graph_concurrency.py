"""Analyses of one owner's captures running at once build the same graph as in turn.

Concept resolution locks names and nodes, not the whole owner; this checks
that concurrent analyses mentioning the same people and places still make
one node each and exact co-occurrence counts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.core.actor import Actor
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureDraft
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from lifeos_gql.domains.users import service as users
from lifeos_gql.infra.llm.types import AnalysisResult, ExtractedConcept
from tests.conftest import make_settings

N = 12
NICKNAMES = [f"Janie {chr(ord('A') + i)}" for i in range(N)]


async def test_concurrent_analyses_share_nodes_and_count_exactly(
    db_url: str, data_dir: Path
) -> None:
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir)
    async with open_runtime(settings, pool_size=N) as rt:
        async with rt.system_db.transaction() as uow:
            user, _ = await users.provision_user(
                uow=uow, subject="test|busy", email="busy@example.org", name=None
            )
        actor = Actor(user_id=user.id, via="test")
        async with rt.db.transaction(user.id) as uow:
            stream = await streams.create_stream(
                uow=uow, actor=actor, name="Journal", source=SourceKind.NOTE
            )
            outcomes = await captures.ingest(
                uow=uow,
                actor=actor,
                crypto=rt.capture_crypto,
                limits=rt.capture_limits,
                drafts=[
                    CaptureDraft(
                        stream_id=stream.id,
                        occurred_at=datetime(2024, 5, 1 + i, tzinfo=UTC),
                        content=f"Meeting {i}",
                    )
                    for i in range(N)
                ],
            )
        records = [o.capture for o in outcomes if o.capture is not None]
        assert len(records) == N

        async def analyse(index: int) -> None:
            record = records[index]
            # Half name the person with a title: the same node either way.
            person = "Dr. Jane Smith" if index % 2 else "Jane Smith"
            result = AnalysisResult(
                ref=str(record.id),
                producer="test-analyser/1",
                concepts=[
                    # Each analysis also learns a nickname of hers: none may be lost.
                    ExtractedConcept(
                        name=person, kind="person", salience=0.9, aliases=[NICKNAMES[index]]
                    ),
                    ExtractedConcept(name="Acme Corporation", kind="organisation", salience=0.7),
                    ExtractedConcept(name="Berlin", kind="place", salience=0.5),
                ],
            )
            async with rt.db.transaction(user.id) as uow:
                await graph.apply_analysis(
                    uow=uow,
                    owner_id=user.id,
                    capture=record,
                    result=result,
                    related=[],
                    crypto=rt.capture_crypto,
                )

        await asyncio.gather(*(analyse(i) for i in range(N)))

        async with rt.system_db.transaction() as uow:
            concepts = list(
                await uow.execute(
                    text("SELECT kind, count(*) FROM concepts WHERE owner_id = :o GROUP BY kind"),
                    {"o": user.id},
                )
            )
            co_occurs = list(
                await uow.execute(
                    text(
                        "SELECT weight FROM edges WHERE owner_id = :o AND relation = 'CO_OCCURS'"
                        " AND superseded_at IS NULL"
                    ),
                    {"o": user.id},
                )
            )
            mentions = await uow.execute(
                text(
                    "SELECT count(*) FROM edges WHERE owner_id = :o AND relation = 'MENTIONS'"
                    " AND superseded_at IS NULL"
                ),
                {"o": user.id},
            )
            mention_count = mentions.scalar_one()
            aliases = (
                await uow.execute(
                    text("SELECT aliases FROM concepts WHERE owner_id = :o AND kind = 'person'"),
                    {"o": user.id},
                )
            ).scalar_one()
    assert sorted(concepts) == [("organisation", 1), ("person", 1), ("place", 1)]
    assert sorted(float(r[0]) for r in co_occurs) == [float(N)] * 3
    assert mention_count == 3 * N
    assert set(NICKNAMES) <= set(aliases), aliases
