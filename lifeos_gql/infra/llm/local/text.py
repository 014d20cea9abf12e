"""Sentences, tokens and English function words for the local analyser.

Rule-based on purpose: a regex splitter is fast, deterministic and needs no
model. It knows common abbreviations and initials, so "Dr. Patel met J. Smith"
stays one sentence; it will still split after an unknown abbreviation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def word_set(words: str) -> frozenset[str]:
    """A set of the whitespace-separated words in ``words`` (keeps word lists compact)."""
    return frozenset(words.split())


_ABBREVIATIONS = word_set(
    """
    approx apr aug capt co col corp dec dept dr e.g etc feb fig ft gen hon i.e inc jan jr
    jul jun llc lt ltd mar mr mrs ms mt nov oct plc pp prof rev sep sept sgt sr st univ vol
    vs
    """
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*\n|\n(?=\s*[-*•#])|(?<=[。！？])")
_LAST_WORD = re.compile(r"(\S+)\s*$")
_TOKEN = re.compile(r"\w+(?:[-'’.&]\w+)*", re.UNICODE)

STOPWORDS = word_set(
    """
    a able about above across actually after afterwards again against agree agreed all
    almost alone along already also although always am among amongst an and another any
    anyhow anyone anything anyway anywhere are aren't around as at back basically be beat
    beats became because become becomes becoming been before beforehand began begin behind
    being below beside besides best better between beyond big bit both but by came can can't
    cannot cheers come comes could couldn't day days dear definitely depend depended depends
    did didn't different discuss discussed do does doesn't doing don't done down due during
    each either else elsewhere enough etc even ever every everyone everything everywhere
    except feel felt few find finish finished first for former formerly found from further
    gave get gets getting give given gives go goes going gone good got great had has have
    having he hello help helped helps hence her here hereafter hereby herein hers herself
    hey hi high him himself his how however i i'd i'll i'm i've if in indeed into is isn't
    it it's its itself just keep kept kind knew know known knows last latter least left less
    let let's like little lol long look looked looks lot lots low made main major make makes
    making many may maybe me meanwhile meet meeting's meets met might mine month months more
    moreover most mostly much must my myself namely need needed needs neither never
    nevertheless new next no nobody none noone nor not nothing now nowhere of off often ok
    okay old on once one only onto or other others otherwise our ours ourselves out over own
    per perhaps please probably put puts quite rather re real really regards right said same
    saw say saying says second see seeing seem seemed seeming seems seen several she short
    should shouldn't since sincerely small so some somehow someone something sometime
    sometimes somewhere sort start started still such sure take taken takes tell tells than
    thank thanks that that's the their theirs them themselves then thence there there's
    thereafter thereby therefore therein thereupon these they they're thing things think
    thinks this those though thought through throughout thru thus time times to today
    together told tomorrow tonight too took toward towards tried true try trying under until
    up upon us use used uses using various very via want wanted wants was wasn't way ways we
    we're week weeks well went were weren't what whatever when whence whenever where
    whereafter whereas whereby wherein whereupon wherever whether which while whither who
    whoever whole whom whose why will with within without won't worse worst would wouldn't
    yeah year years yes yesterday yet you you're your yours yourself yourselves
    """
)


@dataclass(frozen=True, slots=True)
class Token:
    """A word with its character offset in the sentence it came from."""

    text: str
    start: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping abbreviations and initials together."""
    pieces: list[str] = []
    pending = ""
    for raw in _SENTENCE_END.split(text):
        piece = raw.strip()
        if not piece:
            continue
        pending = f"{pending} {piece}" if pending else piece
        if not _ends_with_abbreviation(piece):
            pieces.append(pending)
            pending = ""
    if pending:
        pieces.append(pending)
    return [" ".join(piece.split()) for piece in pieces]


def _ends_with_abbreviation(piece: str) -> bool:
    if not piece.endswith("."):
        return False
    match = _LAST_WORD.search(piece)
    if match is None:
        return False
    word = match.group(1).rstrip(".").lower()
    # A lone initial ("J.") or a known abbreviation ("Dr.", "e.g.") does not end a sentence.
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def tokenize(sentence: str) -> list[Token]:
    """Words of ``sentence`` (letters, digits, inner hyphens/apostrophes), with offsets."""
    return [Token(match.group().rstrip("."), match.start()) for match in _TOKEN.finditer(sentence)]


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light, deterministic plural fold so "rewards" and "reward" count together."""
    lower = word.lower()
    if lower.endswith("'s") or lower.endswith("’s"):
        lower = lower[:-2]
    if len(lower) > 4 and lower.endswith("ies"):
        return lower[:-3] + "y"
    if len(lower) > 3 and lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return lower[:-1]
    return lower


def english_share(tokens: list[str]) -> float:
    """Share of ``tokens`` that are English function words (about 0.4 for English prose)."""
    if not tokens:
        return 0.0
    return sum(1 for token in tokens if token.lower() in STOPWORDS) / len(tokens)
