"""Analyses of one owner's captures running at once build the same graph as in turn.

Concept resolution locks names and nodes, not the whole owner, and skips
the locks for names already known exactly; this checks that concurrent
analyses mentioning the same people and places still make one node each,
keep every alias and count co-occurrences exactly, whether each capture is
written alone or, as the analysis job does, in batches.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.building import CaptureAnalysis
from lifeos_gql.infra.llm.types import AnalysisResult, ExtractedConcept
from tests.conftest import make_settings
from tests.integration.test_graph_building import open_world

N = 12
NICKNAMES = [f"Janie {chr(ord('A') + i)}" for i in range(N)]


def analysis_of(records: list[CaptureRecord], index: int) -> AnalysisResult:
    # Half name the person with a title: the same node either way.
    person = "Dr. Jane Smith" if index % 2 else "Jane Smith"
    return AnalysisResult(
        ref=str(records[index].id),
        producer="test-analyser/1",
        concepts=[
            # Each analysis also learns a nickname of hers: none may be lost.
            ExtractedConcept(name=person, kind="person", salience=0.9, aliases=[NICKNAMES[index]]),
            ExtractedConcept(name="Acme Corporation", kind="organisation", salience=0.7),
            ExtractedConcept(name="Berlin", kind="place", salience=0.5),
        ],
    )


# split: concepts resolved in a transaction of their own first; batch: the
# analysis job's way, several captures resolved together, then written together.
@pytest.mark.parametrize("mode", ["inline", "split", "batch"])
async def test_concurrent_analyses_share_nodes_and_count_exactly(
    db_url: str, data_dir: Path, mode: str
) -> None:
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir)
    async with open_world(settings, captures=N, pool_size=N) as w:
        rt, records = w.rt, w.captures
        user_id = w.owner.user_id
        assert user_id is not None and len(records) == N

        async def analyse_batch(indexes: list[int]) -> None:
            results = [analysis_of(records, i) for i in indexes]
            async with rt.db.transaction(user_id) as uow:
                resolved = await graph.resolve_batch_concepts(
                    uow=uow, owner_id=user_id, results=results
                )
            async with rt.db.transaction(user_id) as uow:
                written = await graph.apply_analyses(
                    uow=uow,
                    owner_id=user_id,
                    analyses=[
                        CaptureAnalysis(records[i], r, (), c)
                        for i, r, c in zip(indexes, results, resolved, strict=True)
                    ],
                    crypto=rt.capture_crypto,
                )
                await graph.settle_analyses(uow=uow, written=written)

        async def analyse(index: int) -> None:
            record = records[index]
            result = analysis_of(records, index)
            split = mode == "split"
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

        if mode == "batch":
            # Interleaved batches: each shares every concept with the others.
            # Then all again: every name is known by now (no locks taken), and
            # the same analysis changes nothing.
            for _ in range(2):
                await asyncio.gather(*(analyse_batch(list(range(b, N, 4))) for b in range(4)))
        else:
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
