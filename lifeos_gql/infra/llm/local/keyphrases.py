"""Keyphrase extraction: RAKE-style candidates ranked by PositionRank.

Candidates are runs of up to three content words between function words and
punctuation (as in RAKE). Words are ranked by a PageRank over their
co-occurrence graph, biased towards words that appear early (PositionRank,
Florescu & Caragea 2017, which does well on short texts such as notes and
mails); a phrase scores the sum of its words' ranks, scaled down with length
so long phrases do not win by size alone.

Why not the ``yake`` package: measured here it takes ~15 ms per 100-word
capture (30 s of the 60 s budget for 2,000 captures on one core), pulls
networkx, numpy, jellyfish, tabulate and click for this one feature, and on
short captures returns phrases spanning two names ("Chen from Acme"). This
module takes well under 1 ms per capture.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lifeos_gql.infra.llm.local.dates import MONTH_WORDS, WEEKDAY_WORDS
from lifeos_gql.infra.llm.local.text import STOPWORDS, Token, stem

MAX_PHRASE_WORDS = 3
_WINDOW = 3
_DAMPING = 0.85
_ITERATIONS = 30
_TOLERANCE = 1e-5
_MAX_WORD_CHARS = 40


@dataclass(frozen=True, slots=True)
class Keyphrase:
    """A ranked phrase: display text, its stem key and a score in (0, 1]."""

    text: str
    key: tuple[str, ...]
    score: float


def _is_content(token: Token) -> bool:
    word = token.lower
    return (
        word not in STOPWORDS
        and word not in WEEKDAY_WORDS
        and word not in MONTH_WORDS
        and len(word) > 1
        and len(word) <= _MAX_WORD_CHARS
        and not word.replace(".", "").replace(",", "").isdigit()
        and any(char.isalpha() for char in word)
    )


def _runs(sentence: str, tokens: list[Token]) -> list[list[Token]]:
    """Maximal runs of adjacent content words not broken by punctuation."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    previous_end = 0
    previous_named = False
    for position, token in enumerate(tokens):
        gap = sentence[previous_end : token.start]
        # Names and common words do not mix: "reading | Deep Work", "Stanford | dataset".
        named = position > 0 and token.text[:1].isupper()
        broken = any(not char.isspace() for char in gap) or (
            position > 1 and named != previous_named
        )
        previous_named = named
        if not _is_content(token) or broken:
            if current:
                runs.append(current)
            current = [token] if _is_content(token) else []
        else:
            current.append(token)
        previous_end = token.start + len(token.text)
    if current:
        runs.append(current)
    return runs


def _rank_words(runs: list[list[Token]]) -> dict[str, float]:
    """Position-biased PageRank over word co-occurrence inside a window."""
    sequence = [stem(token.text) for run in runs for token in run]
    if not sequence:
        return {}
    bias: dict[str, float] = defaultdict(float)
    for offset, word in enumerate(sequence, start=1):
        bias[word] += 1.0 / offset
    neighbours: dict[str, dict[str, float]] = {word: defaultdict(float) for word in bias}
    for index, word in enumerate(sequence):
        for other in sequence[index + 1 : index + _WINDOW]:
            if other != word:
                neighbours[word][other] += 1.0
                neighbours[other][word] += 1.0
    words = sorted(bias)  # fixed order: float sums must not depend on set order
    position = {word: index for index, word in enumerate(words)}
    total_bias = sum(bias.values())
    prior = [bias[word] / total_bias for word in words]
    # One flat edge list (target, source, share of the source's rank): the cheapest
    # loop in pure Python for graphs of a few dozen words.
    edges: list[tuple[int, int, float]] = []
    for word in words:
        links = neighbours[word]
        strength = sum(links.values())
        source = position[word]
        edges.extend(
            (position[other], source, weight / strength) for other, weight in sorted(links.items())
        )
    base = [(1 - _DAMPING) * value for value in prior]
    rank = list(prior)
    for _ in range(_ITERATIONS):
        updated = list(base)
        for target, source, share in edges:
            updated[target] += _DAMPING * rank[source] * share
        delta = max(abs(a - b) for a, b in zip(updated, rank, strict=True))
        rank = updated
        if delta < _TOLERANCE:
            break
    return dict(zip(words, rank, strict=True))


def extract_keyphrases(
    sentences: list[tuple[str, list[Token]]], limit: int = 10
) -> list[Keyphrase]:
    """The ``limit`` best phrases of a document given as (sentence, tokens) pairs."""
    runs = [run for sentence, tokens in sentences for run in _runs(sentence, tokens)]
    ranks = _rank_words(runs)
    if not ranks:
        return []
    best: dict[tuple[str, ...], tuple[float, str]] = {}
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for run in runs:
        for size in range(1, MAX_PHRASE_WORDS + 1):
            for start in range(len(run) - size + 1):
                window = run[start : start + size]
                key = tuple(stem(token.text) for token in window)
                counts[key] += 1
                score = sum(ranks[word] for word in key) / size**0.5
                text = " ".join(token.text for token in window)
                if key not in best or score > best[key][0]:
                    best[key] = (score, text)
    # Repetition is evidence too: a phrase seen twice beats one seen once.
    scored = sorted(
        ((score * (1 + 0.3 * (counts[key] - 1)), key, text) for key, (score, text) in best.items()),
        key=lambda entry: (-entry[0], entry[1]),
    )
    chosen: list[tuple[float, tuple[str, ...], str]] = []
    for score, key, text in scored:
        words = set(key)
        # Skip phrases that only repeat words of a better-ranked phrase.
        if any(words <= set(other) or set(other) <= words for _, other, _ in chosen):
            continue
        chosen.append((score, key, text))
        if len(chosen) == limit:
            break
    if not chosen:
        return []
    top = chosen[0][0]
    return [Keyphrase(_display(text), key, score / top) for score, key, text in chosen]


def _display(text: str) -> str:
    # Keep the case of names ("Acme Robotics"), lower-case ordinary words.
    words = text.split()
    if all(word[:1].isupper() for word in words):
        return text
    return " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)
