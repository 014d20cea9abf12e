"""Fill the full-text columns when a capture's analysis is stored.

Called by the analysis job in the same unit of work as ``apply_analysis``,
so the vectors commit with the graph they describe.
"""

from __future__ import annotations

import uuid

from lifeos_gql.core.actor import Actor
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.search_index import index_capture
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.search_index import index_insights


async def index_analysed_capture(
    *, uow: UnitOfWork, owner_id: uuid.UUID, capture: CaptureRecord, crypto: CaptureCrypto
) -> None:
    """Index the capture's text and its current insights' text for full-text search."""
    await index_capture(uow, capture_id=capture.id, title=capture.title, content=capture.content)
    owner = Actor(user_id=owner_id, via="job")
    current = await insights.insights_by_capture_ids(
        uow=uow, actor=owner, crypto=crypto, capture_ids=[capture.id]
    )
    await index_insights(
        uow, [(i.id, i.text) for i in current.get(capture.id, []) if i.text is not None]
    )
