"""The offline, deterministic analyser (see :mod:`.analyser`)."""

from lifeos_gql.infra.llm.local.analyser import PRODUCER, LocalAnalyser

__all__ = ["PRODUCER", "LocalAnalyser"]
