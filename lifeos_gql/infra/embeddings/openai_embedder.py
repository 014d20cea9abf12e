"""OpenAI embeddings (``text-embedding-3-small``), shortened to 384 dimensions.

OpenAI's ``dimensions`` parameter shortens text-embedding-3 vectors natively,
so they fit the same pgvector column as the local MiniLM ones (the two are
still not comparable with each other: see :mod:`.base`). Inputs are sent in
batches of at most 256 texts with a bounded number of requests in flight;
429, 5xx, timeouts and dropped connections are retried by the SDK itself
(``max_retries``), and whatever still fails is mapped onto
:class:`~.base.TransientEmbeddingError` or :class:`~.base.EmbeddingError`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Final

import openai
from openai import AsyncOpenAI

from lifeos_gql.infra.embeddings.base import (
    EMBEDDING_DIM,
    EmbeddingError,
    TransientEmbeddingError,
)

MAX_BATCH_INPUTS: Final = 256
DEFAULT_CONCURRENCY: Final = 4
# The model takes at most 8,191 tokens per input and 300,000 per request.
# Without a tokenizer for it, cap by characters at a conservative 2 chars per
# token: ~16k chars per input (long texts keep their beginning) and ~500k per
# request (a request that would exceed it is split even under 256 inputs).
MAX_INPUT_CHARS: Final = 16_000
MAX_REQUEST_CHARS: Final = 500_000
# The API rejects empty strings; a single space embeds as "nothing said".
_EMPTY_STAND_IN: Final = " "


def plan_batches(
    texts: Sequence[str],
    max_inputs: int = MAX_BATCH_INPUTS,
    max_chars: int = MAX_REQUEST_CHARS,
) -> list[list[int]]:
    """Split input positions into request batches bounded by count and by characters."""
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, text in enumerate(texts):
        length = len(text)
        if current and (len(current) == max_inputs or size + length > max_chars):
            batches.append(current)
            current, size = [], 0
        current.append(index)
        size += length
    if current:
        batches.append(current)
    return batches


class OpenAIEmbedder:
    """Embeds through the OpenAI API (or any compatible server at ``base_url``)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str = "text-embedding-3-small",
        dim: int = EMBEDDING_DIM,
        max_batch_inputs: int = MAX_BATCH_INPUTS,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if not 1 <= max_batch_inputs <= 2048 or max_concurrency < 1 or dim < 1:
            raise ValueError("need 1 <= max_batch_inputs <= 2048, max_concurrency >= 1, dim >= 1")
        self.client = client
        self.model = model
        self.dim = dim
        self.name = f"openai:{model}@{dim}"
        self.max_batch_inputs = max_batch_inputs
        self._limit = asyncio.Semaphore(max_concurrency)

    @classmethod
    def create(
        cls,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = "text-embedding-3-small",
        max_retries: int = 3,
        timeout: float = 60.0,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> OpenAIEmbedder:
        """An embedder with its own ``AsyncOpenAI`` client (closed by :meth:`aclose`)."""
        client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
        return cls(client, model=model, max_concurrency=max_concurrency)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts``; see :class:`~.base.Embedder`."""
        prepared = [text[:MAX_INPUT_CHARS] or _EMPTY_STAND_IN for text in texts]
        batches = plan_batches(prepared, self.max_batch_inputs)
        results = await asyncio.gather(
            *(self._embed_batch([prepared[i] for i in batch]) for batch in batches)
        )
        out: list[list[float]] = [[] for _ in texts]
        for batch, vectors in zip(batches, results, strict=True):
            for index, vector in zip(batch, vectors, strict=True):
                out[index] = vector
        return out

    async def _embed_batch(self, inputs: list[str]) -> list[list[float]]:
        async with self._limit:
            try:
                response = await self.client.embeddings.create(
                    model=self.model, input=inputs, dimensions=self.dim
                )
            except (openai.APIConnectionError, openai.RateLimitError) as exc:
                # APITimeoutError is an APIConnectionError.
                raise TransientEmbeddingError(f"OpenAI embeddings: {exc}") from exc
            except openai.APIStatusError as exc:
                if exc.status_code >= 500 or exc.status_code in (408, 409):
                    raise TransientEmbeddingError(f"OpenAI embeddings: {exc}") from exc
                raise EmbeddingError(f"OpenAI embeddings: {exc}") from exc
        by_index = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in by_index] != list(range(len(inputs))):
            raise EmbeddingError(
                f"OpenAI embeddings: expected {len(inputs)} vectors, got {len(by_index)}"
            )
        return [self._unit(item.embedding) for item in by_index]

    def _unit(self, vector: Sequence[float]) -> list[float]:
        if len(vector) != self.dim:
            raise EmbeddingError(f"OpenAI embeddings: expected {self.dim} dims, got {len(vector)}")
        # Shortened text-embedding-3 vectors come normalised; renormalising
        # makes the unit-length contract hold for any compatible server too.
        norm = math.sqrt(math.fsum(x * x for x in vector))
        if norm == 0.0 or not math.isfinite(norm):
            raise EmbeddingError("OpenAI embeddings: got a zero or non-finite vector")
        return [float(x) / norm for x in vector]

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.close()
