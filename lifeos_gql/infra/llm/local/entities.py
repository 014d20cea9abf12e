"""Rule-based named-entity extraction for English captures.

No statistical model ships on PyPI under the spaCy names (``en-core-web-sm``
is not installable by name), and nothing may be downloaded at run time, so
this is a principled rule set rather than a trained tagger:

* candidates are runs of capitalised words in a sentence, allowing name
  particles ("University of Cambridge", "van der Berg"), initials ("J. K.
  Rowling") and honorifics ("Dr. Patel");
* the ambiguous first word of a sentence is dropped when it is a function word
  or verb, and a lone sentence-initial word is kept only if it is capitalised
  elsewhere too;
* a candidate is typed by evidence, strongest first: event heads
  ("Summit"), organisation suffixes and heads ("Inc", "University"), place
  heads ("Street", "Airport"), honorifics, work cues ("reading X", quoted
  titles), place prepositions ("in X", "moved to X"), person verbs ("X
  said"); an unmarked run of two to four title-case words is a person;
* short names are merged into full ones as aliases ("Sarah" into "Sarah
  Chen", "Dr. Patel" into "Priya Patel", "AR" into "Acme Robotics").

Limits, honestly: no gazetteer, so a bare single name without any cue
("Berlin was lovely") is only kept when repeated, and then as a topic;
lower-case names, all-caps text and non-Latin scripts yield few entities; a
title-case product or book name without a cue can be mistaken for a person.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from lifeos_gql.infra.llm.local.dates import MONTH_WORDS, WEEKDAY_WORDS
from lifeos_gql.infra.llm.local.text import STOPWORDS, Token, word_set
from lifeos_gql.infra.llm.types import ConceptKind

HONORIFICS = word_set(
    """
    mr mrs ms mx miss dr prof professor sir dame lord lady rev fr capt col gen sen rep gov
    judge aunt uncle
    """
)
LEGAL_SUFFIXES = word_set(
    "inc incorporated ltd limited llc llp corp corporation gmbh ag sa sas bv nv plc pty co"
)
ORG_HEADS = word_set(
    """
    university college institute foundation bank group labs lab agency ministry department
    council association society trust hospital school academy partners capital ventures
    technologies technology systems robotics airlines airways press committee commission
    club church bureau authority federation union party studios studio media pharmaceuticals
    software solutions consulting holdings industries motors energy network services records
    publishing books fund office centre center organisation organization company enterprises
    team clinic court parliament senate police army navy
    """
)
PLACE_HEADS = word_set(
    """
    street st road rd avenue ave lane boulevard blvd park river lake mount mountain
    mountains city county island islands bay beach airport station square bridge valley hill
    hills heights harbour harbor coast province republic kingdom museum hotel cafe café
    restaurant pub market gardens palace castle cathedral tower stadium arena campus village
    town peninsula desert forest falls canyon sea ocean gulf district quarter
    """
)
PLACE_PREFIXES = word_set("lake mount mt port fort cape")
EVENT_HEADS = word_set(
    """
    conference summit festival expo olympics cup championship championships hackathon meetup
    congress symposium workshop marathon fair gala election war awards retreat offsite
    wedding
    """
)
HOLIDAYS = word_set("christmas easter thanksgiving ramadan diwali hanukkah halloween passover eid")
PARTICLES = word_set("of for de van von der den du la le del da di y & the")
ROLE_WORDS = word_set(
    """
    ceo cto cfo coo cmo vp svp evp director manager president head founder cofounder
    co-founder chair chairman chairwoman professor lead
    """
)
COMMON_ACRONYMS = word_set(
    """
    ai ml api ceo cto cfo coo cmo vp svp hr pr pdf url fyi asap todo eta ok tv pm am usb ui
    ux kpi okr okrs roi q1 q2 q3 q4 sql csv json html css it qa rsvp dm eod imo btw nb ps id
    ip os gb mb kb tb cpu gpu ram ssd llm llms nlp faq tbd diy pto ooo wfh aka mvp saas b2b
    b2c i
    """
)
PERSON_VERBS = word_set(
    """
    said says told asked thinks thought wrote mentioned replied suggested emailed called
    texted agreed wants promised recommended explained shared noted argued believes believed
    feels felt joined left presented introduced proposed warned reminded laughed smiled
    """
)
PERSON_CUES_BEFORE = word_set(
    """
    with met meet meeting call called email emailed text texted ask asked thank thanked told
    tell cc by dear hi hey
    """
)
PLACE_CUES_BEFORE = word_set("in near around across throughout visit visited visiting")
MOVE_WORDS = word_set(
    """
    go goes went going fly flew flying flight move moved moving travel travelled traveled
    drive drove trip back train arrived relocated
    """
)
WORK_CUES_BEFORE = word_set(
    """
    read reading reread finished book novel watched watching film movie podcast album paper
    article essay documentary series show
    """
)
JOB_CUES_BEFORE = word_set("works worked working job joined join intern interning")
_COMMON_NOUN_ENDINGS = ("ing", "tion", "sion", "ment", "ness", "ity", "ism", "ics", "ogy", "ship")
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»"}


@dataclass
class Entity:
    """A named thing found in one document, with the evidence for its kind."""

    name: str
    kind: ConceptKind
    mentions: int = 1
    first_sentence: int = 0
    aliases: set[str] = field(default_factory=set)
    votes: Counter[ConceptKind] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Span:
    tokens: tuple[str, ...]
    honorific: str | None
    before: str  # lower-case word before the span ("" at sentence start)
    before2: str  # the word before that
    after: str  # lower-case word after the span
    quoted: bool
    sentence_initial: bool


def _is_cap(word: str) -> bool:
    first = word[:1]
    lower = word.lower()
    return (
        first.isupper()
        and lower not in MONTH_WORDS
        and lower not in WEEKDAY_WORDS
        and lower not in ("i", "i'm", "i've", "i'd", "i'll")
    )


def _gap_ok(sentence: str, end: int, start: int, previous: str) -> bool:
    gap = sentence[end:start]
    if not gap.strip():
        return True
    # "Dr. Patel", "J. K. Rowling": a dot after an honorific or initial joins.
    stripped = gap.strip()
    return stripped == "." and (
        previous.lower() in HONORIFICS or (len(previous) == 1 and previous.isupper())
    )


def _spans(sentence: str, tokens: list[Token]) -> list[_Span]:
    spans: list[_Span] = []
    index = 0
    while index < len(tokens):
        if not _is_cap(tokens[index].text):
            index += 1
            continue
        start = index
        end = index + 1
        while end < len(tokens):
            previous = tokens[end - 1]
            if not _gap_ok(
                sentence, previous.start + len(previous.text), tokens[end].start, previous.text
            ):
                break
            word = tokens[end].text
            if _is_cap(word):
                end += 1
                continue
            # A particle joins only when a capitalised word follows it.
            look = end
            while look < len(tokens) and tokens[look].lower in PARTICLES:
                look += 1
            if look > end and look < len(tokens) and _is_cap(tokens[look].text):
                end = look + 1
                continue
            break
        spans.extend(_make_span(sentence, tokens, start, end))
        index = end
    return spans


def _make_span(sentence: str, tokens: list[Token], start: int, end: int) -> list[_Span]:
    words = [token.text for token in tokens[start:end]]
    honorific: str | None = None
    initial = start == 0
    # Drop role words ("CEO of Acme") and a function word or verb opening a sentence.
    while words and (
        words[0].lower() in ROLE_WORDS
        or words[0].lower() in PARTICLES
        or (initial and words[0].lower() in STOPWORDS)
    ):
        if words[0].lower() in ROLE_WORDS or words[0].lower() in STOPWORDS:
            initial = False
        words.pop(0)
        start += 1
    if words and words[0].lower().rstrip(".") in HONORIFICS and len(words) > 1:
        honorific = words.pop(0)
        start += 1
        initial = False
    while words and words[-1].lower() in PARTICLES:
        words.pop()
        end -= 1
    if not words:
        return []
    words = [_strip_possessive(word) for word in words]
    before = tokens[start - 1].lower if start > 0 else ""
    if honorific:
        before = tokens[start - 2].lower if start > 1 else ""
    before2 = tokens[start - 2].lower if start > 1 else ""
    after = tokens[end].lower if end < len(tokens) else ""
    first_char = tokens[start].start
    last = tokens[end - 1]
    opening = sentence[first_char - 1 : first_char] if first_char > 0 else ""
    closing_at = last.start + len(last.text)
    quoted = opening in _QUOTES and sentence[closing_at : closing_at + 1] == _QUOTES[opening]
    return [_Span(tuple(words), honorific, before, before2, after, quoted, initial)]


def _strip_possessive(word: str) -> str:
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _classify(span: _Span) -> tuple[ConceptKind | None, int]:
    """(kind, strength of evidence) for a span; kind None when there is no evidence."""
    lowered = [word.lower().rstrip(".") for word in span.tokens]
    head, first = lowered[-1], lowered[0]
    if head in EVENT_HEADS or first in HOLIDAYS:
        return "event", 3
    if head in LEGAL_SUFFIXES and len(lowered) > 1:
        return "organisation", 3
    if any(word in ORG_HEADS for word in lowered):
        return "organisation", 3
    if head in PLACE_HEADS or (first in PLACE_PREFIXES and len(lowered) > 1):
        return "place", 3
    if span.honorific:
        return "person", 3
    if span.quoted or span.before in WORK_CUES_BEFORE:
        return "work", 2
    if span.before in PLACE_CUES_BEFORE or (span.before == "to" and span.before2 in MOVE_WORDS):
        return "place", 2
    if span.before in JOB_CUES_BEFORE or (span.before == "at" and span.before2 in JOB_CUES_BEFORE):
        return "organisation", 2
    if len(lowered) == 1 and span.tokens[0].isupper() and len(span.tokens[0]) > 1:
        return ("organisation", 1) if first not in COMMON_ACRONYMS else (None, 0)
    if span.after in PERSON_VERBS or span.before in PERSON_CUES_BEFORE:
        return "person", 2
    if any(word.endswith(_COMMON_NOUN_ENDINGS) for word in lowered):
        return "topic", 1
    if 2 <= len(lowered) <= 4 and all(_name_like(word) for word in span.tokens[1:]):
        return "person", 1
    return None, 0


def _name_like(word: str) -> bool:
    # Surnames are words ("Chen", "O'Neil"), not letters or numbers ("Series B", "Round 2").
    return len(word) > 1 and word[:1].isupper() and word.replace("'", "").replace("-", "").isalpha()


def _canonical(span: _Span, kind: ConceptKind) -> tuple[str, set[str]]:
    name = " ".join(span.tokens)
    aliases: set[str] = set()
    if kind == "organisation" and span.tokens[-1].lower().rstrip(".") in LEGAL_SUFFIXES:
        stripped = " ".join(span.tokens[:-1]).rstrip(",")
        if stripped:
            aliases.add(name)
            name = stripped
    if span.honorific:
        aliases.add(f"{span.honorific.rstrip('.')}. {name}")
    return name, aliases


def extract_entities(sentences: list[tuple[str, list[Token]]], *, english: bool) -> list[Entity]:
    """Typed named entities of a document, most mentioned first.

    For non-English text only spans with explicit cues are kept: German, for
    one, capitalises every noun, so bare capitalisation means nothing there.
    """
    found: dict[str, Entity] = {}
    cap_elsewhere: Counter[str] = Counter()
    pending: list[tuple[int, _Span]] = []
    for number, (sentence, tokens) in enumerate(sentences):
        for span in _spans(sentence, tokens):
            if not span.sentence_initial:
                cap_elsewhere[" ".join(span.tokens).lower()] += 1
            pending.append((number, span))
    unclassified: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for number, span in pending:
        kind, strength = _classify(span)
        if not english and strength < 2:
            continue
        key = " ".join(span.tokens).lower()
        lone_initial = span.sentence_initial and len(span.tokens) == 1 and strength < 2
        if lone_initial and cap_elsewhere[key] == 0:
            continue
        if kind is None:
            unclassified[" ".join(span.tokens)] += 1
            first_seen.setdefault(" ".join(span.tokens), number)
            continue
        name, aliases = _canonical(span, kind)
        entity = found.get(name.casefold())
        if entity is None:
            entity = found[name.casefold()] = Entity(name, kind, 0, number)
        entity.mentions += 1
        entity.aliases |= aliases
        entity.votes[kind] += strength
    for name, count in sorted(unclassified.items()):
        known = found.get(name.casefold())
        if known is not None:
            known.mentions += count
        elif count >= 2:
            found[name.casefold()] = Entity(name, "topic", count, first_seen[name])
    for entity in found.values():
        if entity.votes:
            entity.kind = max(sorted(entity.votes), key=lambda kind: entity.votes[kind])
    merged = _merge_short_names(list(found.values()))
    return sorted(merged, key=lambda entity: (-entity.mentions, entity.first_sentence, entity.name))


def _merge_short_names(entities: list[Entity]) -> list[Entity]:
    """Fold "Sarah" / "Dr. Patel" into "Sarah Chen" / "Priya Patel", and acronyms into orgs."""
    people = [entity for entity in entities if entity.kind == "person" and " " in entity.name]
    orgs = [entity for entity in entities if entity.kind == "organisation" and " " in entity.name]
    by_part: dict[str, list[Entity]] = defaultdict(list)
    for person in people:
        parts = person.name.split()
        for part in {parts[0], parts[-1]}:
            by_part[part.casefold()].append(person)
    by_initials: dict[str, list[Entity]] = defaultdict(list)
    for org in orgs:
        initials = "".join(word[0] for word in org.name.split() if word.lower() not in PARTICLES)
        by_initials[initials.casefold()].append(org)
    kept: list[Entity] = []
    for entity in entities:
        target: Entity | None = None
        key = entity.name.casefold()
        if " " not in entity.name and entity.kind in ("person", "topic", "organisation"):
            people_match = by_part.get(key, [])
            org_match = by_initials.get(key, []) if entity.name.isupper() else []
            if len(people_match) == 1 and entity.kind != "organisation":
                target = people_match[0]
            elif len(org_match) == 1:
                target = org_match[0]
        if target is None or target is entity:
            kept.append(entity)
            continue
        target.mentions += entity.mentions
        target.first_sentence = min(target.first_sentence, entity.first_sentence)
        target.aliases |= {entity.name, *entity.aliases}
    for entity in kept:
        entity.aliases = {
            alias for alias in entity.aliases if alias.casefold() != entity.name.casefold()
        }
    return kept
