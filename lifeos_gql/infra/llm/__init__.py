"""Analysers: captured items in, insights, concepts and associative relations out.

``build_analyser(settings)`` picks :class:`OpenAIAnalyser` when an OpenAI key
is configured and the offline :class:`LocalAnalyser` otherwise; both follow
the :class:`Analyser` protocol in :mod:`.types`.
"""

from lifeos_gql.infra.llm.types import (
    Analyser,
    AnalysisFailure,
    AnalysisItem,
    AnalysisResult,
    ExtractedConcept,
    ExtractedInsight,
    ExtractedRelation,
    TransientAnalysisError,
)

__all__ = [
    "Analyser",
    "AnalysisFailure",
    "AnalysisItem",
    "AnalysisResult",
    "ExtractedConcept",
    "ExtractedInsight",
    "ExtractedRelation",
    "TransientAnalysisError",
]
