"""Vector index: interface, Pinecone and in-memory implementations."""

from lifeos_gql.infra.vectors.base import (
    NODE_TYPES,
    MatchMetadata,
    NodeType,
    TransientVectorError,
    VectorIndex,
    VectorIndexError,
    VectorMatch,
    VectorRecord,
)

__all__ = [
    "NODE_TYPES",
    "MatchMetadata",
    "NodeType",
    "TransientVectorError",
    "VectorIndex",
    "VectorIndexError",
    "VectorMatch",
    "VectorRecord",
]
