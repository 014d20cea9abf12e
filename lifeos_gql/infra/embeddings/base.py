"""The embeddings interface: text in, L2-normalised vectors out.

Two implementations sit behind :class:`Embedder`: a local all-MiniLM-L6-v2
(int8 ONNX, shipped inside a PyPI package, the offline default) and OpenAI's
``text-embedding-3-small`` (production). Both produce :data:`EMBEDDING_DIM`
(384) dimensions so their vectors fit the same pgvector column, but vectors of
different producers are **not** comparable: store :attr:`Embedder.name` with
every vector and only compare vectors that share it.

Vectors are returned as ``list[list[float]]`` rather than a numpy array: that
is what psycopg/pgvector, Pinecone and JSON all take, and it keeps numpy out
of the interface. Every vector has unit L2 norm (never all-zero), so cosine
similarity is the dot product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

#: Dimension shared by every embedder, so the pgvector column has one width.
EMBEDDING_DIM: Final = 384


class EmbeddingError(Exception):
    """The embedder refused or failed a call; retrying the same call will not help."""


class TransientEmbeddingError(EmbeddingError):
    """Rate limit, server error, timeout or lost connection: the call may succeed later."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors, one per text, in input order."""

    @property
    def name(self) -> str:
        """Model id and version, recorded as the producer of every vector."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector returned."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts``; an empty sequence gives an empty list.

        Empty strings and texts longer than the model's window are accepted
        (long texts are truncated: the vector describes their beginning).
        Raises :class:`TransientEmbeddingError` when a retry later may help,
        :class:`EmbeddingError` otherwise.
        """
        ...

    async def aclose(self) -> None:
        """Release threads, sessions or HTTP connections (call in the lifespan's exit)."""
        ...
