"""The ``lifeos.build_export`` task: build a user's GDPR export archive.

Deferred by ``exportMyData`` in the transaction that creates the export row
(see :mod:`lifeos_gql.domains.privacy.export`). Not retried: a failed build
marks the export ``FAILED`` and the user asks again.
"""

from __future__ import annotations

import uuid
from typing import Any

import procrastinate
from procrastinate import JobContext

from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.jobs.services import AnalysisServices


def register_export_task(app: procrastinate.App, services_key: str) -> None:
    """Add ``lifeos.build_export`` to ``app``; its worker context holds the services."""

    @app.task(name=privacy.TASK_NAME, queue=privacy.QUEUE, pass_context=True)
    async def build_export(context: JobContext, export_id: str) -> dict[str, Any]:
        """Build the archive of one export."""
        services: AnalysisServices = context.additional_context[services_key]
        outcome = await privacy.build_export(services.db, services.crypto, uuid.UUID(export_id))
        return {"outcome": outcome}
