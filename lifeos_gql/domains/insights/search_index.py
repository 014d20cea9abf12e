"""Full-text vectors of insights (``insights.search``), written when analysis runs.

Insight text is encrypted at rest; the analysis job passes the plaintext.
Same configuration as captures (see ``captures.search_index``), and the same
privacy caveat: the vector keeps the words in clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.search_index import MAX_INDEXED_CHARS, SEARCH_CONFIG

_UPDATE = text(
    f"""
    UPDATE insights AS i SET search = to_tsvector('{SEARCH_CONFIG}', t.body)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:bodies AS text[])) AS t(id, body)
    WHERE i.id = t.id AND i.search IS NULL
    """
)


async def index_insights(uow: UnitOfWork, items: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Set the full-text vector of insights that have none yet (their text never changes)."""
    if not items:
        return
    await uow.execute(
        _UPDATE,
        {
            "ids": [insight_id for insight_id, _ in items],
            "bodies": [body[:MAX_INDEXED_CHARS] for _, body in items],
        },
    )
