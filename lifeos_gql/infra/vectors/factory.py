"""Choose the vector index once, from settings, at start-up."""

from __future__ import annotations

from lifeos_gql.config import Settings
from lifeos_gql.db.uow import Database
from lifeos_gql.infra.vectors.base import VectorIndex


def build_vector_index(settings: Settings, db: Database, *, producer: str) -> VectorIndex:
    """Pinecone when ``PINECONE_API_KEY`` and ``PINECONE_INDEX_HOST`` are set, else pgvector.

    ``producer`` is the embedder's name (``Embedder.name``): pgvector keys
    every vector by it so vectors of different models are never compared.
    A Pinecone index has one dimension and is meant for one embedder; point a
    new model at a new index. Call ``aclose()`` on the result in the lifespan.
    """
    # Imported here so the embedded default never imports the Pinecone SDK.
    if settings.pinecone_api_key and settings.pinecone_index_host:
        from lifeos_gql.infra.vectors.pinecone_index import PineconeIndex

        return PineconeIndex(settings.pinecone_api_key, settings.pinecone_index_host)
    from lifeos_gql.infra.vectors.pgvector_index import PgVectorIndex

    return PgVectorIndex(db, producer=producer)
