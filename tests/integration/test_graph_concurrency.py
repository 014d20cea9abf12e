"""Analyses of one owner's captures running at once build the same graph as in turn.

Concept resolution locks names and nodes, not the whole owner; this checks
that concurrent analyses mentioning the same people and places still make
one node each and exact co-occurrence counts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from lifeos_gql.domains.graph import service as graph
from lifeos_gql.infra.llm.types import AnalysisResult, ExtractedConcept
from tests.conftest import make_settings
from tests.integration.test_graph_building import open_world

N = 12
NICKNAMES = [f"Janie {chr(ord('A') + i)}" for i in range(N)]


# split: concepts resolved in a transaction of their own first, as the analysis job does.
@pytest.mark.parametrize("split", [False, True])
async def test_concurrent_analyses_share_nodes_and_count_exactly(
    db_url: str, data_dir: Path, split: bool
) -> None:
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir)
    async with open_world(settings, captures=N, pool_size=N) as w:
        rt, records = w.rt, w.captures
        user_id = w.owner.user_id
        assert user_id is not None and len(records) == N

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
            concepts = None
            if split:
                async with rt.db.transaction(user_id) as uow:
                    concepts = await graph.resolve_capture_concepts(
                        uow=uow, owner_id=user_id, result=result
                    )
            async with rt.db.transaction(user_id) as uow:
                await graph.apply_analysis(
                    uow=uow,
                    owner_id=user_id,
                    capture=record,
                    result=result,
                    related=[],
                    crypto=rt.capture_crypto,
                    concepts=concepts,
                )

        await asyncio.gather(*(analyse(i) for i in range(N)))

        async with rt.system_db.transaction() as uow:
            concepts = list(
                await uow.execute(
                    text("SELECT kind, count(*) FROM concepts WHERE owner_id = :o GROUP BY kind"),
                    {"o": user_id},
                )
            )
            co_occurs = list(
                await uow.execute(
                    text(
                        "SELECT weight FROM edges WHERE owner_id = :o AND relation = 'CO_OCCURS'"
                        " AND superseded_at IS NULL"
                    ),
                    {"o": user_id},
                )
            )
            mentions = await uow.execute(
                text(
                    "SELECT count(*) FROM edges WHERE owner_id = :o AND relation = 'MENTIONS'"
                    " AND superseded_at IS NULL"
                ),
                {"o": user_id},
            )
            mention_count = mentions.scalar_one()
            aliases = (
                await uow.execute(
                    text("SELECT aliases FROM concepts WHERE owner_id = :o AND kind = 'person'"),
                    {"o": user_id},
                )
            ).scalar_one()
    assert sorted(concepts) == [("organisation", 1), ("person", 1), ("place", 1)]
    assert sorted(float(r[0]) for r in co_occurs) == [float(N)] * 3
    assert mention_count == 3 * N
    assert set(NICKNAMES) <= set(aliases), aliases
