"""Concept names: normalisation and near-duplicate matching (pure, no I/O).

Merged (same node):
- case, punctuation, whitespace, diacritics ("José Núñez" = "jose nunez");
- person titles and suffixes ("Dr. Jane Smith, PhD" = "Jane Smith") and
  "Smith, Jane" = "Jane Smith";
- person initials when they fit exactly one known person of the owner
  ("J. Smith", "Jane A. Smith", "Dr. Smith" -> "Jane Smith");
- organisation legal suffixes ("Acme Inc." = "Acme") and, for organisations
  and topics, an upper-case acronym that fits exactly one known multi-word
  name ("IBM" -> "International Business Machines").

Deliberately not merged (too often wrong about a person's own life): a bare
first name or surname without a title ("Smith", "Jane"), nicknames
("Jim"/"James"), plurals and stems, translations, and anything across
concept kinds. Ambiguous matches (two Smiths fit "J. Smith") create a new
node instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_HONORIFICS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "revd",
        "fr",
        "capt",
        "col",
        "gen",
    ]
)
_PERSON_SUFFIXES = frozenset(
    ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "dds", "mba", "msc", "bsc", "obe", "mbe"]
)
_ORG_SUFFIXES = frozenset(
    [
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "corp",
        "corporation",
        "co",
    ]
)
_ACRONYM_STOPWORDS = frozenset(["of", "and", "the", "for", "in", "on", "at", "to"])
_ACRONYM_KINDS = frozenset({"organisation", "topic"})
# Letters NFKD does not decompose into base letter + accent.
_FOLD = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"})
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[\W_]+")
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,8}$")


def fold(text: str) -> str:
    """Case-fold and strip diacritics; "Müller" -> "muller", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tokens(text: str) -> list[str]:
    text = _APOSTROPHES.sub("", fold(text).replace("&", " and "))
    return [t for t in _NON_WORD.split(text) if t]


def _reorder_surname_first(name: str) -> str:
    """ "Smith, Jane" -> "Jane Smith"; "Jane Smith, PhD" is left alone."""
    head, sep, tail = name.partition(",")
    if not sep or "," in tail:
        return name
    tail_tokens = _tokens(tail)
    if not tail_tokens or all(t in _PERSON_SUFFIXES for t in tail_tokens):
        return name
    return f"{tail} {head}"


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as tokens, titles and suffixes removed."""

    tokens: tuple[str, ...]
    titled: bool

    @property
    def key(self) -> str:
        return " ".join(self.tokens)


def parse_person(name: str) -> PersonName:
    """Split a person's name into normalised tokens, dropping titles and suffixes."""
    tokens = _tokens(_reorder_surname_first(name))
    titled = False
    core = list(tokens)
    while len(core) > 1 and core[0] in _HONORIFICS:
        core.pop(0)
        titled = True
    while len(core) > 1 and core[-1] in _PERSON_SUFFIXES:
        core.pop()
    return PersonName(tuple(core), titled)


def normalise_name(name: str, kind: str) -> str:
    """The key a concept is stored under: one node per (owner, kind, key)."""
    if kind == "person":
        return parse_person(name).key
    tokens = _tokens(name)
    if kind == "organisation":
        while len(tokens) > 1 and tokens[-1] in _ORG_SUFFIXES:
            tokens.pop()
        if len(tokens) > 1 and tokens[-1] == "and":  # "Smith & Co." -> "smith"
            tokens.pop()
    return " ".join(tokens) if tokens else fold(name).strip()


def _acronym_of(name: str) -> str | None:
    """Initials of a multi-word name ("International Business Machines" -> "ibm")."""
    words = [t for t in _tokens(name) if t not in _ACRONYM_STOPWORDS and t not in _ORG_SUFFIXES]
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def _as_acronym(name: str) -> str | None:
    """ "IBM" / "I.B.M." -> "ibm"; None unless written as an upper-case acronym."""
    compact = name.strip()
    return compact.replace(".", "").lower() if _ACRONYM.match(compact) else None


def match_key(name: str, kind: str) -> str | None:
    """A coarse key that finds near-duplicate candidates (surname or acronym)."""
    if kind == "person":
        tokens = parse_person(name).tokens
        return tokens[-1] if tokens else None
    if kind in _ACRONYM_KINDS:
        return _as_acronym(name) or _acronym_of(name)
    return None


def _given_compatible(a: str, b: str) -> bool:
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def persons_match(a: PersonName, b: PersonName) -> bool:
    """Could ``a`` and ``b`` name the same person? (initials, middle names, titles)."""
    if not a.tokens or not b.tokens:
        return False
    if a.tokens == b.tokens:
        return True
    if len(a.tokens) == 1 or len(b.tokens) == 1:
        short, long = (a, b) if len(a.tokens) == 1 else (b, a)
        # "Dr. Smith" is a surname; a bare "Smith" could be anyone's first name.
        return short.titled and len(long.tokens) >= 2 and short.tokens[0] == long.tokens[-1]
    if a.tokens[-1] != b.tokens[-1] or len(a.tokens[-1]) == 1:
        return False
    given_a, given_b = a.tokens[:-1], b.tokens[:-1]
    if not _given_compatible(given_a[0], given_b[0]):
        return False
    middle_a, middle_b = given_a[1:], given_b[1:]
    if middle_a and middle_b:
        return len(middle_a) == len(middle_b) and all(
            _given_compatible(x, y) for x, y in zip(middle_a, middle_b, strict=True)
        )
    return True


def names_match(a: str, b: str, kind: str) -> bool:
    """Near-duplicate test between two display names of the same kind."""
    if normalise_name(a, kind) == normalise_name(b, kind):
        return True
    if kind == "person":
        return persons_match(parse_person(a), parse_person(b))
    if kind in _ACRONYM_KINDS:
        short_a, short_b = _as_acronym(a), _as_acronym(b)
        return (short_a is not None and short_a == _acronym_of(b)) or (
            short_b is not None and short_b == _acronym_of(a)
        )
    return False


def specificity(name: str, kind: str) -> tuple[int, int]:
    """Higher is a fuller name: "Jane Smith" beats "J. Smith"; IBM's long form beats "IBM"."""
    tokens = parse_person(name).tokens if kind == "person" else tuple(_tokens(name))
    return sum(1 for t in tokens if len(t) > 1), len(tokens)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An existing concept of the owner, as far as matching needs it."""

    id: uuid.UUID
    name: str
    normalized_name: str
    aliases: tuple[str, ...] = ()
    normalized_aliases: tuple[str, ...] = ()


def choose_concept(
    name: str, aliases: Iterable[str], kind: str, candidates: Sequence[Candidate]
) -> Candidate | None:
    """The one existing concept a mention names, or None (new concept).

    Order: exact key of the name; the name among a concept's aliases; one of
    the mention's aliases; then near-duplicates. A step that fits several
    concepts is ambiguous and does not merge.
    """
    key = normalise_name(name, kind)
    alias_keys = {normalise_name(a, kind) for a in aliases} - {key}
    steps = (
        lambda c: c.normalized_name == key,
        lambda c: key in c.normalized_aliases,
        lambda c: c.normalized_name in alias_keys or bool(alias_keys & set(c.normalized_aliases)),
        lambda c: any(names_match(name, known, kind) for known in (c.name, *c.aliases)),
    )
    for fits in steps:
        found = {c.id: c for c in candidates if fits(c)}
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            return None
    return None
