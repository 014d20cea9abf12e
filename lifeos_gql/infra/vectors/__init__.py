"""Vector index: interface, Pinecone and in-memory implementations."""

from lifeos_gql.infra.vectors.base import (
    NODE_TYPES,
    MatchMetadata,
    NodeType,
    TransientVectorError,
    VectorIndex,
    VectorIndexError,
    VectorMatch,
    VectorQuery,
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
    "VectorQuery",
    "VectorRecord",
]
