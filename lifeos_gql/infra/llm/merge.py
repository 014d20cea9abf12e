"""Merging the analyses of a long item's chunks into one result.

No extra "reduce" request is made (it would double the cost of every long
item): the best-scored insights of each kind are kept, up to the caps a
single item would get, and concepts seen in several parts are folded into
one with the highest salience and all aliases. If any part failed, the item
fails: a long document is never stored half-analysed.
"""

from __future__ import annotations

from collections.abc import Sequence

from lifeos_gql.infra.llm.types import (
    AnalysisResult,
    ExtractedConcept,
    ExtractedInsight,
    InsightKind,
)

_CAPS: dict[InsightKind, int] = {
    "key_insight": 3,
    "mental_model": 2,
    "summary": 1,
    "pattern": 2,
    "question": 2,
}
_MAX_CONCEPTS = 25
_MAX_ALIASES = 20


def merge_parts(ref: str, producer: str, parts: Sequence[AnalysisResult]) -> AnalysisResult:
    """One result for ``ref`` from the results of its parts, in part order."""
    for part in parts:
        if part.error is not None:
            return AnalysisResult(ref=ref, producer=producer, error=part.error)
    insights: list[ExtractedInsight] = []
    for kind, cap in _CAPS.items():
        candidates = [i for part in parts for i in part.insights if i.kind == kind]
        # Stable sort: equal confidence keeps document order.
        insights += sorted(candidates, key=lambda i: -i.confidence)[:cap]
    merged: dict[tuple[str, str], ExtractedConcept] = {}
    for part in parts:
        for concept in part.concepts:
            key = (concept.kind, concept.name.casefold())
            known = merged.get(key)
            if known is None:
                merged[key] = concept
                continue
            aliases = list(known.aliases)
            folded = {alias.casefold() for alias in aliases} | {known.name.casefold()}
            for alias in concept.aliases:
                if alias.casefold() not in folded:
                    aliases.append(alias)
                    folded.add(alias.casefold())
            merged[key] = known.model_copy(
                update={
                    "salience": max(known.salience, concept.salience),
                    "aliases": aliases[:_MAX_ALIASES],
                }
            )
    concepts = sorted(merged.values(), key=lambda c: -c.salience)[:_MAX_CONCEPTS]
    return AnalysisResult(ref=ref, producer=producer, insights=insights, concepts=concepts)
