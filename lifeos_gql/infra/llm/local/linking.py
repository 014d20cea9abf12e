"""Associative relations between items analysed together, from shared concepts.

Two items are linked when they mention the same concept (same kind and
case-folded name or alias). Rare concepts count for more than common ones
(inverse document frequency over the call), concepts shared by more than
``_MAX_SHARED_BY`` items are ignored as too generic to link on (and to keep
the pair count bounded), and each item keeps at most ``_MAX_LINKS`` partners.
A link is symmetric; it is reported once, on the earlier item of the pair.
"""

from __future__ import annotations

import math
from collections import defaultdict

from lifeos_gql.infra.llm.types import ExtractedConcept, ExtractedRelation

_MAX_SHARED_BY = 50
_MAX_LINKS = 5
_MIN_WEIGHT = 0.2
_KIND_WEIGHT = {"person": 1.0, "organisation": 0.9, "work": 0.9, "event": 0.9, "place": 0.7}
_DEFAULT_KIND_WEIGHT = 0.5  # topics and dates say less about a specific connection


def link_items(
    refs: list[str], concepts: list[list[ExtractedConcept]]
) -> dict[str, list[ExtractedRelation]]:
    """Relations keyed by the ``from_ref`` item they belong to."""
    index: dict[tuple[str, str], set[int]] = defaultdict(set)
    labels: dict[tuple[str, str], str] = {}
    for position, item_concepts in enumerate(concepts):
        for concept in item_concepts:
            for name in (concept.name, *concept.aliases):
                key: tuple[str, str] = (concept.kind, name.casefold())
                index[key].add(position)
                labels.setdefault(key, concept.name)
    # Per pair, label -> weight: a name and its alias matching count once.
    shared: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    count = len(refs)
    for key, members in sorted(index.items()):
        if len(members) < 2 or len(members) > _MAX_SHARED_BY:
            continue
        idf = math.log(1 + count / len(members))
        weight = idf * _KIND_WEIGHT.get(key[0], _DEFAULT_KIND_WEIGHT)
        ordered = sorted(members)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                reasons = shared[(first, second)]
                label = f"{key[0]} {labels[key]}"
                reasons[label] = max(weight, reasons.get(label, 0.0))
    scored: list[tuple[float, int, int, list[str]]] = []
    for (first, second), reasons in shared.items():
        # Several distinct shared concepts are stronger evidence than one; saturate at 1.
        evidence = sorted(reasons.items(), key=lambda entry: (-entry[1], entry[0]))
        strength = 1 - math.exp(-0.6 * sum(weight for _, weight in evidence))
        if strength >= _MIN_WEIGHT:
            scored.append((strength, first, second, [label for label, _ in evidence]))
    scored.sort(key=lambda entry: (-entry[0], entry[1], entry[2]))
    degree: dict[int, int] = defaultdict(int)
    relations: dict[str, list[ExtractedRelation]] = defaultdict(list)
    for strength, first, second, labels_shared in scored:
        if degree[first] >= _MAX_LINKS or degree[second] >= _MAX_LINKS:
            continue
        degree[first] += 1
        degree[second] += 1
        relations[refs[first]].append(
            ExtractedRelation(
                from_ref=refs[first],
                to_ref=refs[second],
                relation="shares_concepts",
                evidence=("both mention " + ", ".join(labels_shared[:4]))[:500],
                weight=round(strength, 3),
            )
        )
    return relations
