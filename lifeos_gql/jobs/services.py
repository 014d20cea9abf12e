"""What analysis jobs need, made once per worker process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from lifeos_gql.config import Settings
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.infra.embeddings.base import Embedder
from lifeos_gql.infra.embeddings.factory import build_embedder
from lifeos_gql.infra.llm.factory import build_analyser
from lifeos_gql.infra.llm.types import Analyser
from lifeos_gql.infra.vectors.base import VectorIndex
from lifeos_gql.infra.vectors.factory import build_vector_index


class JobsRuntime(Protocol):
    """The part of ``CoreRuntime`` (commands) or ``Runtime`` (the app) jobs use."""

    @property
    def settings(self) -> Settings: ...

    @property
    def database_url(self) -> str: ...

    @property
    def system_db(self) -> Database: ...

    @property
    def capture_crypto(self) -> CaptureCrypto: ...


@dataclass(frozen=True, slots=True)
class AnalysisServices:
    """Store, crypto and the three analysis backends chosen from settings."""

    settings: Settings
    db: Database
    crypto: CaptureCrypto
    analyser: Analyser
    embedder: Embedder
    vectors: VectorIndex


@asynccontextmanager
async def open_analysis_services(runtime: JobsRuntime) -> AsyncIterator[AnalysisServices]:
    """Build the analyser, embedder and vector index; close them on exit."""
    settings = runtime.settings
    embedder = build_embedder(settings)
    load = getattr(embedder, "load", None)
    if callable(load):
        # The offline model loads in about a second: pay it before the first job.
        await asyncio.to_thread(load)
    # Jobs act for whichever owner their captures belong to: privileged handle.
    vectors = build_vector_index(settings, runtime.system_db, producer=embedder.name)
    try:
        yield AnalysisServices(
            settings=settings,
            db=runtime.system_db,
            crypto=runtime.capture_crypto,
            analyser=build_analyser(settings),
            embedder=embedder,
            vectors=vectors,
        )
    finally:
        await vectors.aclose()
        await embedder.aclose()
