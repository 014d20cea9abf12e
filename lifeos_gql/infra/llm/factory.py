"""Choosing the analyser once, from settings, at start-up."""

from __future__ import annotations

from lifeos_gql.config import Settings
from lifeos_gql.infra.llm.local import LocalAnalyser
from lifeos_gql.infra.llm.types import Analyser

# The SDK retries 429/5xx/timeouts itself; keep that short so a rate-limited call
# soon surfaces as TransientAnalysisError and the job layer backs off instead.
SDK_MAX_RETRIES = 2
REQUEST_TIMEOUT_SECONDS = 60.0


def build_analyser(settings: Settings) -> Analyser:
    """OpenAI (or a compatible server) when ``OPENAI_API_KEY`` is set, else the local analyser."""
    if not settings.openai_api_key:
        return LocalAnalyser()
    # Imported here: the SDK costs ~0.6 s to import, which every start-up of
    # the server would pay even when no key is configured.
    import openai

    from lifeos_gql.infra.llm.openai_analyser import OpenAIAnalyser

    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        max_retries=SDK_MAX_RETRIES,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    return OpenAIAnalyser(client, settings.openai_model)
