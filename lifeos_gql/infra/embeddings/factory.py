"""Choose the embedder once, from settings, at start-up."""

from __future__ import annotations

from lifeos_gql.config import Settings
from lifeos_gql.infra.embeddings.base import Embedder


def build_embedder(settings: Settings) -> Embedder:
    """OpenAI embeddings when ``OPENAI_API_KEY`` is set, else the offline MiniLM.

    The local model loads lazily on first use; call ``load()`` on it in the
    lifespan to pay its load time (0.4–1.5 s) up front.
    """
    # Imported here so that importing the interface never loads onnxruntime or openai.
    if settings.openai_api_key:
        from lifeos_gql.infra.embeddings.openai_embedder import OpenAIEmbedder

        return OpenAIEmbedder.create(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.openai_embedding_model,
        )
    from lifeos_gql.infra.embeddings.local_minilm import LocalMiniLMEmbedder

    return LocalMiniLMEmbedder()
