"""Full-text vectors of captures (``captures.search``), written when analysis runs.

Content is encrypted at rest, so Postgres cannot compute the vector itself:
the analysis job, which holds the plaintext, hands it over here. The title
weighs more (``A``) than the body (``B``) in ``ts_rank``.

The ``simple`` configuration (no stemming, no stop words) is deliberate:
captures come in any language, and a wrong stemmer is worse than none.
Inflections and paraphrases are the vector leg's job in hybrid search.

Privacy: a tsvector keeps the capture's words in clear. Erasing a user
must delete these rows (or null ``search``); crypto-shredding the data key
alone does not make them unreadable.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

#: Text-search configuration used for indexing and for every query.
SEARCH_CONFIG: Final = "simple"
#: Postgres rejects tsvectors over 1 MB; the beginning of a huge capture is enough.
MAX_INDEXED_CHARS: Final = 200_000

_UPDATE = text(
    f"""
    UPDATE captures SET search =
        setweight(to_tsvector('{SEARCH_CONFIG}', :title), 'A')
        || setweight(to_tsvector('{SEARCH_CONFIG}', :content), 'B')
    WHERE id = :id
    """
)


async def index_capture(
    uow: UnitOfWork, *, capture_id: uuid.UUID, title: str | None, content: str | None
) -> None:
    """Set the capture's full-text vector from its plaintext title and content."""
    await uow.execute(
        _UPDATE,
        {
            "id": capture_id,
            "title": (title or "")[:MAX_INDEXED_CHARS],
            "content": (content or "")[:MAX_INDEXED_CHARS],
        },
    )
