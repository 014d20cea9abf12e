"""Text embeddings: an offline MiniLM by default, OpenAI when configured."""

from lifeos_gql.infra.embeddings.base import (
    EMBEDDING_DIM,
    Embedder,
    EmbeddingError,
    TransientEmbeddingError,
)
from lifeos_gql.infra.embeddings.factory import build_embedder

__all__ = [
    "EMBEDDING_DIM",
    "Embedder",
    "EmbeddingError",
    "TransientEmbeddingError",
    "build_embedder",
]
