"""Extractive insights: the sentences that carry a capture's keyphrases.

Each sentence scores the keyphrase weight it covers, lightly favouring early
sentences (notes and mails lead with their point) and sentences with a
takeaway cue ("the lesson", "I realised", "we should"). The best one to three
become ``key_insight``s, the best two in reading order the ``summary``, and an
open question the writer asked becomes a ``question``. Confidence is the
sentence's share of the document's keyphrase weight, kept within 0.15–0.75:
an extractive pick is never as sure as a model's reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lifeos_gql.infra.llm.local.keyphrases import MAX_PHRASE_WORDS, Keyphrase
from lifeos_gql.infra.llm.local.text import Token, stem
from lifeos_gql.infra.llm.types import InsightKind

_MIN_WORDS = 5
_MAX_CHARS = 600
_SUMMARY_CHARS = 400
_CUE = re.compile(
    r"\b(lesson|learn(?:ed|t)|realis|realiz|insight|takeaway|key|important|the point|"
    r"should|must|need to|because|turns out|conclusion|decided|principle|rule of thumb)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Pick:
    """An insight chosen from the text."""

    kind: InsightKind
    text: str
    confidence: float


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def pick_insights(
    sentences: list[tuple[str, list[Token]]], phrases: list[Keyphrase], *, english: bool
) -> list[Pick]:
    """1–3 key insights, a summary when there are two or more sentences, and a question."""
    usable = [
        (index, sentence, tokens)
        for index, (sentence, tokens) in enumerate(sentences)
        if _substantial(sentence, tokens)
    ]
    if not usable:
        return []
    weights = {phrase.key: phrase.score for phrase in phrases}
    total = sum(weights.values()) or 1.0
    scored: list[tuple[float, float, int, str]] = []
    for index, sentence, tokens in usable:
        grams = _ngrams([stem(token.text) for token in tokens])
        covered = sum(weight for key, weight in weights.items() if key in grams)
        position = 1.0 / (1 + 0.15 * index)
        cue = 1.3 if english and _CUE.search(sentence) else 1.0
        coverage = covered / total
        score = (coverage + 0.05) * position * cue / (max(1, len(tokens)) ** 0.25)
        scored.append((score, coverage, index, sentence))
    ranked = sorted(scored, key=lambda entry: (-entry[0], entry[2]))
    picks: list[Pick] = []
    statements = [entry for entry in ranked if not entry[3].endswith("?")]
    count = 1 if len(usable) <= 3 else 2 if len(usable) <= 8 else 3
    for _, coverage, _, sentence in statements[:count]:
        confidence = _bounded(0.25 + 0.5 * coverage) if english else 0.15
        picks.append(Pick("key_insight", _clip(sentence, _MAX_CHARS), confidence))
    if len(usable) >= 2:
        chosen = sorted(ranked[:2], key=lambda entry: entry[2])
        text = _clip(" ".join(entry[3] for entry in chosen), _SUMMARY_CHARS)
        coverage = min(1.0, sum(entry[1] for entry in chosen))
        confidence = _bounded(0.2 + 0.5 * coverage) if english else 0.15
        picks.append(Pick("summary", text, confidence))
    questions = [entry for entry in ranked if entry[3].endswith("?")]
    if questions:
        _, coverage, _, sentence = questions[0]
        picks.append(Pick("question", _clip(sentence, _MAX_CHARS), _bounded(0.3 + 0.4 * coverage)))
    return picks


def _substantial(sentence: str, tokens: list[Token]) -> bool:
    if len(tokens) >= _MIN_WORDS:
        return True
    # Chinese and Japanese write without spaces: judge those by length instead.
    return " " not in sentence and len(sentence) >= 12 and not sentence.isascii()


def _ngrams(stems: list[str]) -> set[tuple[str, ...]]:
    return {
        tuple(stems[i : i + size])
        for size in range(1, MAX_PHRASE_WORDS + 1)
        for i in range(len(stems) - size + 1)
    }


def _bounded(value: float) -> float:
    return round(min(0.75, max(0.15, value)), 3)
