"""The default analyser: deterministic, offline, fast, no model weights.

It extracts keyphrases (topics), named entities (people, places,
organisations, works, events), absolute dates, extractive key insights, a
summary and open questions, and links items of the same call that share
concepts. It never produces ``mental_model`` insights: naming the model of
thinking behind a text needs a language model, and a rule-based guess would
be noise in the user's graph.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from lifeos_gql.infra.llm.local.dates import find_dates
from lifeos_gql.infra.llm.local.entities import Entity, extract_entities
from lifeos_gql.infra.llm.local.insights import pick_insights
from lifeos_gql.infra.llm.local.keyphrases import Keyphrase, extract_keyphrases
from lifeos_gql.infra.llm.local.linking import link_items
from lifeos_gql.infra.llm.local.text import Token, english_share, split_sentences, tokenize
from lifeos_gql.infra.llm.sanitise import MAX_ANALYSED_CHARS, UnsupportedContent, sanitise
from lifeos_gql.infra.llm.types import (
    AnalysisItem,
    AnalysisResult,
    ExtractedConcept,
    ExtractedInsight,
)

log = logging.getLogger(__name__)

PRODUCER = "local-analyser/1"
_MAX_ENTITIES = 15
_MAX_DATES = 5
_MAX_TOPICS = 6
_MIN_TOPIC_SCORE = 0.25
_MAX_ALIASES = 10

Sentences = list[tuple[str, list[Token]]]


class LocalAnalyser:
    """Rule-based analyser used when no LLM is configured (see the module docstring)."""

    def __init__(self, *, max_chars: int = MAX_ANALYSED_CHARS) -> None:
        self._max_chars = max_chars

    @property
    def producer(self) -> str:
        """Name and version stored with everything this analyser produces."""
        return PRODUCER

    async def analyse(self, items: Sequence[AnalysisItem]) -> list[AnalysisResult]:
        """Analyse ``items`` off the event loop; one result per item, in order."""
        return await asyncio.to_thread(self.analyse_sync, items)

    def analyse_sync(self, items: Sequence[AnalysisItem]) -> list[AnalysisResult]:
        """The same as :meth:`analyse`, for scripts and benchmarks."""
        refs = [item.ref for item in items]
        if len(set(refs)) != len(refs):
            raise ValueError("refs must be unique within one analyse() call")
        results = [self._analyse_one(item) for item in items]
        relations = link_items(refs, [result.concepts for result in results])
        return [
            result.model_copy(update={"relations": relations.get(result.ref, [])})
            if result.error is None and result.ref in relations
            else result
            for result in results
        ]

    def _analyse_one(self, item: AnalysisItem) -> AnalysisResult:
        try:
            clean = sanitise(item.content, self._max_chars)
        except UnsupportedContent as exc:
            return AnalysisResult.failed(
                item.ref, PRODUCER, "UNSUPPORTED_CONTENT", str(exc), transient=False
            )
        try:
            return self._extract(item, clean.text, clean.truncated)
        except Exception:
            # A rule tripping on odd input must cost one item, not the batch.
            log.exception("local analysis failed for %s", item.ref)
            return AnalysisResult.failed(
                item.ref, PRODUCER, "ANALYSER_ERROR", "local analysis failed", transient=False
            )

    def _extract(self, item: AnalysisItem, text: str, truncated: bool) -> AnalysisResult:
        body = [(sentence, tokenize(sentence)) for sentence in split_sentences(text)]
        title = _clean_title(item.title)
        heading = [(title, tokenize(title))] if title else []
        words = [token.text for _, tokens in body for token in tokens]
        english = english_share(words) >= 0.12 or (len(words) < 12 and text.isascii())
        phrases = extract_keyphrases(heading + body, limit=12)
        entity_sentences = body + heading if title and not _title_case(title) else body
        entities = extract_entities(entity_sentences, english=english)[:_MAX_ENTITIES]
        concepts = [_entity_concept(entity, len(body), title) for entity in entities]
        concepts += _date_concepts(f"{title}\n{text}" if title else text, item.occurred_at)
        if english:
            concepts += _topic_concepts(phrases, concepts)
        insights = [
            ExtractedInsight(kind=pick.kind, text=pick.text, confidence=pick.confidence)
            for pick in pick_insights(body, phrases, english=english)
        ]
        return AnalysisResult(
            ref=item.ref,
            insights=insights,
            concepts=concepts,
            producer=PRODUCER,
            analysed_chars=len(text),
            truncated=truncated,
        )


def _clean_title(title: str | None) -> str:
    if not title:
        return ""
    try:
        return sanitise(title, 500).text.replace("\n", " ")
    except UnsupportedContent:
        return ""


def _title_case(title: str) -> bool:
    # "Weekly Planning Notes" capitalises every word: no signal for names there.
    words = [word for word in title.split() if word[:1].isalpha()]
    return bool(words) and sum(word[:1].isupper() for word in words) / len(words) > 0.6


def _entity_concept(entity: Entity, sentence_count: int, title: str) -> ExtractedConcept:
    earliness = 1 - entity.first_sentence / max(1, sentence_count)
    in_title = entity.name.casefold() in title.casefold()
    salience = 0.2 + 0.12 * min(entity.mentions - 1, 4) + 0.2 * earliness + 0.15 * in_title
    aliases = sorted(entity.aliases, key=str.casefold)[:_MAX_ALIASES]
    return ExtractedConcept(
        name=entity.name[:200],
        kind=entity.kind,
        salience=round(min(1.0, salience), 3),
        aliases=[alias[:200] for alias in aliases],
    )


def _date_concepts(text: str, occurred_at: datetime | None) -> list[ExtractedConcept]:
    seen: dict[str, list[str]] = {}
    for found in find_dates(text, occurred_at):
        surfaces = seen.setdefault(found.iso, [])
        if found.surface != found.iso and found.surface not in surfaces:
            surfaces.append(found.surface)
    return [
        ExtractedConcept(
            name=iso,
            kind="date",
            salience=round(max(0.2, 0.5 - 0.05 * position), 3),
            aliases=surfaces[:_MAX_ALIASES],
        )
        for position, (iso, surfaces) in enumerate(list(seen.items())[:_MAX_DATES])
    ]


def _topic_concepts(
    phrases: list[Keyphrase], named: list[ExtractedConcept]
) -> list[ExtractedConcept]:
    taken = [
        frozenset(name.casefold().split())
        for concept in named
        for name in (concept.name, *concept.aliases)
    ]
    candidates: list[tuple[Keyphrase, frozenset[str]]] = []
    for phrase in phrases:
        words = frozenset(phrase.text.casefold().split())
        # A phrase made of a name's words (or containing one) is that entity, not a topic.
        if not any(words <= name or name <= words for name in taken):
            candidates.append((phrase, words))
            taken.append(words)
    if not candidates:
        return []
    # Names rank high in PositionRank; score topics against the best topic, not the best name.
    top = candidates[0][0].score
    topics: list[ExtractedConcept] = []
    for phrase, _ in candidates:
        relative = phrase.score / top
        if relative < _MIN_TOPIC_SCORE:
            break
        topics.append(
            ExtractedConcept(
                name=phrase.text[:200],
                kind="topic",
                salience=round(0.2 + 0.6 * relative, 3),
            )
        )
        if len(topics) == _MAX_TOPICS:
            break
    return topics
